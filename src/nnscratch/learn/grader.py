"""Checking a learner's exercise files, each in a child process with a time and memory limit.

    results = check("my-exercises")              # a folder of ex*.py files, or one file
    print(report(results))

Each file runs in its own Python process (``python -m nnscratch.learn.grader FILE``), so that
an endless loop, a huge allocation or a crash of the learner's code stops that file alone, with
a message; the grader's process never imports the learner's code, and never writes the file.
For each function the child compares the learner's answer with nnscratch's on every input of
reference.cases and reports the first mismatch, with the slip it looks like (slips.py).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import os
import re
import subprocess
import sys
import traceback
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .exercises import EXERCISES, NOTATIONS, Exercise, Function
from .reference import cases, reference
from .slips import close, diagnose

TIME_LIMIT = 60.0  # seconds a file may run (the training exercise included)
MEMORY_LIMIT = 4 * 2**30  # bytes of address space a file's process may take
TRAIN_ACCURACY = 0.90


class CheckError(ValueError):
    """What cannot be checked at all: no such file or folder, no exercises in it."""


@dataclass
class Result:
    """One function's verdict: passed, not started, wrong or error, with the details."""

    file: str
    function: str
    status: str
    detail: str = ""
    diagnosis: str | None = None
    lives_in: str | None = None


# ---- the grader's side ----------------------------------------------------------------------


def check(path: str | os.PathLike, notation: str | None = None,
          time_limit: float = TIME_LIMIT, memory_limit: int = MEMORY_LIMIT) -> list[Result]:
    """Check one exercise file, or every ex*.py file of a folder; ``notation`` (rows or
    columns) must match the files' own when given."""
    path = Path(path)
    if notation is not None and notation not in NOTATIONS:
        raise CheckError(f"--notation must be rows or columns; got {notation!r}.")
    if path.is_dir():
        files = sorted(path.glob("ex[0-9][0-9]_*.py"))
        if not files:
            raise CheckError(f"{path} holds no exercise files (ex01_neuron.py, ...). Write "
                             f"them with: nnscratch exercises {path}")
    elif path.is_file():
        if path.suffix != ".py":
            raise CheckError(f"{path} is not a Python file: give an exercise file (.py) or "
                             "the folder of the exercises.")
        files = [path]
    else:
        raise CheckError(f"No exercise file or folder at {path}. Write the exercises with: "
                         f"nnscratch exercises {path}")
    results = []
    for file in files:
        results += _check_file(file, notation, time_limit, memory_limit)
    return results


def _check_file(path: Path, notation: str | None, time_limit: float,
                memory_limit: int) -> list[Result]:
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "nnscratch.learn.grader", str(path), notation or ""]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=time_limit,
                              env=environment, preexec_fn=_limit_memory(memory_limit))
    except subprocess.TimeoutExpired:
        return [Result(path.name, "*", "error", f"stopped after {time_limit:g} s: the code did "
                       "not finish (an endless loop, or far too much work?)")]
    lines = done.stdout.strip().splitlines()
    try:
        return [Result(**record) for record in json.loads(lines[-1])]
    except (IndexError, ValueError, TypeError):
        why = (f"its process ended with code {done.returncode}" if done.returncode >= 0 else
               f"its process was killed by signal {-done.returncode}")
        last = done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else ""
        return [Result(path.name, "*", "error", f"{why} before reporting: too much memory "
                       f"(the limit is {memory_limit / 2**30:g} GiB), or a crash"
                       + (f" ({last})" if last else ""))]


def _limit_memory(limit: int) -> Any:
    if sys.platform == "win32":  # pragma: no cover - no resource module there
        return None

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def report(results: list[Result]) -> str:
    """The verdicts as text, one block per file, the summary line last."""
    lines: list[str] = []
    current = None
    for result in results:
        if result.file != current:
            current = result.file
            lines.append(current)
        if result.status == "passed":
            lines.append(f"  {result.function:<24} passed (in nnscratch: {result.lives_in})")
            continue
        lines.append(f"  {result.function:<24} {result.status}"
                     + (f": {result.detail}" if result.detail else ""))
        if result.diagnosis:
            lines.append(f"  {'':<24} looks like: {result.diagnosis}")
    passed = sum(result.status == "passed" for result in results)
    lines.append(f"{passed} of {len(results)} passed")
    return "\n".join(lines)


# ---- the child's side: the learner's file, run and compared ---------------------------------


def run_file(path: Path, notation: str | None) -> list[dict[str, Any]]:
    """Every function of the exercise file at ``path``: its verdict, as records."""
    exercise = _exercise_of(path)
    if exercise is None:
        return [asdict(Result(path.name, "*", "error", "not an exercise file: its name should "
                              "be one of " + ", ".join(e.file_name for e in EXERCISES)))]
    try:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    except SyntaxError as error:
        return [asdict(Result(path.name, "*", "error",
                              f"line {error.lineno}: SyntaxError: {error.msg}"))]
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return [asdict(Result(path.name, "*", "error", f"cannot be read ({error})"))]
    sys.path.insert(0, str(path.parent))  # the learner's other files, for train_step
    namespace: dict[str, Any] = {"__name__": f"exercise_{exercise.stem}", "__file__": str(path)}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            exec(code, namespace)  # noqa: S102 - the learner's code, in this child process only
    except BaseException as error:  # noqa: BLE001 - anything the learner's file raises
        return [asdict(Result(path.name, "*", "error", _learner_error(error, path)))]
    file_notation = namespace.get("NOTATION", "rows")
    if file_notation not in NOTATIONS or (notation and notation != file_notation):
        return [asdict(Result(path.name, "*", "error",
                              f"the file says NOTATION = {file_notation!r} but the check asked "
                              f"for {notation!r}: check with --notation {file_notation}, or "
                              "write the exercises again in that notation"))]
    return [asdict(_check_function(path, exercise, function, namespace.get(function.name),
                                   file_notation))
            for function in exercise.functions]


def _exercise_of(path: Path) -> Exercise | None:
    match = re.fullmatch(r"ex(\d\d)_(\w+)\.py", path.name)
    return next((exercise for exercise in EXERCISES if match and exercise.number ==
                 int(match.group(1)) and exercise.stem == match.group(2)), None)


def _check_function(path: Path, exercise: Exercise, function: Function, given: Any,
                    notation: str) -> Result:
    name = function.name
    if not callable(given):
        return Result(path.name, name, "error", f"no function {function.signature()} here")
    try:
        parameters = list(inspect.signature(given).parameters)
    except (TypeError, ValueError):
        parameters = list(function.parameters)
    if len(parameters) != len(function.parameters):
        return Result(path.name, name, "error", f"it takes ({', '.join(parameters)}); the "
                      f"exercise is {function.signature()}")
    if name == "train":
        return _check_training(path, function, given, notation)
    return _check_cases(path, function, given, notation)


def _check_cases(path: Path, function: Function, given: Any, notation: str) -> Result:
    """The first input the function gets wrong (with the slip it looks like, found on that
    input or a later one), or passed."""
    name = function.name
    first = None
    for description, arguments in cases(name, notation, np.random.default_rng(0)):
        verdict = _check_case(path, function, given, notation, description, arguments)
        if verdict is None or verdict.status == "not started":
            if verdict is not None:
                return verdict
            continue
        first = first or verdict
        if verdict.diagnosis:  # the first failure, with a slip another input showed
            first.diagnosis = first.diagnosis or verdict.diagnosis
            break
    return first or Result(path.name, name, "passed", lives_in=function.lives_in)


def _check_case(path: Path, function: Function, given: Any, notation: str, description: str,
                arguments: tuple) -> Result | None:
    """None if the learner's answer on this input is right, else the verdict."""
    name = function.name
    expected = reference(name, notation)(*copy.deepcopy(arguments))
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"), \
                contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("always")
            answer = given(*copy.deepcopy(arguments))
    except NotImplementedError:
        return Result(path.name, name, "not started")
    except BaseException as error:  # noqa: BLE001 - the learner's code
        return Result(path.name, name, "error", f"on {description}: "
                      + _learner_error(error, path))
    overflow = [str(item.message) for item in caught if "overflow" in str(item.message)]
    mismatch = _mismatch(name, notation, arguments, expected, answer)
    if mismatch is None and not overflow:
        return None
    if mismatch is None:
        return Result(path.name, name, "wrong", f"on {description}: numpy warned: "
                      f"{overflow[0]}", "overflow: exp of a large number; rewrite it so that "
                      "exp only ever sees numbers <= 0 (see the hint)")
    detail, diagnosis = mismatch
    return Result(path.name, name, "wrong", f"on {description}: {detail}", diagnosis)


def _mismatch(name: str, notation: str, arguments: tuple, expected: Any, answer: Any
              ) -> tuple[str, str | None] | None:
    """(what differs, the slip it looks like), or None if the answer is right."""
    for what, want, got in _components(name, expected, answer):
        if name == "relu_derivative":  # at exactly 0 either 0 or 1 is right
            got = np.where(np.asarray(arguments[0]) == 0, want, got) \
                if np.shape(got) == np.shape(want) else got
        if got is None or not close(got, want):
            return _first_difference(what, want, got), \
                None if got is None else diagnose(name, notation, arguments, want, got, what)
    return None


def _components(name: str, expected: Any, answer: Any) -> list[tuple[str, Any, Any]]:
    """(name, expected, given) for each part of a function's answer."""
    if name == "dense_backward":
        parts = tuple(answer) if isinstance(answer, (tuple, list)) and len(answer) == 3 \
            else (None, None, None)
        return list(zip(("grad_W", "grad_b", "grad_x"), expected, parts, strict=True))
    if name == "train_step":
        params, loss = answer if isinstance(answer, (tuple, list)) and len(answer) == 2 \
            else ({}, None)
        params = params if isinstance(params, dict) else {}
        return [*((key, value, params.get(key)) for key, value in expected[0].items()),
                ("the loss", expected[1], loss)]
    return [("the result", expected, answer)]


def _first_difference(what: str, expected: Any, given: Any) -> str:
    if given is None:
        return f"{what} is missing (expected a value of shape {np.shape(expected)})"
    expected, given = np.asarray(expected, dtype=np.float64), np.asarray(given)
    if given.dtype.kind not in "biuf":
        return f"{what} is {given.dtype} data; expected numbers of shape {expected.shape}"
    if given.shape != expected.shape:
        return f"{what} has shape {given.shape}; expected {expected.shape}"
    differs = ~np.isclose(given, expected, rtol=1e-6, atol=1e-9, equal_nan=True)
    where = tuple(int(i) for i in np.argwhere(differs)[0]) if differs.any() else ()
    return (f"{what}{list(where) if where else ''}: expected {expected[where]:.6g}, "
            f"given {float(given[where]):.6g}")


def _learner_error(error: BaseException, path: Path) -> str:
    """The learner's line and the message, without the grader's frames."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).parent == path.parent]
    where = f"line {frames[-1].lineno} ({frames[-1].line}): " if frames else ""
    if isinstance(error, MemoryError):
        return f"{where}MemoryError: more memory than the limit allows"
    return f"{where}{type(error).__name__}: {error}"


def _check_training(path: Path, function: Function, train: Any, notation: str) -> Result:
    from ..datasets import load_digits

    X_train, y_train, X_test, y_test = load_digits()
    X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float64)
    if notation == "columns":
        X_train, X_test = X_train.T.copy(), X_test.T.copy()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            predict = train(X_train, y_train, 0)
            predicted = np.asarray(predict(X_test)).reshape(-1)
    except NotImplementedError:
        return Result(path.name, function.name, "not started")
    except BaseException as error:  # noqa: BLE001 - the learner's code
        return Result(path.name, function.name, "error", _learner_error(error, path))
    if predicted.shape != y_test.shape:
        return Result(path.name, function.name, "wrong", f"predict gave {predicted.shape[0]} "
                      f"labels for {len(y_test)} digits")
    accuracy = float(np.mean(predicted == y_test))
    if accuracy < TRAIN_ACCURACY:
        return Result(path.name, function.name, "wrong", f"held-out accuracy {accuracy:.3f}; "
                      f"at least {TRAIN_ACCURACY} is wanted")
    return Result(path.name, function.name, "passed", lives_in=function.lives_in)


if __name__ == "__main__":
    records = run_file(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 and sys.argv[2]
                       else None)
    print(json.dumps(records))
