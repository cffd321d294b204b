"""The playground page in a real browser: headless Chromium driven by Selenium.

It loads the page from a URL hash that starts training, watches the loss fall and the boundary
change, hovers a neuron and checks the numbers of its equation against nnscratch computed here
in Python from the exported model, and checks that the browser asked nothing of any server but
the local one. Needs Debian's chromium and chromium-driver (.ci/run installs them) and the
selenium package; without them the test is skipped, unless NNSCRATCH_REQUIRE_BROWSER=1 (set by
.ci/run), where it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.play.engine import Playground, Settings, features_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
# the page's modules load asynchronously: its state is there once main.js has run
SESSION_READY = "return window.playground !== undefined && playground.state.session !== null;"
HASH = ("data=xor&layers=4&activations=tanh&features=x,y,xy&lr=0.1&optimizer=sgd"
        "&batch_size=10&seed=2&playing=1")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed"
    if CHROMIUM is None or DRIVER is None:
        return "chromium and chromium-driver are not installed (apt install chromium " \
               "chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("NNSCRATCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run here, but {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--window-size=1300,1400", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-default-apps"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page_url():
    """`nnscratch play` as a user starts it; its first line is the page's URL."""
    server = subprocess.Popen([sys.executable, "-m", "nnscratch", "play", "--port", "0",
                               "--no-browser"], stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def wait_for(condition, timeout: float = 60.0, what: str = "the page"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def boundary_pixels(driver) -> list[int]:
    return driver.execute_script(
        "const c = document.getElementById('boundary');"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".filter((_, i) => i % 97 === 0));")


def test_the_page_trains_from_its_url_and_shows_the_real_numbers(browser, page_url, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(page_url + "#" + HASH)

    def epoch() -> int:
        return int(driver.find_element(By.ID, "epoch").text or 0)

    wait_for(lambda: epoch() >= 1, what="the first epoch")
    first_loss = float(driver.find_element(By.ID, "loss").text)
    first_boundary = boundary_pixels(driver)
    wait_for(lambda: epoch() >= 40, what="40 epochs of training")
    driver.find_element(By.ID, "play").click()  # pause
    wait_for(lambda: driver.find_element(By.ID, "play").text == "play", what="pause")
    time.sleep(0.5)  # the last step in flight lands
    assert float(driver.find_element(By.ID, "loss").text) < first_loss
    assert boundary_pixels(driver) != first_boundary
    assert "playing=0" in driver.current_url and "data=xor" in driver.current_url

    # hover a neuron: its forward equation, with this step's numbers
    neuron = driver.find_element(By.CSS_SELECTOR, 'canvas[data-layer="0"][data-unit="2"]')
    ActionChains(driver).move_to_element(neuron).perform()
    shown = wait_for(lambda: {element.get_attribute("data-name"): element.text for element in
                              driver.find_elements(By.CSS_SELECTOR, "#equations .value")},
                     what="the neuron's equations")
    session = driver.execute_script("return playground.state.session;")
    settings = driver.execute_script("return playground.state.settings;")
    with urllib.request.urlopen(f"{page_url}api/export?session={session}&format=npz") as reply:
        (tmp_path / "model.npz").write_bytes(reply.read())
    network = ns.load(tmp_path / "model.npz")
    playground = Playground(Settings.from_dict(settings))  # the same points and split
    x = features_of(playground.points[playground.train_rows[:1]], settings["features"])[0]
    W, b = network.layers[0].params["W"], network.layers[0].params["b"]
    z = float(x @ W[:, 2] + b[2])
    assert float(shown["z"]) == pytest.approx(z, rel=2e-3, abs=1e-4)
    assert float(shown["a"]) == pytest.approx(np.tanh(z), rel=2e-3, abs=1e-4)
    assert float(shown["b"]) == pytest.approx(float(b[2]), rel=2e-3, abs=1e-4)
    for index in range(3):
        assert float(shown[f"w{index}"]) == pytest.approx(float(W[index, 2]), rel=2e-3,
                                                          abs=1e-4)
        assert float(shown[f"a{index}"]) == pytest.approx(float(x[index]), rel=2e-3, abs=1e-4)

    # nothing was asked of any server but this one
    requested = [json.loads(entry["message"])["message"]["params"]["request"]["url"]
                 for entry in driver.get_log("performance")
                 if '"Network.requestWillBeSent"' in entry["message"]]
    assert len(requested) > 5
    outside = [url for url in requested
               if not url.startswith(page_url) and not url.startswith("data:")]
    assert outside == []


def test_a_teacher_can_hide_panels_from_the_url(browser, page_url):
    from selenium.webdriver.common.by import By

    browser.get(page_url + "#data=circles&hide=data,code&playing=0")
    browser.refresh()
    wait_for(lambda: browser.execute_script(SESSION_READY),
             what="the session")
    assert not browser.find_element(By.ID, "data-panel").is_displayed()
    assert not browser.find_element(By.ID, "code-panel").is_displayed()
    assert browser.find_element(By.ID, "network-panel").is_displayed()


def test_screenshot_script_runs(browser, page_url, tmp_path):
    """tools/play_screenshots.py (the docs' pictures) draws its three views."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import play_screenshots

    written = play_screenshots.take(browser, page_url, tmp_path)
    assert [path.name for path in written] == ["play-default.png", "play-training.png",
                                               "play-equations.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in written)


def test_the_url_hash_round_trips_and_a_link_shows_its_weight_equation(browser, page_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    given = {"data": "moons", "noise": "0.2", "n_points": "120", "test_ratio": "0.25",
             "classes": "2", "seed": "7", "layers": "3,2", "activations": "relu,sigmoid",
             "loss": "mse", "optimizer": "momentum", "lr": "0.3", "batch_size": "0",
             "l2": "0.001", "dropout": "0.1", "features": "x,y,sinx", "playing": "0"}
    browser.get(page_url + "#" + "&".join(f"{key}={value}" for key, value in given.items()))
    browser.refresh()
    wait_for(lambda: browser.execute_script(SESSION_READY),
             what="the session")
    settings = browser.execute_script("return playground.state.settings;")
    assert settings["activations"] == ["relu", "sigmoid"] and settings["seed"] == 7
    assert settings["features"] == ["x", "y", "sinx"] and settings["batch_size"] == 0
    written = dict(item.split("=", 1) for item in
                   browser.execute_script("return location.hash.slice(1);").split("&"))
    assert {key: written[key].replace("%2C", ",") for key in given} == given
    # a point of the link that the pointer reaches (not under a neuron or a control)
    point = wait_for(lambda: browser.execute_script("""
        const line = document.querySelector(
            '#links line.hit[data-layer="1"][data-input="2"][data-unit="1"]');
        if (!line) return null;
        const box = line.getBoundingClientRect();
        const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map((k) => line[k].baseVal.value);
        for (let t = 0.1; t < 0.95; t += 0.05) {
            const x = box.left + Math.abs(x2 - x1) * t;
            const y = box.top + (y2 >= y1 ? (y2 - y1) * t : box.height - (y1 - y2) * t);
            if (document.elementFromPoint(x, y) === line) return [Math.round(x), Math.round(y)];
        }
        return null;"""), what="a point on the link")
    actions = ActionChains(browser)
    actions.w3c_actions.pointer_action.move_to_location(*point)
    actions.perform()
    shown = wait_for(lambda: {element.get_attribute("data-name"): element.text for element in
                              browser.find_elements(By.CSS_SELECTOR, "#equations .value")
                              if element.get_attribute("data-name").startswith("link")},
                     what="the link's equation")
    weights = browser.execute_script("return playground.state.frame.weights[1].W;")
    assert float(shown["link_w"]) == pytest.approx(weights[2][1], rel=2e-3, abs=1e-4)
    lr = 0.3
    assert float(shown["link_new"]) == pytest.approx(
        float(shown["link_w"]) - lr * float(shown["link_grad"]), rel=2e-3, abs=2e-4)
