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
from conftest import HAS_MATPLOTLIB, needs_matplotlib, needs_pillow

import nnscratch as ns
from nnscratch.cli import main
from nnscratch.datasets import load_digits

os.environ.setdefault("MPLBACKEND", "Agg")
PLOT_FILES = {"history.png", "confusion_matrix.png", "predictions.png", "first_layer_weights.png",
              "gradient_norms.png"}
RUN_FILES = {"model.npz", "history.json", "history.csv", "config.json", "report.html",
             *(PLOT_FILES if HAS_MATPLOTLIB else ())}  # without matplotlib, a run has no plots


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
    if HAS_MATPLOTLIB:
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
    """The epochs keep counting, the history goes on, the run's settings carry over."""
    before = json.loads((digits_run / "config.json").read_text())
    done = before["epochs_run"]
    assert main(["train", "--resume", str(digits_run), "--epochs", str(done + 2),
                 "--verbose", "0", "--no-plots", "--out", str(tmp_path / "more")]) == 0
    out = capsys.readouterr().out
    assert f"trained 2 epochs (epochs {done + 1}-{done + 2})" in out
    config = json.loads((tmp_path / "more" / "config.json").read_text())
    assert config["resumed_from"] == str(digits_run)
    assert (config["epochs_run"], config["epochs_this_run"]) == (done + 2, 2)
    for name in ("data", "batch_size", "validation_split", "seed", "layers", "activation"):
        assert config[name] == before[name], name
    history = json.loads((tmp_path / "more" / "history.json").read_text())
    old = json.loads((digits_run / "history.json").read_text())
    assert history["epochs"] == list(range(done + 2))
    assert history["history"]["loss"][:done] == old["history"]["loss"]
    assert last_value(out, "test accuracy") >= 0.95


def test_resume_refuses_what_contradicts_the_model(digits_run, capsys):
    done = json.loads((digits_run / "config.json").read_text())["epochs_run"]
    for options, message in ((["--layers", "64"], "--layers [64] contradicts the model"),
                             (["--activation", "tanh"], "--activation tanh contradicts"),
                             (["--dtype", "float64"], "--dtype float64 contradicts"),
                             (["--optimizer", "sgd"], "--optimizer sgd contradicts"),
                             (["--epochs", str(done)], f"has trained {done} epochs; with "
                                                       "--resume, --epochs is the total")):
        assert main(["train", "--resume", str(digits_run), "--verbose", "0", *options]) == 2
        assert message in capsys.readouterr().err


def test_resume_on_the_wrong_data_set_is_a_usage_error(digits_run, capsys):
    assert main(["train", "--data", "xor", "--resume", str(digits_run), "--verbose", "0"]) == 2
    assert "maps 64 inputs to 10 outputs, but xor has 2 features and needs 2" \
        in capsys.readouterr().err


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
    (["train", "--data", "imagenet"], 2,
     "expected one of digits, xor, mnist, fashion-mnist or a .csv"),
    (["train", "--data", "Digit"], 2, "did you mean 'digits'?"),
    (["train", "--data", "missing.csv"], 2, "no file 'missing.csv'"),
    (["train", "--data", "mnist", "--data-dir", "/nonexistent/mnst"], 2,
     "--data-dir /nonexistent/mnst is not a folder"),
    (["train", "--dropout", "1"], 2, "argument --dropout: expected a fraction in [0, 1), got '1'"),
    (["summary", "--outputs", "1"], 2, "--outputs must be at least 2"),
    (["evaluate", "missing.npz"], 1, "No model file at 'missing.npz'"),
    pytest.param(["plot", "history"], 2, "plot history needs a SOURCE", marks=needs_matplotlib),
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
    assert main(["predict", str(digits_run), str(tmp_path / "absent.png")]) == 1
    assert "No input file" in capsys.readouterr().err


@needs_pillow
def test_a_damaged_image_is_a_one_line_failure(digits_run, tmp_path, capsys):
    (tmp_path / "fake.png").write_text("not an image")
    assert main(["predict", str(digits_run), str(tmp_path / "fake.png")]) == 1  # damaged file
    assert "not an image Pillow can read" in capsys.readouterr().err


def test_without_the_plot_extra_images_and_plots_say_what_to_install(digits_run, tmp_path,
                                                                     capsys, monkeypatch):
    from nnscratch.cli import commands

    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    monkeypatch.setattr(commands, "can_plot", lambda: False)
    (tmp_path / "digit.png").write_bytes(b"\x89PNG")
    assert main(["predict", str(digits_run), str(tmp_path / "digit.png")]) == 2
    assert "reading images needs Pillow: pip install 'nnscratch[plot]'" in capsys.readouterr().err
    assert main(["plot", "history", str(digits_run)]) == 2
    assert "plots need matplotlib: pip install 'nnscratch[plot]'" in capsys.readouterr().err


def test_python_dash_m_runs_the_command_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "nnscratch", "train", "--epochs", "-1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--epochs" in done.stderr


# ---- promises of a run: pipes, signals during the save, full disks, resume, bad --out ----------

QUICK = ["train", "--epochs", "3", "--verbose", "2"]


def check_complete_run(folder, epochs):
    history = json.loads((folder / "history.json").read_text())
    config = json.loads((folder / "config.json").read_text())
    assert len(history["epochs"]) == config["epochs_run"] == epochs
    assert ns.load(folder / "model.npz").n_inputs == 64


def test_promise_closed_stdout_and_stderr_never_stop_training_or_lose_the_run(tmp_path):
    shell = (f"{sys.executable} -m nnscratch {' '.join(QUICK)} --out {tmp_path / 'a'} "
             f"| head -c 0; {sys.executable} -m nnscratch {' '.join(QUICK)} "
             f"--out {tmp_path / 'b'} >&- 2>&-; echo $?")
    result = subprocess.run(["bash", "-c", "set -o pipefail; " + shell], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    assert result.stdout.strip() == "0", result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    check_complete_run(tmp_path / "a", 3)
    check_complete_run(tmp_path / "b", 3)


def test_promise_signals_during_the_save_wait_for_it(tmp_path, monkeypatch, capsys):
    from nnscratch.cli import common

    real_save_run = common.save_run

    def signalled_save_run(*arguments, **options):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # a second, different signal: still the save goes on
        return real_save_run(*arguments, **options)

    monkeypatch.setattr(common, "save_run", signalled_save_run)
    assert main([*QUICK, "--no-plots", "--out", str(tmp_path / "run")]) == 128 + signal.SIGINT
    err = capsys.readouterr().err
    assert "saving the run first" in err and "Resume with" in err
    check_complete_run(tmp_path / "run", 3)


def test_promise_a_full_disk_names_the_folder_and_rescues_the_model(tmp_path, monkeypatch,
                                                                    capsys):
    import errno
    import tempfile

    from nnscratch import runs
    from nnscratch._files import WriteError

    def full(path, text):
        raise WriteError(errno.ENOSPC, f"Cannot write {str(path)!r}: No space left on device.")

    monkeypatch.setattr(runs, "atomic_write_text", full)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    assert main([*QUICK, "--no-plots", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    rescued = tmp_path / "nnscratch-rescued-run.npz"
    assert f"Cannot save the run in {tmp_path / 'run'}" in err and "No space left" in err
    assert f"saved to {rescued} instead" in err
    assert ns.load(rescued).n_inputs == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == [rescued.name]


@pytest.mark.parametrize("make_out, message", [
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file", "is a file, not a folder"),
    (lambda tmp: (tmp / "older").mkdir() or (tmp / "older" / "model.npz").write_text("x")
     and tmp / "older", "already holds files"),
])
def test_promise_a_bad_out_is_refused_before_training(tmp_path, capsys, monkeypatch, make_out,
                                                      message):
    from nnscratch.cli import train

    def no_data(*arguments):
        raise AssertionError("the data was loaded: training was about to start")

    monkeypatch.setattr(train, "load_data", no_data)
    out = make_out(tmp_path)
    assert main(["train", "--epochs", "500", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and "epoch" not in err and len(err.strip().splitlines()) == 1


def test_promise_overwrite_replaces_an_older_run_only_once_the_new_one_is_complete(
        digits_run, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "stale.txt").write_text("from an older run")
    assert main([*QUICK, "--no-plots", "--out", str(out), "--overwrite"]) == 0
    assert not (out / "stale.txt").exists()
    check_complete_run(out, 3)


def test_promise_resume_records_the_models_real_architecture(digits_run, tmp_path, capsys):
    first = tmp_path / "first"
    assert main(["train", "--layers", "12", "--activation", "tanh", "--dropout", "0",
                 "--epochs", "2", "--verbose", "0", "--no-plots", "--out", str(first)]) == 0
    second = tmp_path / "second"
    assert main(["train", "--resume", str(first / "model.npz"), "--epochs", "3", "--verbose",
                 "0", "--no-plots", "--out", str(second)]) == 0
    config = json.loads((second / "config.json").read_text())
    assert (config["layers"], config["activation"], config["dropout"]) == ([12], "tanh", 0.0)


def digit_image(kind):
    """Test digit 0 of the 8x8 set as a 64x64 picture: dark ink on white, in several forms."""
    from PIL import Image

    _, _, X_test, _ = load_digits()
    ink = np.kron(X_test[0].reshape(8, 8), np.ones((8, 8)))  # 1 where the digit is
    if kind == "8-bit":
        return Image.fromarray(((1 - ink) * 255).astype(np.uint8), mode="L")
    if kind == "16-bit":
        return Image.fromarray(((1 - ink) * 65535).astype(np.uint16))
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)  # black strokes drawn on a transparent canvas
    rgba[..., 3] = (ink * 255).astype(np.uint8)
    return Image.fromarray(rgba, mode="RGBA")


def test_promise_16_bit_and_transparent_drawings_read_like_the_plain_image(digits_run, tmp_path,
                                                                         capsys):
    pytest.importorskip("PIL", reason="reading images needs Pillow")
    outputs = {}
    for kind in ("8-bit", "16-bit", "transparent"):
        path = tmp_path / f"{kind}.png"
        digit_image(kind).save(path)
        assert main(["predict", str(digits_run), str(path), "--top", "3"]) == 0
        outputs[kind] = capsys.readouterr().out.split(": ", 1)[1]
    classes = {kind: [guess.split(" (")[0] for guess in text.split(", ")]
               for kind, text in outputs.items()}
    assert classes["16-bit"] == classes["8-bit"] == classes["transparent"]


@pytest.mark.parametrize("side, message", [(8_000, "8000 x 8000 pixels, more than"),
                                           (10_000, "decompression bomb")])
def test_promise_an_image_too_large_to_read_is_refused_unread(digits_run, tmp_path, capsys, side,
                                                             message):
    pytest.importorskip("PIL", reason="reading images needs Pillow")
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("1", (side, side)).save(path)
    assert main(["predict", str(digits_run), str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


# ---- runs ------------------------------------------------------------------------------------

def test_runs_lists_and_compares_the_saved_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    for name, options in (("small", ["--layers", "8"]), ("wide", ["--layers", "64"])):
        assert main(["train", "--epochs", "3", "--verbose", "0", "--no-plots", "--out",
                     str(runs / name), *options]) == 0
    (runs / "notes").mkdir()  # a folder that is not a run is passed over
    (runs / "broken").mkdir()
    (runs / "broken" / "config.json").write_text("{not json")
    capsys.readouterr()
    assert main(["runs", "--dir", str(runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "data", "epochs", "best", "val", "acc", "test", "date"]
    listed = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(listed) == {"small", "wide"}
    small = json.loads((runs / "small" / "config.json").read_text())
    assert listed["small"][1:3] == ["digits", "3"]
    assert float(listed["small"][4]) == round(small["test_scores"]["accuracy"], 4)
    history = json.loads((runs / "small" / "history.json").read_text())["history"]
    assert float(listed["small"][3]) == round(max(history["val_accuracy"]), 4)
    assert main(["runs", "compare", "small", "wide", "--dir", str(runs)]) == 0
    compared = {line[2:].split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert compared["layers"].startswith("*") and "[8]" in compared["layers"]
    assert compared["data"].startswith(" ") and compared["test_scores.accuracy"].startswith("*")


@pytest.mark.parametrize("arguments, message", [
    (["runs", "compare", "one"], "expected `runs` or `runs compare A B`"),
    (["runs", "sideways", "a", "b"], "expected `runs` or `runs compare A B`"),
])
def test_runs_usage_errors(arguments, message, capsys):
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


def test_runs_without_a_runs_folder_says_what_to_do(tmp_path, capsys):
    assert main(["runs", "--dir", str(tmp_path / "none")]) == 1
    assert "No runs folder at" in capsys.readouterr().err


# ---- habits of the ecosystem -------------------------------------------------------------------

@pytest.mark.parametrize("arguments, expected", [
    (["trian"], "nnscratch: error: argument COMMAND: invalid choice: 'trian'"),
    (["train", "--verboze", "0"], "nnscratch train: error: unrecognized arguments: --verboze 0"),
    (["train", "--optimizer", "adamm"], "nnscratch train: error: argument --optimizer"),
    (["recipe", "digits-fulbatch"], "nnscratch recipe: error: argument NAME"),
])
def test_a_usage_error_is_one_line_with_a_suggestion_and_a_pointer_to_help(arguments, expected,
                                                                          capsys):
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(expected)
    assert "; did you mean '" in err and err.rstrip().endswith("--help)")
    suggestion = err.split("did you mean '")[1].split("'")[0]
    assert suggestion in {"train", "--verbose", "adam", "digits-fullbatch"}


def test_choices_are_case_insensitive(tmp_path, capsys):
    assert main(["train", "--data", "DIGITS", "--optimizer", "Adam", "--activation", "ReLU",
                 "--epochs", "1", "--layers", "8", "--verbose", "0", "--no-plots", "--out",
                 str(tmp_path / "run")]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["data"], config["activation"]) == ("digits", "relu")
    assert config["optimizer"].startswith("Adam(")


def test_recipe_without_a_name_lists_the_recipes(capsys):
    assert main(["recipe"]) == 0
    captured = capsys.readouterr()
    assert all(name in captured.out for name in ("xor", "digits-fullbatch", "mnist-best"))
    assert "nnscratch recipe NAME" in captured.err


@needs_matplotlib
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".pdf", b"%PDF"),
                                           (".png", b"\x89PNG")])
def test_plot_writes_the_format_its_file_names(tmp_path, suffix, magic):
    output = tmp_path / f"figure{suffix}"
    assert main(["plot", "activations", "-o", str(output)]) == 0
    assert output.read_bytes().startswith(magic)


@needs_matplotlib
def test_plot_refuses_a_format_it_cannot_write(tmp_path, capsys):
    assert main(["plot", "activations", "-o", str(tmp_path / "figure.bmp")]) == 2
    assert "a figure is written as .png, .svg or .pdf; got '.bmp'" in capsys.readouterr().err


def test_early_stopping_says_that_it_stopped_and_why(tmp_path, capsys):
    assert main(["train", "--early-stopping", "1", "--epochs", "200", "--verbose", "0",
                 "--no-plots", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["epochs_run"] < 200
    assert (f"stopped early after epoch {config['epochs_run']}: val_loss had not improved for "
            f"1 epochs since epoch {config['best_epoch']}") in out


def test_a_diverging_run_names_the_option_to_change(tmp_path, capsys):
    assert main(["train", "--optimizer", "sgd", "--lr", "50", "--verbose", "0", "--out",
                 str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "Training diverged" in err and "(try --lr 5)" in err and "lr=" not in err


@needs_pillow
def test_predict_says_it_resized_and_warns_when_the_input_is_far_from_the_data(digits_run,
                                                                               tmp_path, capsys):
    from PIL import Image

    from nnscratch.datasets import load_digits

    X, _, _, _ = load_digits()
    digit = tmp_path / "digit.png"
    big = np.kron(X[0].reshape(8, 8), np.ones((4, 4)))  # a training digit, 32 x 32
    Image.fromarray((big * 255).astype(np.uint8)).save(digit)
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
                    ).save(noise)
    assert main(["predict", str(digits_run), str(digit), str(noise)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"{digit}: 32 x 32 pixels, resized to 8 x 8 (the model's input)" in err
    near = next(line for line in err if line.startswith(f"{digit}: distance"))
    far = next(line for line in err if f"{noise}: distance" in line)
    assert not near.startswith("warning") and far.startswith("warning: ")
    assert "unlike anything the model was trained on" in far


def test_evaluate_finds_the_data_dir_the_run_was_trained_with(shared_data, tmp_path,
                                                              monkeypatch, capsys):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path / "empty"))  # not where MNIST is
    run = tmp_path / "run"
    assert main(["train", "--data", "mnist", "--data-dir", str(shared_data), "--epochs", "1",
                 "--layers", "16", "--verbose", "0", "--no-plots", "--out", str(run)]) == 0
    trained = last_value(capsys.readouterr().out, "test accuracy")
    assert json.loads((run / "config.json").read_text())["data_dir"] == str(
        shared_data.resolve())
    assert main(["evaluate", str(run)]) == 0
    assert f"test accuracy: {trained:.4f}" in capsys.readouterr().out
