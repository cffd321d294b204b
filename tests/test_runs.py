"""Run folders (runs.py): complete or absent, never shared, never mixed, never lost to a plot."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.callbacks import History
from nnscratch.runs import RunFolder, RunFolderError, RunRecord, save_run

os.environ.setdefault("MPLBACKEND", "Agg")


def small_run():
    X, y = np.random.default_rng(0).random((40, 16)), np.arange(40) % 4
    net = ns.MLP([16, 8, 4], seed=0)
    history = net.fit(X, y, loss="cross_entropy", epochs=2)
    return net, history, X, y


def test_promise_a_run_appears_only_when_committed(tmp_path):
    net, history, X, y = small_run()
    folder = RunFolder(tmp_path / "run")
    assert not (tmp_path / "run").exists() and folder.path.name.startswith(".run.partial-")
    save_run(folder.path, RunRecord(net, history, {"epochs_run": 2}, X, y), plots=False)
    assert not (tmp_path / "run").exists()
    assert folder.commit() == tmp_path / "run"
    assert {p.name for p in tmp_path.iterdir()} == {"run"}
    assert ns.load(tmp_path / "run" / "model.npz").n_inputs == 16


def test_promise_two_runs_started_in_the_same_second_get_two_folders(tmp_path):
    net, history, X, y = small_run()
    first = RunFolder(tmp_path / "digits-x", unique=True)
    first.path = first.path.rename(first.path.with_name(f".digits-x.partial-{os.getppid()}"))
    second = RunFolder(tmp_path / "digits-x", unique=True)  # as if from another process
    for folder in (first, second):
        save_run(folder.path, RunRecord(net, history, {}), plots=False)
    places = {first.commit(), second.commit()}
    assert places == {tmp_path / "digits-x", tmp_path / "digits-x-2"}
    assert all((place / "model.npz").is_file() for place in places)


def test_promise_an_existing_run_is_never_mixed_or_replaced_unless_asked(tmp_path):
    old = tmp_path / "run"
    old.mkdir()
    (old / "model.npz").write_text("the older run")
    with pytest.raises(RunFolderError, match=r"already holds files.*--overwrite"):
        RunFolder(old)
    net, history, _, _ = small_run()
    folder = RunFolder(old, overwrite=True)
    save_run(folder.path, RunRecord(net, history, {}), plots=False)
    assert (old / "model.npz").read_text() == "the older run"  # until the new run is complete
    folder.commit()
    assert ns.load(old / "model.npz").n_inputs == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_promise_a_bad_place_is_reported_before_any_training(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(RunFolderError, match="is a file, not a folder"):
        RunFolder(tmp_path / "a-file")
    with pytest.raises(RunFolderError, match="Choose a folder you can write to"):
        RunFolder(tmp_path / "a-file" / "run")


def test_promise_working_folders_of_killed_runs_are_removed(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    abandoned = tmp_path / f".old.partial-{process.pid}"
    abandoned.mkdir()
    (abandoned / "model.npz").write_bytes(b"x" * 1000)
    alive = tmp_path / f".other.partial-{os.getppid()}"
    alive.mkdir()
    RunFolder(tmp_path / "new").discard()
    assert not abandoned.exists() and alive.exists()


def test_promise_a_failing_plot_never_loses_the_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib", reason="the plots of a run need matplotlib")
    from nnscratch import plots

    def broken(*arguments, **options):
        raise RuntimeError("no display")

    monkeypatch.setattr(plots, "plot_history", broken)
    net, history, X, y = small_run()
    problems: list[str] = []
    written = save_run(tmp_path, RunRecord(net, history, {}, X, y), problems=problems)
    names = {path.name for path in written}
    assert {"model.npz", "history.json", "config.json"} <= names
    assert "history.png" not in names and "confusion_matrix.png" in names
    assert problems == ["history.png was not drawn (RuntimeError: no display)"]
    assert json.loads((tmp_path / "history.json").read_text())["epochs"] == [0, 1]
    assert isinstance(history, History)


def test_promise_a_run_whose_out_was_taken_meanwhile_is_saved_beside_it(tmp_path):
    net, history, _, _ = small_run()
    folder = RunFolder(tmp_path / "run")  # free when training starts
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.npz").write_text("another run finished first")
    save_run(folder.path, RunRecord(net, history, {}), plots=False)
    assert folder.commit() == tmp_path / "run-2"
    folder.discard()
    assert (tmp_path / "run" / "model.npz").read_text() == "another run finished first"
    assert ns.load(tmp_path / "run-2" / "model.npz").n_inputs == 16


@pytest.mark.parametrize("place", [".", "..", "/"])
def test_promise_the_current_folder_or_one_above_is_never_a_run_folder(tmp_path, monkeypatch,
                                                                       place):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    with pytest.raises(RunFolderError, match="current folder or one above it"):
        RunFolder(place, overwrite=True)
    assert (tmp_path / "keep.txt").exists()
