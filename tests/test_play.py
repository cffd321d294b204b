"""The playground: its engine (data, training, frames, equations) and its server's API and
security rules. The page itself is tested in a real browser in test_play_browser.py."""

from __future__ import annotations

import http.client
import json
import re
import threading
from importlib import resources

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.play.engine import (
    DATA_SETS,
    FEATURES,
    Playground,
    Settings,
    SettingsError,
    features_of,
    grid_points,
    make_points,
)
from nnscratch.play.server import MAX_BODY, MAX_SESSIONS, PlayServer

# ---- the engine ------------------------------------------------------------------------------


@pytest.mark.parametrize("data", DATA_SETS)
def test_every_data_set_is_seeded_and_in_the_plane(data):
    settings = Settings(data=data, classes=3, n_points=200)
    points, labels = make_points(settings)
    again, labels_again = make_points(settings)
    assert np.array_equal(points, again) and np.array_equal(labels, labels_again)
    assert points.shape == (200, 2) and np.abs(points).max() <= 6
    if data == "plane":
        assert labels.dtype.kind == "f"
    else:
        assert set(np.unique(labels)) == set(range(settings.n_classes))
    other, _ = make_points(Settings(data=data, classes=3, n_points=200, seed=1))
    assert not np.array_equal(points, other)


def test_the_same_settings_train_the_same_bit_for_bit():
    first, second = Playground(Settings()), Playground(Settings())
    first.step(5)
    second.step(3)
    second.step(2)
    for a, b in zip(first.network.get_weights(), second.network.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert first.history == second.history


@pytest.mark.parametrize("settings", [
    Settings(), Settings(data="xor", layers=[4], activations=["relu"], features=["xy"]),
    Settings(data="gaussians", classes=4, optimizer="adam", lr=0.01, batch_size=0),
    Settings(data="moons", loss="mse", optimizer="momentum", dropout=0.1, l2=0.001),
])
def test_training_lowers_the_loss(settings):
    playground = Playground(settings)
    before = playground.loss_on(playground.train_rows)
    playground.step(30)
    assert playground.history["loss"][-1] < before and playground.epoch == 30


def test_the_plane_is_a_regression_with_squared_error():
    playground = Playground(Settings(data="plane", loss="cross_entropy", layers=[3],
                                     activations=["tanh"], optimizer="adam", lr=0.03))
    assert playground.settings.loss == "mse" and playground.network.n_outputs == 1
    playground.step(40)
    assert playground.history["loss"][-1] < 0.01
    assert playground.snapshot()["boundary"]["kind"] == "value"


def test_a_frame_holds_the_boundary_neurons_and_weights():
    playground = Playground(Settings(layers=[3, 2], activations=["tanh", "relu"]))
    frame = playground.snapshot(grid=50, neuron_grid=20)
    assert len(frame["boundary"]["class"]) == 50 * 50 == len(frame["boundary"]["confidence"])
    assert [len(maps) for maps in frame["neurons"]] == [3, 2]
    assert all(len(single) == 20 * 20 for maps in frame["neurons"] for single in maps)
    assert [np.array(layer["W"]).shape for layer in frame["weights"]] == [(2, 3), (3, 2),
                                                                         (2, 2)]
    # the boundary is the network's own prediction on the grid
    grid = grid_points(50)
    predicted = playground.network.predict(features_of(grid, ["x", "y"]))
    assert frame["boundary"]["class"] == predicted.tolist()
    # a neuron's map is its activation: first hidden unit, tanh mapped from [-1, 1]
    dense = playground.network.layers[0]
    activation = np.tanh(features_of(grid_points(20), ["x", "y"]) @ dense.params["W"][:, 0]
                         + dense.params["b"][0])
    expected = np.round((activation + 1) / 2 * 255)
    assert np.abs(np.array(frame["neurons"][0][0]) - expected).max() <= 1


def test_explain_gives_a_neurons_equations_with_the_numbers_of_one_sgd_step():
    settings = Settings(layers=[3], activations=["tanh"], optimizer="sgd", lr=0.1,
                        batch_size=1)
    playground = Playground(settings)
    playground.step(2)
    e = playground.explain(layer=0, unit=1)
    W, b = (playground.network.layers[0].params[key] for key in ("W", "b"))
    x = features_of(playground.points[playground.train_rows[:1]], settings.features)[0]
    assert e["z"] == pytest.approx(x @ W[:, 1] + b[1], rel=1e-12)
    assert e["a"] == pytest.approx(np.tanh(e["z"]), rel=1e-12)
    # the step itself: one SGD step on that point changes W[:, 1] by exactly -lr dL/dW
    row = playground.train_rows[:1]
    copy = playground.network.copy()
    copy.train_on_batch(playground.inputs(row), playground.targets(row), loss="cross_entropy",
                        optimizer=ns.SGD(lr=0.1))
    np.testing.assert_allclose(copy.layers[0].params["W"][:, 1], e["new_weights"], rtol=1e-10)
    assert copy.layers[0].params["b"][1] == pytest.approx(e["new_bias"], rel=1e-10)
    np.testing.assert_allclose(e["grad_weights"], np.array(e["inputs"]) * e["grad_z"])


@pytest.mark.parametrize("changes, message", [
    ({"data": "mnist"}, "data must be one of"),
    ({"layers": [4, 9]}, "layer size must be a whole number in"),
    ({"layers": [4], "activations": []}, "one activation per hidden layer"),
    ({"lr": float("nan")}, "lr must be a number"),
    ({"lr": True}, "lr must be a number"),
    ({"n_points": 10**6}, "n_points must be a whole number in"),
    ({"features": []}, "features must be a non-empty list"),
    ({"features": ["x", "x"]}, "features must be a non-empty list"),
    ({"colour": "red"}, "unknown settings"),
])
def test_settings_from_the_page_are_checked(changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_dict({**Settings().to_dict(), **changes})


# ---- the server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    play = PlayServer("127.0.0.1", 0)
    thread = threading.Thread(target=play.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield play
    play.shutdown()
    play.server_close()


def request(server, method, path, body=None, headers=None, raw=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=20)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    sent = {"Host": f"127.0.0.1:{server.server_address[1]}"}
    if data is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


MODULES = ("main.js", "config.js", "state.js", "api.js", "session.js", "controls.js", "draw.js",
           "equations.js")


def test_the_page_and_only_its_own_files_are_served(server):
    response, page = request(server, "GET", "/")
    assert response.status == 200 and b'<script type="module" src="main.js"></script>' in page
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    for path in (*(f"/{name}" for name in MODULES), "/style.css"):
        response, body = request(server, "GET", path)
        assert response.status == 200, path
        if path.endswith(".js"):  # a module must come as JavaScript, or the browser refuses it
            assert response.getheader("Content-Type").startswith("text/javascript")
            imported = re.findall(rb'from "\./([a-z]+\.js)"', body)
            assert set(imported) <= {name.encode() for name in MODULES}, path
    for path in ("/../engine.py", "/static/main.js", "/%2e%2e/server.py", "/etc/passwd",
                 "/main.js/../../server.py", "/app.js"):
        assert request(server, "GET", path)[0].status == 404, path


def test_the_page_takes_its_defaults_choices_and_limits_from_the_engine(server):
    """GET /api/config: what the menus offer is what Settings accepts, and the defaults are
    Settings' own; the page's modules hold none of them."""
    response, body = request(server, "GET", "/api/config")
    config = json.loads(body)
    assert response.status == 200 and config["defaults"] == Settings().to_dict()
    for name, values in (("activations", ["tanh"]), ("optimizers", "sgd"), ("losses", "mse")):
        for choice in config[name]:
            field = {"activations": "activations", "optimizers": "optimizer",
                     "losses": "loss"}[name]
            Settings.from_dict({field: [choice] if isinstance(values, list) else choice,
                                **({"layers": [2]} if field == "activations" else {})})
    for choice in config["learning_rates"]:
        Settings.from_dict({"lr": choice})
    for data in config["data_sets"]:
        Settings.from_dict({"data": data})
    low, high = config["points"]
    Settings.from_dict({"n_points": high})
    for too_far in ({"n_points": high + 1}, {"n_points": low - 1},
                    {"classes": config["classes"][1] + 1},
                    {"layers": [2] * (config["max_layers"] + 1),
                     "activations": ["tanh"] * (config["max_layers"] + 1)},
                    {"layers": [config["max_units"] + 1], "activations": ["tanh"]},
                    {"test_ratio": config["test_ratio"][1] + 0.05}):
        with pytest.raises(SettingsError):
            Settings.from_dict(too_far)
    assert {feature["name"] for feature in config["features"]} == set(FEATURES)
    assert all(len(feature["map"]) == config["feature_grid"] ** 2
               for feature in config["features"])
    static = resources.files("nnscratch.play").joinpath("static")
    pages = "".join(static.joinpath(name).read_text() for name in MODULES)
    for literal in (r"\b0\.03\b", r"\b2000\b", r"\bsinx\b", r"Math\.sin", r"\[4, 2\]",
                    r'"circles"', r"\b0\.9\b"):
        assert not re.search(literal, pages), literal


OWN_POINTS = [[1.5, 1.25, 0], [-1.0, -1.5, 0], [1.0, -1.0, 1], [-1.25, 1.0, 1]] * 4


@pytest.mark.parametrize("settings, points", [
    ({"data": "spirals", "classes": 3, "layers": [5, 3], "activations": ["relu", "sigmoid"],
      "optimizer": "momentum", "dropout": 0.1, "seed": 4}, None),
    ({"data": "plane", "test_ratio": 0.0, "optimizer": "adam", "batch_size": 0}, None),
    ({"data": "xor", "layers": [3], "activations": ["tanh"], "test_ratio": 0.25}, OWN_POINTS),
])
def test_the_code_panel_runs_and_trains_the_pages_network(server, settings, points):
    """The Python the page shows builds the network with nnscratch, trains it on the page's
    points (the set's, or its own) and uses all it builds: run here, it ends on the weights
    the page has at that epoch, bit for bit."""
    _, body = request(server, "POST", "/api/session",
                      {"settings": settings, **({"points": points} if points else {})})
    created = json.loads(body)
    code = created["code"]["python"].replace("epochs=100", "epochs=6")
    assert "epochs=6" in code and "nnscratch train --data playground.csv" in \
        created["code"]["cli"]
    scope: dict = {}
    exec(compile(code, "the code panel", "exec"), scope)  # noqa: S102 - our own snippet
    request(server, "POST", "/api/step", {"session": created["session"], "epochs": 6})
    if points:
        table = np.array(points, dtype=np.float64)
        expected = Playground(Settings.from_dict(settings), table[:, :2],
                              table[:, 2].astype(np.int64))
    else:
        expected = Playground(Settings.from_dict(settings))
    expected.step(2)
    expected.step(4)
    for mine, theirs in zip(scope["net"].get_weights(), expected.network.get_weights(),
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_a_session_steps_explains_and_exports(server, tmp_path):
    settings = {"data": "xor", "layers": [4], "activations": ["tanh"], "seed": 3,
                "features": ["x", "y", "xy"]}
    response, body = request(server, "POST", "/api/session", {"settings": settings})
    created = json.loads(body)
    assert response.status == 200 and created["epoch"] == 0
    assert created["settings"]["seed"] == 3 and len(created["points"]) == 300
    expected = Playground(Settings.from_dict(settings))
    np.testing.assert_allclose(created["points"], expected.points.round(4))
    _, body = request(server, "POST", "/api/step", {"session": created["session"], "epochs": 5})
    frame = json.loads(body)
    expected.step(5)
    assert frame["epoch"] == 5 and frame["loss"] == pytest.approx(expected.history["loss"][-1])
    _, body = request(server, "POST", "/api/explain",
                      {"session": created["session"], "layer": 0, "unit": 2, "sample": 0})
    assert json.loads(body)["z"] == pytest.approx(expected.explain(0, 2)["z"])
    for kind in ("npz", "safetensors"):
        response, model = request(server, "GET",
                                  f"/api/export?session={created['session']}&format={kind}")
        assert response.status == 200 and "attachment" in response.getheader(
            "Content-Disposition")
        path = tmp_path / f"model.{kind}"
        path.write_bytes(model)
        loaded = ns.load(path)
        for a, b in zip(loaded.get_weights(), expected.network.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_the_pages_own_points(server):
    points = [[1, 1, 0], [-1, -1, 0], [1, -1, 1], [-1, 1, 1]] * 5
    _, body = request(server, "POST", "/api/session",
                      {"settings": {"test_ratio": 0.0}, "points": points})
    answer = json.loads(body)
    assert answer["points"] == [p[:2] for p in points] and answer["labels"] == [p[2] for p in
                                                                                points]
    for bad in ([[0, 0, 7]] * 3, [[0, "x", 0]] * 3, [[0, 0]] * 3, [[0, 0, 0]]):
        response, body = request(server, "POST", "/api/session",
                                 {"settings": {}, "points": bad})
        assert response.status == 400 and "error" in json.loads(body)


@pytest.mark.parametrize("headers", [{"Host": "evil.example:80"},
                                     {"Host": "attacker.example"},
                                     {"Origin": "http://evil.example"}])
def test_requests_for_another_host_or_from_another_origin_are_refused(server, headers):
    """DNS rebinding: a page on evil.example that resolves its name to 127.0.0.1 sends
    Host: evil.example; a cross-site page sends its own Origin."""
    for method, path, body in (("GET", "/", None),
                               ("POST", "/api/session", {"settings": {}})):
        response, payload = request(server, method, path, body, headers=headers)
        assert response.status == 403 and (b"refused" in payload or b"addressed" in payload)


def test_the_page_s_own_origin_and_localhost_are_allowed(server):
    port = server.server_address[1]
    for headers in ({"Origin": f"http://127.0.0.1:{port}"}, {"Host": f"localhost:{port}"}):
        assert request(server, "POST", "/api/session", {"settings": {}},
                       headers=headers)[0].status == 200


def test_bodies_are_bounded_and_must_be_json(server):
    # the length is refused from the header, before any of the body is read (so none is sent:
    # sending it would race the server closing the connection)
    response, _ = request(server, "POST", "/api/session", raw=b"",
                          headers={"Content-Type": "application/json",
                                   "Content-Length": str(MAX_BODY + 1)})
    assert response.status == 413
    response, _ = request(server, "POST", "/api/session", raw=b"settings=1",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    response, _ = request(server, "POST", "/api/session", raw=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert response.status == 400
    response, _ = request(server, "POST", "/api/step", {"session": "nope", "epochs": 1})
    assert response.status == 404
    _, body = request(server, "POST", "/api/session", {"settings": {}})
    session = json.loads(body)["session"]
    response, _ = request(server, "POST", "/api/step", {"session": session, "epochs": 10**6})
    assert response.status == 400


def test_sessions_are_bounded(server):
    first = json.loads(request(server, "POST", "/api/session", {"settings": {}})[1])["session"]
    for _ in range(MAX_SESSIONS):
        request(server, "POST", "/api/session", {"settings": {"n_points": 10}})
    assert len(server.sessions) == MAX_SESSIONS
    assert request(server, "POST", "/api/step", {"session": first})[0].status == 404


# ---- the command ---------------------------------------------------------------------------


def test_play_refuses_a_busy_port_in_one_line(server, capsys):
    assert main(["play", "--port", str(server.server_address[1]), "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot listen on 127.0.0.1" in err and "--port 0" in err


def test_the_points_export_trains_with_the_command_line(server, tmp_path, capsys):
    settings = {"data": "gaussians", "classes": 3, "features": ["x", "y", "xy"]}
    session = json.loads(request(server, "POST", "/api/session",
                                 {"settings": settings})[1])["session"]
    response, body = request(server, "GET", f"/api/points.csv?session={session}")
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/csv")
    lines = body.decode().splitlines()
    assert lines[0] == "x,y,xy,label" and len(lines) == 301
    expected = Playground(Settings.from_dict(settings))
    first = [float(cell) for cell in lines[1].split(",")]
    np.testing.assert_allclose(first[:3], expected.inputs()[0], rtol=1e-5)
    assert first[3] == expected.labels[0]
    (tmp_path / "playground.csv").write_bytes(body)
    assert main(["train", "--data", str(tmp_path / "playground.csv"), "--layers", "4",
                 "--scale", "none", "--epochs", "20", "--verbose", "0", "--no-plots", "--out",
                 str(tmp_path / "run")]) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_a_preflight_from_another_site_gets_no_permission(server):
    """A page elsewhere that wants to POST JSON must ask first (CORS preflight); the server
    grants nothing: no Access-Control-Allow-Origin on any answer."""
    response, _ = request(server, "OPTIONS", "/api/session",
                          headers={"Origin": "http://evil.example",
                                   "Access-Control-Request-Method": "POST"})
    assert response.status >= 400 and response.getheader("Access-Control-Allow-Origin") is None
    response, _ = request(server, "POST", "/api/session", {"settings": {}})
    assert response.getheader("Access-Control-Allow-Origin") is None
