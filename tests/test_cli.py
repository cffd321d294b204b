"""The nnscratch command: the default job, the other commands, and usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnscratch.cli import main


def test_default_train_reaches_97_percent_and_ends_with_the_test_accuracy(capsys):
    assert main(["train"]) == 0
    captured = capsys.readouterr()
    last = captured.out.strip().splitlines()[-1]
    assert last.startswith("test accuracy: ")
    assert float(last.split(": ")[1]) >= 0.97
    assert "epoch 50/50" in captured.err and "val_accuracy" in captured.err


def test_train_options(capsys):
    assert main(["train", "--data", "xor", "--layers", "4", "--activation", "tanh",
                 "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "full", "--epochs", "300",
                 "--dropout", "0", "--verbose", "0"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.strip().endswith("accuracy: 1.0000")


def test_summary_and_gradcheck(capsys):
    assert main(["summary", "--layers", "32", "--inputs", "64", "--outputs", "10"]) == 0
    assert "total parameters: 2,410" in capsys.readouterr().out
    assert main(["gradcheck", "--layers", "5", "--activation", "tanh"]) == 0
    assert "(pass, threshold 1e-6)" in capsys.readouterr().out


def test_a_diverging_run_fails_with_advice(capsys):
    code = main(["train", "--data", "xor", "--optimizer", "sgd", "--lr", "1e9", "--verbose", "0",
                 "--dropout", "0"])
    assert code == 1
    assert "Lower the learning rate" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, message", [
    (["train", "--epochs", "0"], "argument --epochs: expected a whole number >= 1, got '0'"),
    (["train", "--layers", "128", "-5"], "expected a whole number >= 1, got '-5'"),
    (["train", "--lr", "-0.1"], "argument --lr: expected a number > 0, got '-0.1'"),
    (["train", "--batch-size", "big"], "expected a whole number >= 1 or 'full', got 'big'"),
    (["train", "--data", "imagenet"], "argument --data: invalid choice: 'imagenet'"),
    (["train", "--dropout", "1"], "argument --dropout: expected a fraction in [0, 1), got '1'"),
    (["summary", "--outputs", "1"], "--outputs must be at least 2"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors_exit_2_with_one_clear_line(arguments, message, capsys):
    assert main(arguments) == 2
    error_lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and message in error_lines[0]


def test_python_dash_m_runs_the_command_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "nnscratch", "train", "--epochs", "-1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--epochs" in done.stderr
