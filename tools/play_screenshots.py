"""Screenshots of the playground for the docs, taken with the same headless Chromium as the
browser tests: the default page, the page mid-training, and the equation view.

    python tools/play_screenshots.py [--out docs/images]

Needs Debian's chromium and chromium-driver and the selenium package.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

TRAINING = ("data=spirals&layers=8,6&activations=tanh,tanh&features=x,y,x2,y2,sinx,siny"
            "&optimizer=adam&lr=0.03&playing=1")

# the page's modules load asynchronously: its state is there once main.js has run
SESSION_READY = "return window.playground !== undefined && playground.state.session !== null;"


def take(driver, url: str, out: Path) -> list[Path]:
    """Drive ``driver`` through the three views at ``url``; return the PNGs written."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    out.mkdir(parents=True, exist_ok=True)
    written = []

    def settle(epochs: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = driver.find_element(By.ID, "epoch").text
            if driver.execute_script(SESSION_READY) and \
                    int(text or 0) >= epochs:
                return
            time.sleep(0.1)

    driver.get(url + "#playing=0")
    driver.refresh()
    settle(0)
    time.sleep(0.5)
    written.append(out / "play-default.png")
    driver.save_screenshot(str(written[-1]))
    driver.get(url + "#" + TRAINING)
    driver.refresh()
    settle(60)
    driver.find_element(By.ID, "play").click()
    time.sleep(0.5)
    written.append(out / "play-training.png")
    driver.save_screenshot(str(written[-1]))
    neuron = driver.find_element(By.CSS_SELECTOR, 'canvas[data-layer="0"][data-unit="1"]')
    ActionChains(driver).move_to_element(neuron).perform()
    time.sleep(0.8)
    driver.execute_script("document.getElementById('equation-panel').scrollIntoView();")
    written.append(out / "play-equations.png")
    driver.save_screenshot(str(written[-1]))
    return written


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    arguments = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "nnscratch", "play", "--port", "0",
                               "--no-browser"], stdout=subprocess.PIPE, text=True)
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--window-size=1300,1150"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        url = server.stdout.readline().strip()
        for path in take(driver, url, arguments.out):
            print(path)
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


if __name__ == "__main__":
    main()
