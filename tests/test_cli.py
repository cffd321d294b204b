"""The nnscratch command: every subcommand, the saved run, Ctrl-C, and one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.datasets import load_digits

os.environ.setdefault("MPLBACKEND", "Agg")
RUN_FILES = {"model.npz", "history.json", "history.csv", "config.json", "history.png",
             "confusion_matrix.png", "predictions.png", "first_layer_weights.png",
             "gradient_norms.png"}


def last_value(output: str, prefix: str) -> float:
    line = [line for line in output.splitlines() if line.startswith(prefix)][-1]
    return float(line.split(": ")[-1])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One default training run, shared by the tests that read a saved run."""
    folder = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["train", "--verbose", "0", "--out", str(folder)]) == 0
    return folder


# ---- train -----------------------------------------------------------------------------------

def test_default_train_reaches_97_percent_and_ends_with_the_test_accuracy(tmp_path, capsys,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train"]) == 0
    captured = capsys.readouterr()
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ") and float(last.split(": ")[1]) >= 0.97
    assert "epoch 80/80" in captured.err and "val_accuracy" in captured.err
    (run,) = (tmp_path / "runs").iterdir()
    assert {path.name for path in run.iterdir()} == RUN_FILES
    assert all((run / name).stat().st_size > 0 for name in RUN_FILES)


def test_the_saved_run_is_complete_and_consistent(digits_run, capsys):
    history = json.loads((digits_run / "history.json").read_text())
    config = json.loads((digits_run / "config.json").read_text())
    csv_rows = (digits_run / "history.csv").read_text().strip().splitlines()
    assert len(history["history"]["loss"]) == config["epochs_run"] == 80 == len(csv_rows) - 1
    assert csv_rows[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr"
    assert (digits_run / "history.png").read_bytes().startswith(b"\x89PNG")
    net = ns.load(digits_run / "model.npz")
    _, _, X_test, y_test = load_digits()
    assert net.evaluate(X_test, y_test)["accuracy"] == pytest.approx(
        config["test_scores"]["accuracy"])
    assert net.metadata["class_names"] == [str(digit) for digit in range(10)]


def test_train_options(tmp_path, capsys):
    assert main(["train", "--data", "xor", "--layers", "4", "--activation", "tanh",
                 "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "full", "--epochs", "300",
                 "--dropout", "0", "--verbose", "0", "--no-plots", "--out",
                 str(tmp_path / "xor")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.strip().endswith("accuracy: 1.0000")
    assert not list((tmp_path / "xor").glob("*.png"))


def test_train_on_mnist_from_a_data_folder(shared_data, tmp_path, capsys):
    assert main(["train", "--data", "mnist", "--data-dir", str(shared_data), "--epochs", "1",
                 "--verbose", "0", "--no-plots", "--out", str(tmp_path / "mnist")]) == 0
    assert last_value(capsys.readouterr().out, "test accuracy") > 0.9


def test_resume_continues_a_saved_run(digits_run, tmp_path, capsys):
    assert main(["train", "--resume", str(digits_run / "model.npz"), "--epochs", "2",
                 "--verbose", "0", "--no-plots", "--out", str(tmp_path / "more")]) == 0
    config = json.loads((tmp_path / "more" / "config.json").read_text())
    assert config["resumed_from"].endswith("model.npz") and config["epochs_run"] == 2
    assert last_value(capsys.readouterr().out, "test accuracy") >= 0.95


def test_resume_on_the_wrong_data_set_is_a_usage_error(digits_run, capsys):
    assert main(["train", "--data", "xor", "--resume", str(digits_run), "--verbose", "0"]) == 2
    assert "maps 64 inputs to 10 classes, but xor has 2 and 2" in capsys.readouterr().err


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_promise_a_stop_signal_saves_the_run_says_how_to_resume_and_exits_128_plus_it(
        tmp_path, signal_number):
    process = subprocess.Popen(
        [sys.executable, "-m", "nnscratch", "train", "--epochs", "100000", "--verbose", "2",
         "--no-plots", "--out", str(tmp_path / "stopped")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    seen = ""
    while "epoch 3/" not in seen and time.monotonic() < deadline:
        seen += process.stderr.readline()
    process.send_signal(signal_number)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal_number, err
    assert "interrupted after" in err and "--resume" in err and "Traceback" not in err
    assert out.strip().splitlines()[-1].startswith("test accuracy: ")
    history = json.loads((tmp_path / "stopped" / "history.json").read_text())
    assert history["stop_reason"] == "interrupted" and len(history["epochs"]) >= 3
    assert ns.load(tmp_path / "stopped" / "model.npz").n_inputs == 64


# ---- evaluate, predict, plot, summary, gradcheck, download -----------------------------------

def test_evaluate_prints_accuracy_confusion_matrix_and_report(digits_run, capsys):
    assert main(["evaluate", str(digits_run)]) == 0
    out = capsys.readouterr().out
    config = json.loads((digits_run / "config.json").read_text())
    assert last_value(out, "test accuracy") == pytest.approx(config["test_scores"]["accuracy"],
                                                             abs=1e-4)
    assert "confusion matrix" in out and "macro mean" in out


def test_predict_npy_rows_and_an_image(digits_run, tmp_path, capsys):
    image_module = pytest.importorskip("PIL.Image")
    _, _, X_test, y_test = load_digits()
    np.save(tmp_path / "rows.npy", X_test[:5])
    dark_on_light = (255 - X_test[0].reshape(8, 8) * 255).astype(np.uint8)
    image_module.fromarray(dark_on_light).resize((64, 64), image_module.NEAREST).save(
        tmp_path / "digit.png")
    assert main(["predict", str(digits_run), str(tmp_path / "rows.npy"),
                 str(tmp_path / "digit.png")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 6
    predicted = [int(line.split(": ")[1].split()[0]) for line in lines]
    assert predicted[:5] == ns.load(digits_run / "model.npz").predict(X_test[:5]).tolist()
    assert lines[5].startswith(f"{tmp_path / 'digit.png'}: {y_test[0]} (")


@pytest.mark.parametrize("figure", ["activations", "derivatives", "history", "sample",
                                    "confusion", "predictions", "weights",
                                    "activation-histograms"])
def test_plot_writes_each_figure(digits_run, tmp_path, figure, capsys):
    pytest.importorskip("matplotlib")
    output = tmp_path / f"{figure}.png"
    source = [] if figure in ("activations", "derivatives") else [str(digits_run)]
    assert main(["plot", figure, *source, "--output", str(output)]) == 0
    assert output.read_bytes().startswith(b"\x89PNG") and output.stat().st_size > 5000


def test_summary_and_gradcheck_of_a_model_and_an_architecture(digits_run, capsys):
    assert main(["summary", str(digits_run / "model.npz")]) == 0
    assert "total parameters: 50,826" in capsys.readouterr().out
    assert main(["summary", "--layers", "32", "--inputs", "64", "--outputs", "10"]) == 0
    assert "total parameters: 2,410" in capsys.readouterr().out
    for arguments in ([str(digits_run)], ["--layers", "5", "--activation", "tanh"]):
        assert main(["gradcheck", *arguments]) == 0
        assert "(pass, threshold 1e-6)" in capsys.readouterr().out


def test_download_finds_present_files_without_the_network(shared_data, capsys):
    assert main(["download", "fashion-mnist", "--data-dir", str(shared_data)]) == 0
    assert capsys.readouterr().out.count("fashion-mnist") == 4


# ---- errors ----------------------------------------------------------------------------------

def test_a_diverging_run_fails_with_advice(tmp_path, capsys):
    code = main(["train", "--data", "xor", "--optimizer", "sgd", "--lr", "1e9", "--verbose", "0",
                 "--dropout", "0", "--out", str(tmp_path / "x")])
    assert code == 1
    assert "Lower the learning rate" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, code, message", [
    (["train", "--epochs", "0"], 2, "argument --epochs: expected a whole number >= 1, got '0'"),
    (["train", "--layers", "128", "-5"], 2, "expected a whole number >= 1, got '-5'"),
    (["train", "--lr", "-0.1"], 2, "argument --lr: expected a number > 0, got '-0.1'"),
    (["train", "--batch-size", "big"], 2, "expected a whole number >= 1 or 'full', got 'big'"),
    (["train", "--data", "imagenet"], 2, "argument --data: invalid choice: 'imagenet'"),
    (["train", "--dropout", "1"], 2, "argument --dropout: expected a fraction in [0, 1), got '1'"),
    (["summary", "--outputs", "1"], 2, "--outputs must be at least 2"),
    (["evaluate", "missing.npz"], 1, "No model file at 'missing.npz'"),
    (["plot", "history"], 2, "plot history needs a SOURCE"),
    (["plot", "sample", "--index", "x"], 2, "argument --index: expected a whole number"),
    (["fly"], 2, "invalid choice: 'fly'"),
    ([], 2, "the following arguments are required: COMMAND"),
])
def test_usage_errors_and_failures_are_one_line(arguments, code, message, capsys):
    assert main(arguments) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert message in lines[-1]
    assert not any("Traceback" in line for line in lines)


def test_bad_files_for_predict_and_evaluate(digits_run, tmp_path, capsys):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model")
    assert main(["evaluate", str(junk)]) == 1
    assert "is not a loadable nnscratch model" in capsys.readouterr().err
    np.save(tmp_path / "wide.npy", np.ones((2, 65)))
    assert main(["predict", str(digits_run), str(tmp_path / "wide.npy")]) == 2
    assert "shape (2, 65)" in capsys.readouterr().err
    (tmp_path / "fake.png").write_text("not an image")
    assert main(["predict", str(digits_run), str(tmp_path / "fake.png")]) == 1  # damaged file
    assert "not an image Pillow can read" in capsys.readouterr().err
    assert main(["predict", str(digits_run), str(tmp_path / "absent.png")]) == 1
    assert "No input file" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "nnscratch", "train", "--epochs", "-1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--epochs" in done.stderr
