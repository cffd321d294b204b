"""The second process that draws a run's plots: the same files as drawing them in-process, and
whatever goes wrong with it, the plots are still drawn."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import needs_matplotlib

import nnscratch as ns
from nnscratch import _plot_worker
from nnscratch._plot_worker import PlotWorker
from nnscratch.callbacks import GradientNormRecorder
from nnscratch.runs import PlotInputs, RunRecord, draw_plots, plot_inputs, save_run

pytestmark = needs_matplotlib

PLOT_FILES_OF_A_CLASSIFIER = ("history.png", "confusion_matrix.png", "predictions.png",
                              "first_layer_weights.png", "gradient_norms.png")


@pytest.fixture(scope="module")
def trained():
    X, y, X_test, y_test = ns.datasets.load_digits()
    net = ns.MLP([64, 16, 10], seed=0)
    recorder = GradientNormRecorder(every=5)
    history = net.fit(X[:300], y[:300], loss="cross_entropy", epochs=3, seed=0, verbose=0,
                      callbacks=[recorder])
    return net, history, X_test[:120], y_test[:120], recorder.norms


def run_files(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_the_worker_draws_the_same_files_as_this_process(trained, tmp_path):
    net, history, X_test, y_test, norms = trained
    inputs = plot_inputs(RunRecord(net, history, {}, X_test, y_test, None, norms, True))
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    problems: list[str] = []
    draw_plots(here, inputs, problems)
    worker = PlotWorker()
    try:
        assert worker.submit(there, inputs)
        written = worker.result(problems)
    finally:
        worker.close()
    assert problems == []
    assert written is not None and {path.name for path in written} == set(PLOT_FILES_OF_A_CLASSIFIER)
    assert run_files(there) == run_files(here)  # byte for byte
    assert not worker.inputs_folder.exists()


def test_plot_inputs_go_through_files_unchanged(trained, tmp_path):
    net, history, X_test, y_test, norms = trained
    inputs = plot_inputs(RunRecord(net, history, {}, X_test, y_test, ["zero", *"123456789"], norms,
                                   True))
    inputs.save(tmp_path)
    loaded = PlotInputs.load(tmp_path)
    for name in ("history", "n_classes", "class_names", "gradient_norms", "is_image"):
        assert getattr(loaded, name) == getattr(inputs, name), name
    for name in PlotInputs.ARRAYS:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(inputs, name))


def break_the_inputs(self, folder):
    (folder / "arrays.npz").write_bytes(b"not an npz")  # the worker fails to read it
    (folder / "inputs.json").write_text("{}")


@pytest.mark.parametrize("failure", ["no temporary folder", "dead before the request",
                                     "fails on the request", "too slow"])
def test_whatever_happens_to_the_worker_the_run_has_its_plots(trained, tmp_path, monkeypatch,
                                                              failure):
    net, history, X_test, y_test, norms = trained
    if failure == "no temporary folder":
        def refuse(**options):
            raise OSError("no space left on device")

        monkeypatch.setattr(_plot_worker.tempfile, "mkdtemp", refuse)
    worker = PlotWorker()
    if failure == "dead before the request":
        worker.process.kill()
        worker.process.wait()
    elif failure == "fails on the request":
        monkeypatch.setattr(PlotInputs, "save", break_the_inputs)
    else:
        monkeypatch.setattr(_plot_worker, "TIMEOUT", 0.001)
    problems: list[str] = []
    try:
        run = RunRecord(net, history, {"command": "test"}, X_test, y_test,
                        gradient_norms=norms, images=True)
        written = save_run(tmp_path, run, problems=problems, plot_worker=worker)
    finally:
        worker.close()
    assert problems == []
    assert set(PLOT_FILES_OF_A_CLASSIFIER) <= {path.name for path in written}
    for name in PLOT_FILES_OF_A_CLASSIFIER:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert worker.process is None or worker.process.poll() is not None  # not left behind


def test_closing_ends_a_waiting_worker():
    worker = PlotWorker()
    assert worker.process.poll() is None
    worker.close()
    assert worker.process.poll() is not None
    assert not worker.inputs_folder.exists()


def test_the_worker_can_be_switched_off(tmp_path, monkeypatch):
    from nnscratch.cli import main

    def refuse():
        raise AssertionError("no worker should start")

    monkeypatch.setattr("nnscratch.cli.train.PlotWorker", refuse)
    monkeypatch.setenv("NNSCRATCH_PLOT_WORKER", "0")
    assert main(["train", "--epochs", "2", "--verbose", "0", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "history.png").is_file()  # drawn by this process
