"""Nothing users do may run foreign code, corrupt a saved model, or silently produce NaNs.

Fuzzed model files, SIGKILL during saves and checkpoints, exact resumption, Ctrl-C with best
weights restored, numerical edge cases, and every CLI mistake run as a real process.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_weights, needs_matplotlib, needs_pillow

import nnscratch as ns
from nnscratch.datasets import load_digits
from nnscratch.serialization import ModelFileError

X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = load_digits(seed=0)
WEIRD_VALUES = [None, -1, 0, 2**70, 1e308, "x", "", [], {}, [1, [2, [3]]], {"a": 1}, True, 1.5]


# ---- fuzzing load() ----------------------------------------------------------------------------

def npz_members(data: bytes) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name[:-4]: np.lib.format.read_array(io.BytesIO(archive.read(name)))
                for name in archive.namelist()}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=True)
            archive.writestr(f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def mutate_bytes(data: bytes, kind: int, rng: np.random.Generator) -> bytes:
    """Flip bytes, truncate, insert junk, overwrite a range, or duplicate a slice."""
    data, n = bytearray(data), len(data)
    position = int(rng.integers(n))
    if kind == 0:
        for index in rng.integers(0, n, rng.integers(1, 9)):
            data[index] = int(rng.integers(256))
    elif kind == 1:
        data = data[:position]
    elif kind == 2:
        data[position:position] = rng.bytes(int(rng.integers(1, 64)))
    elif kind == 3:
        length = int(rng.integers(1, 200))
        data[position:position + length] = rng.bytes(length)
    else:
        data[position:position] = data[position:position + int(rng.integers(1, 500))]
    return bytes(data)


def mutate_structure(data: bytes, kind: int, rng: np.random.Generator) -> bytes:
    """A well-formed zip whose content lies: a changed config, array, or set of arrays."""
    arrays = npz_members(data)
    if kind in (0, 1):
        config = json.loads(arrays["config"].tobytes())
        node, path = config, []
        while isinstance(node, (dict, list)) and node and rng.random() < 0.7:
            key = (list(node)[rng.integers(len(node))] if isinstance(node, dict)
                   else int(rng.integers(len(node))))
            path.append(key)
            node = node[key]
        if path:
            parent = config
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict) and rng.random() < 0.3:
                del parent[path[-1]]
            else:
                parent[path[-1]] = WEIRD_VALUES[rng.integers(len(WEIRD_VALUES))]
        else:
            config = WEIRD_VALUES[rng.integers(len(WEIRD_VALUES))]
        arrays["config"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    elif kind == 2:
        name = sorted(key for key in arrays if key != "config")[rng.integers(len(arrays) - 1)]
        array = arrays[name]
        arrays[name] = [array.astype(np.float64), array.ravel(), np.full_like(array, np.nan),
                        array.astype(np.int32), np.array([object()], dtype=object)
                        ][rng.integers(5)]
    else:
        name = sorted(arrays)[rng.integers(len(arrays))]
        if rng.random() < 0.5:
            del arrays[name]
        else:
            arrays[f"{name}_copy"] = arrays[name]
    return npz_bytes(arrays)


def test_fuzzed_model_files_load_validly_or_fail_clearly(tmp_path):
    """500 seeded mutations of a valid file: each loads a working model or raises
    ModelFileError; nothing else escapes and nothing is half-loaded."""
    net = ns.MLP([64, 12, 10], dropout=0.1, seed=0)
    net.fit(X_TRAIN, Y_TRAIN, loss="cross_entropy", optimizer=ns.SGD(momentum=0.9), epochs=1)
    original = net.save(tmp_path / "model.npz").read_bytes()
    rng = np.random.default_rng(2026)
    outcomes = {"loaded": 0, "refused": 0}
    path = tmp_path / "mutant.npz"
    for trial in range(500):
        mutate = mutate_bytes if trial % 2 == 0 else mutate_structure
        path.write_bytes(mutate(original, trial // 2 % 5, rng))
        try:
            loaded = ns.load(path)
        except ModelFileError as error:
            assert "is not a loadable nnscratch model" in str(error)
            outcomes["refused"] += 1
            continue
        outputs = loaded.forward(X_TEST[:5].astype(loaded.dtype))
        assert np.isfinite(outputs).all() and outputs.shape == (5, 10), trial
        outcomes["loaded"] += 1
    assert outcomes["refused"] > 400  # most mutations damage the file; every one was caught


# ---- SIGKILL in the middle of a save -----------------------------------------------------------

def run_and_kill(script: str, arguments: list[str], ready: Path, delays: list[float]) -> int:
    """Run ``script`` once per delay: wait until it creates ``ready``, then SIGKILL it after
    the delay. The script creates ``ready`` just before its saving loop. Returns how many kills
    left a temporary file behind (landed inside a save)."""
    landed = 0
    for delay in delays:
        ready.unlink(missing_ok=True)
        process = subprocess.Popen([sys.executable, "-c", script, *arguments],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        landed += bool(list(ready.parent.glob(".*.tmp")))
    return landed


def test_sigkill_during_save_leaves_the_previous_file_intact(tmp_path):
    path, ready = tmp_path / "model.npz", tmp_path / "ready"
    first = ns.MLP([784, 1024, 1024, 10], seed=0)
    first.save(path)
    script = textwrap.dedent("""
        import pathlib, sys, nnscratch as ns
        net = ns.MLP([784, 1024, 1024, 10], seed=1)
        pathlib.Path(sys.argv[2]).touch()
        while True:  # the process does nothing but save, so every kill lands inside a save
            net.save(sys.argv[1])
    """)
    second = ns.MLP([784, 1024, 1024, 10], seed=1)
    landed = run_and_kill(script, [str(path), str(ready)], ready,
                          [0.0, 0.05, 0.13, 0.21, 0.34, 0.08, 0.17])
    assert landed  # proof that kills did land mid-save
    loaded = ns.load(path)  # whichever save finished last, complete and loadable
    matches = [np.array_equal(loaded.layers[0].params["W"], net.layers[0].params["W"])
               for net in (first, second)]
    assert any(matches)
    loaded.save(path)  # the next save removes what killed saves left
    assert not list(tmp_path.glob(".*.tmp"))


def test_sigkill_during_checkpointing_leaves_a_loadable_checkpoint(tmp_path):
    checkpoint, ready = tmp_path / "checkpoint.npz", tmp_path / "ready"
    script = textwrap.dedent("""
        import pathlib, sys, nnscratch as ns

        class Ready(ns.Callback):
            def on_epoch_end(self, epoch, logs=None):
                pathlib.Path(sys.argv[2]).touch()  # after the first checkpoint

        X, y, _, _ = ns.datasets.load_digits()
        net = ns.MLP([64, 512, 512, 10], seed=0)
        net.fit(X, y, loss="cross_entropy", epochs=100000, batch_size=256,
                callbacks=[ns.ModelCheckpoint(sys.argv[1], monitor="loss"), Ready()])
    """)
    run_and_kill(script, [str(checkpoint), str(ready)], ready, [0.0, 0.1, 0.3])
    restored = ns.load(checkpoint)
    assert restored.metadata["epoch"] >= 1
    assert len(restored.metadata["history"]["loss"]) == restored.metadata["epoch"]


# ---- resumption and interruption ---------------------------------------------------------------

@pytest.mark.parametrize("seed", [None, 7])
def test_resuming_a_checkpoint_equals_the_unbroken_run(tmp_path, seed):
    def fresh():
        return ns.MLP([64, 24, 10], dropout=0.2, seed=3)

    fit_options = dict(loss="cross_entropy", batch_size=64, seed=seed)
    straight = fresh()
    straight_history = straight.fit(X_TRAIN, Y_TRAIN, optimizer=ns.Adam(), epochs=6,
                                    **fit_options)

    broken = fresh()
    checkpoint = ns.ModelCheckpoint(str(tmp_path / "epoch-{epoch}.npz"), monitor="loss")
    first_part = broken.fit(X_TRAIN, Y_TRAIN, optimizer=ns.Adam(), epochs=4,
                            callbacks=[checkpoint], **fit_options)
    resumed = ns.load(tmp_path / "epoch-4.npz")
    assert resumed.metadata["history"] == first_part.history
    second_part = resumed.fit(X_TRAIN, Y_TRAIN, epochs=6,
                              initial_epoch=resumed.metadata["epoch"], **fit_options)
    assert_same_weights(resumed, straight)
    for name, values in straight_history.history.items():
        assert first_part.history[name] + second_part.history[name] == values
    assert second_part.epoch == [4, 5]


def test_ctrl_c_keeps_the_history_and_restores_the_best_weights():
    recorded = []

    class RecordThenPressCtrlC(ns.Callback):
        def on_epoch_end(self, epoch, logs=None):
            recorded.append(self.model.get_weights())

        def on_batch_end(self, batch, logs=None):
            if len(recorded) == 3 and batch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    net = ns.MLP([64, 32, 10], seed=0)
    stopper = ns.EarlyStopping(monitor="val_loss", patience=100, restore_best_weights=True)
    history = net.fit(X_TRAIN, Y_TRAIN, loss="cross_entropy", optimizer=ns.Adam(lr=0.05),
                      epochs=50, validation_split=0.2, seed=0,
                      callbacks=[RecordThenPressCtrlC(), stopper])
    assert history.stop_reason == "interrupted" and len(history.epoch) == 4
    best = int(np.argmin(history.history["val_loss"]))
    for mine, theirs in zip(net.get_weights(), recorded[best], strict=True):
        np.testing.assert_array_equal(mine, theirs)


# ---- numerical trouble -------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy", "mse"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softmax"])
def test_inputs_of_plus_minus_1e4_stay_finite_and_silent(loss, activation):
    rng = np.random.default_rng(0)
    X = rng.choice([-1e4, 1e4], size=(32, 8)).astype(np.float32)
    y = {"cross_entropy": rng.integers(0, 3, 32), "binary_cross_entropy":
         rng.integers(0, 2, (32, 3)), "mse": rng.standard_normal((32, 3))}[loss]
    net = ns.MLP([8, 16, 3], activation=activation, seed=0, loss=loss)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        outputs = net.forward(X, training=True)
        loss_object = net.loss
        value = loss_object.forward(outputs, loss_object.prepare_targets(y, 3))
        net.backward(loss_object.backward())
    assert np.isfinite(value)
    assert all(np.isfinite(grad).all() for _, grad in net.parameters())


def test_constant_features_train_without_nan():
    X = np.full((100, 5), 3.0)
    y = np.arange(100) % 2
    history = ns.MLP([5, 8, 2], seed=0).fit(X, y, loss="cross_entropy", epochs=5)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] == pytest.approx(np.log(2), abs=0.05)  # can only guess


def test_a_single_class_trains_and_predicts_it():
    X = np.random.default_rng(0).random((50, 4))
    net = ns.MLP([4, 8, 3], seed=0)
    net.fit(X, np.zeros(50, dtype=int), loss="cross_entropy", epochs=20,
            class_weight="balanced")
    assert (net.predict(X) == 0).all()


def test_divergence_names_the_epoch_and_batch_and_keeps_finite_weights():
    X = np.random.default_rng(0).normal(0, 50, (64, 3))
    y = X.sum(axis=1) * 1e4
    net = ns.MLP([3, 8, 1], seed=0)
    with pytest.raises(ns.TrainingDivergedError, match=r"at epoch \d+, batch \d+ .*try lr=") as caught:
        net.fit(X, y, loss="mse", optimizer=ns.SGD(lr=1.0), epochs=20, batch_size=16)
    assert all(np.isfinite(weights).all() for weights in net.get_weights())
    assert caught.value.history is not None


# ---- every CLI mistake, as a real process --------------------------------------------------

@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.npz"
    ns.MLP([64, 8, 10], seed=0, loss="cross_entropy").save(path)
    return path


@pytest.mark.parametrize("arguments, code, message", [
    (["train", "--data", "cifar"], 2, "expected one of digits, xor, mnist, fashion-mnist"),
    (["train", "--layers", "-4"], 2, "expected a whole number >= 1, got '-4'"),
    (["train", "--epochs", "0"], 2, "expected a whole number >= 1, got '0'"),
    (["train", "--lr", "nan"], 2, "expected a number > 0, got 'nan'"),
    (["train", "--batch-size", "-1"], 2, "expected a whole number >= 1 or 'full'"),
    (["train", "--resume", "absent.npz"], 1, "No model file at 'absent.npz'"),
    (["evaluate", "absent.npz"], 1, "No model file at 'absent.npz'"),
    (["predict", "absent.npz", "x.png"], 1, "No model file at 'absent.npz'"),
    (["predict", "{model}", "absent.png"], 1, "No input file at absent.png"),
    pytest.param(["predict", "{model}", "{junk_image}"], 1, "not an image Pillow can read",
                 marks=needs_pillow),
    (["predict", "{model}", "{wrong_rows}"], 2, "the model needs numeric rows of 64 features"),
    (["evaluate", "{junk_model}"], 1, "is not a loadable nnscratch model"),
    (["evaluate", "{model}"], 2, "does not record its data set: pass --data"),
    (["evaluate", "{model}", "--data", "xor"], 2, "maps 64 inputs to 10 outputs, but xor"),
    pytest.param(["plot", "weights"], 2, "plot weights needs a SOURCE", marks=needs_matplotlib),
    (["download", "imagenet"], 2, "invalid choice: 'imagenet'"),
])
def test_each_cli_mistake_is_one_line_and_an_exit_code(arguments, code, message, model_file,
                                                       tmp_path):
    junk_image, junk_model, wrong_rows = (tmp_path / "junk.png", tmp_path / "junk.npz",
                                          tmp_path / "rows.npy")
    junk_image.write_bytes(b"\x89PNG but not really")
    junk_model.write_bytes(b"PK\x03\x04 nothing")
    np.save(wrong_rows, np.ones((2, 3)))
    arguments = [argument.format(model=model_file, junk_image=junk_image,
                                 junk_model=junk_model, wrong_rows=wrong_rows)
                 for argument in arguments]
    done = subprocess.run([sys.executable, "-m", "nnscratch", *arguments], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    error_lines = [line for line in done.stderr.splitlines() if not line.startswith(" ")
                   and not line.startswith("usage:")]
    assert len(error_lines) == 1 and message in error_lines[0], done.stderr
    assert "Traceback" not in done.stderr
