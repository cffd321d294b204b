"""Learning by doing: the exercise ladder, and the grader's verdicts and diagnoses.

Every diagnosis is planted: a correct solution (tests/learn_solutions/) with one function
replaced by a known wrong form; the grader must name that slip, and never flag a right answer.
"""

from __future__ import annotations

import ast
import hashlib
import textwrap
from pathlib import Path

import pytest

from nnscratch.cli import main
from nnscratch.learn.exercises import EXERCISES, write_ladder
from nnscratch.learn.grader import CheckError, check, report

SOLUTIONS = Path(__file__).resolve().parent / "learn_solutions"


def solution_functions(notation: str) -> dict[str, str]:
    source = (SOLUTIONS / f"{notation}.py").read_text()
    return {node.name: ast.get_source_segment(source, node)
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}


def solved_ladder(folder: Path, notation: str = "rows", **replaced: str) -> Path:
    """The ladder with every function solved (helpers included in each file, as a learner's
    own would be), except those given in ``replaced`` (name -> code)."""
    write_ladder(folder, notation)
    functions = {**solution_functions(notation),
                 **{name: textwrap.dedent(code) for name, code in replaced.items()}}
    for exercise in EXERCISES:
        (folder / exercise.file_name).write_text(
            f'import numpy as np\n\nNOTATION = "{notation}"\n\n\n'
            + "\n\n\n".join(functions.values()) + "\n")
    return folder


def verdict(results, function):
    return next(result for result in results if result.function == function)


# ---- the ladder -------------------------------------------------------------------------------


def test_the_ladder_is_written_with_stubs_and_never_overwrites(tmp_path):
    written = write_ladder(tmp_path / "mine")
    assert {path.name for path in written} == {*(e.file_name for e in EXERCISES), "README.md"}
    text = (tmp_path / "mine" / "ex05_dense.py").read_text()
    assert "z = x W + b" in text and "raise NotImplementedError" in text and "Hint:" in text
    assert 'NOTATION = "rows"' in text and "Read first: docs/" in text
    (tmp_path / "mine" / "ex01_neuron.py").write_text("# my work")
    with pytest.raises(FileExistsError, match="ex01_neuron.py.*not overwritten"):
        write_ladder(tmp_path / "mine")
    assert (tmp_path / "mine" / "ex01_neuron.py").read_text() == "# my work"
    columns = write_ladder(tmp_path / "columns", "columns")
    assert "z = W a + b" in next(p for p in columns if p.name == "ex05_dense.py").read_text()


def test_a_fresh_ladder_is_not_started_and_exits_1(tmp_path, capsys):
    assert main(["exercises", str(tmp_path / "mine")]) == 0
    assert main(["check", str(tmp_path / "mine")]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "0 of 16 passed"
    assert sum("not started" in line for line in out) == 16


@pytest.mark.parametrize("notation", ["rows", "columns"])
def test_the_correct_solutions_pass_in_both_notations(tmp_path, notation, capsys):
    folder = solved_ladder(tmp_path / "mine", notation)
    before = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
              for path in folder.iterdir()}
    assert main(["check", str(folder), "--notation", notation]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "16 of 16 passed"
    assert "passed (in nnscratch: nnscratch.activations.softmax)" in out
    assert before == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                      for path in folder.iterdir()}  # the learner's files are never written


# ---- the diagnoses, each planted ----------------------------------------------------------------

SLIPS = [
    ("dense_backward", "rows", """
        def dense_backward(x, W, grad_z):
            return grad_z.T @ x, grad_z.sum(axis=0), grad_z @ W.T
     """, "transposed"),
    ("cross_entropy_gradient", "rows", """
        def cross_entropy_gradient(logits, labels):
            p = softmax(logits)
            p[np.arange(len(labels)), labels] -= 1
            return p
     """, "times too large (n, the number of samples): a sum where the mean is wanted"),
    ("mse", "rows", """
        def mse(y_pred, y):
            return float(np.sum((y_pred - y) ** 2))
     """, "times too large (the number of entries)"),
    ("cross_entropy_gradient", "rows", """
        def cross_entropy_gradient(logits, labels):
            y = np.eye(logits.shape[1])[labels]
            return (y - softmax(logits)) / len(labels)
     """, "wrong sign: y - p where p - y is wanted"),
    ("sgd_step", "rows", """
        def sgd_step(param, grad, lr):
            return param + lr * grad
     """, "gradient ascent"),
    ("sigmoid_derivative", "rows", """
        def sigmoid_derivative(z):
            return z * (1 - z)
     """, "evaluated at the activation"),
    ("tanh_derivative", "rows", """
        def tanh_derivative(z):
            return 1 - z ** 2
     """, "evaluated at the activation"),
    ("softmax", "rows", """
        def softmax(z):
            return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
     """, "overflow"),
    ("cross_entropy", "rows", """
        def cross_entropy(logits, labels):
            p = softmax(logits)
            return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))
     """, "log(0)"),
    ("dense_backward", "rows", """
        def dense_backward(x, W, grad_z):
            return x.T @ grad_z, grad_z, grad_z @ W.T
     """, "not summed over the samples"),
    ("dense_backward", "rows", """
        def dense_backward(x, W, grad_z):
            return x.T @ grad_z, grad_z.sum(axis=0, keepdims=True), grad_z @ W.T
     """, "a shape that broadcasts"),
    ("dense_forward", "columns", """
        def dense_forward(a, W, b):
            return W.T @ a + b
     """, "W used as (in, out)"),
    ("softmax", "rows", """
        def softmax(z):
            shifted = np.exp(z - z.max(axis=0, keepdims=True))
            return shifted / shifted.sum(axis=0, keepdims=True)
     """, "normalised over the wrong axis"),
    ("sigmoid", "rows", """
        def sigmoid(z):
            return 1 / (1 + np.exp(-z))
     """, "overflow"),
    ("mse_gradient", "rows", """
        def mse_gradient(y_pred, y):
            return (y_pred - y) / y_pred.size
     """, "half the gradient"),
]


@pytest.mark.parametrize("function, notation, code, diagnosis", SLIPS,
                         ids=[f"{slip[0]}-{slip[3][:24]}" for slip in SLIPS])
def test_a_planted_slip_is_named(tmp_path, function, notation, code, diagnosis):
    folder = solved_ladder(tmp_path / "mine", notation, **{function: code})
    file = next(e.file_name for e in EXERCISES
                if function in {f.name for f in e.functions})
    result = verdict(check(folder / file), function)
    assert result.status in ("wrong", "error"), result  # W^T a raises on a non-square W
    assert diagnosis in (result.diagnosis or ""), result
    assert result.detail.startswith("on ")  # which input, and the first mismatch


def test_relu_derivative_at_zero_may_be_either(tmp_path):
    folder = solved_ladder(tmp_path / "mine", relu_derivative="""
        def relu_derivative(z):
            return (np.asarray(z) >= 0).astype(float)
    """)
    assert verdict(check(folder / "ex02_activations.py"), "relu_derivative").status == "passed"


# ---- the learner's code cannot take the grader down -----------------------------------------


def test_an_exception_shows_the_learners_line_and_message(tmp_path):
    folder = solved_ladder(tmp_path / "mine", relu="""
        def relu(z):
            scale = 0
            return z / scale if z.size > 100 else undefined_name
    """)
    result = verdict(check(folder / "ex02_activations.py"), "relu")
    assert result.status == "error"
    assert "NameError: name 'undefined_name' is not defined" in result.detail
    assert "(return z / scale if z.size > 100 else undefined_name)" in result.detail
    assert "grader.py" not in result.detail


def test_a_syntax_error_names_its_line(tmp_path):
    write_ladder(tmp_path / "mine")
    path = tmp_path / "mine" / "ex01_neuron.py"
    path.write_text("import numpy as np\n\ndef neuron(x, w, b)\n    return 1\n")
    (result,) = check(path)
    assert result.status == "error" and "line 3: SyntaxError" in result.detail


def test_an_endless_loop_and_a_huge_allocation_stop_at_the_limits(tmp_path):
    folder = solved_ladder(tmp_path / "mine", neuron="""
        def neuron(x, w, b):
            while True:
                pass
    """, relu="""
        def relu(z):
            return np.ones((10**6, 10**6))
    """)
    (stuck,) = check(folder / "ex01_neuron.py", time_limit=5)
    assert stuck.status == "error" and "stopped after 5 s" in stuck.detail
    greedy = verdict(check(folder / "ex02_activations.py", memory_limit=2**31), "relu")
    assert greedy.status == "error" and "MemoryError" in greedy.detail


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nowhere")]) == 2
    assert "nnscratch exercises" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckError, match="not a Python file"):
        check(tmp_path / "notes.txt")
    folder = solved_ladder(tmp_path / "mine", neuron="""
        def neuron(x, w):
            return 0.0
    """)
    (result,) = check(folder / "ex01_neuron.py")
    assert result.status == "error" and "it takes (x, w); the exercise is neuron(x, w, b)" \
        in result.detail
    (mismatch,) = check(folder / "ex01_neuron.py", "columns")
    assert "NOTATION = 'rows' but the check asked for 'columns'" in mismatch.detail
    write_ladder(tmp_path / "again")
    assert main(["exercises", str(tmp_path / "again")]) == 2
    assert "not overwritten" in capsys.readouterr().err
    assert report(check(folder / "ex01_neuron.py")).splitlines()[-1] == "0 of 1 passed"
