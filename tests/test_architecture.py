"""The package's shape: every module's imports (those inside functions included) follow one
dependency order, lowest first, so there are no cycles and nothing reaches up:

    arrays        backend (which array library and device: NumPy, CuPy, PyTorch)
    plumbing      _version, _validation, _signals, _files, _threads
    the math      init < layers < activations < losses < optim, metrics < _fast (their fast forms)
    files         serialization (the format alone: it never imports network)
    training      callbacks, fit_data (what fit trains on) < training < gradcheck, explain
    the model     network (Sequential, its predictions, facades over training and files)
    data          datasets (idx < download < builtin, mnist < the package) < tabular (your own), input_stats (how far from the training rows)
    on top        plots, report < runs < recipes, _plot_worker < play (engine < server) < cli < __main__, and the package's __init__;
                  cli: process < common < arguments, images < train, commands < parser < __init__
                  sklearn (estimators over network, imported only as nnscratch.sklearn);
                  learn (exercises < slips < reference < grader: the core's equations, checked)

No function or method is more complex than 12 by radon's count of cyclomatic complexity (ruff
checks its own count, mccabe's, against the same limit).

No module imports a name from the package's ``__init__`` (importing a sibling module through
``from . import x`` is fine), and no module imports the package by its absolute name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nnscratch"
ORDER = [
    ["backend"],
    ["_version", "_validation", "_signals", "_files", "_threads"],
    ["init"], ["layers"], ["activations"], ["losses"], ["optim", "metrics"], ["_fast"],
    ["serialization"],
    ["callbacks", "fit_data"], ["training"], ["gradcheck", "explain"],
    ["network"],
    ["datasets.idx", "datasets.download"], ["datasets.builtin", "datasets.mnist"],
    ["datasets"], ["tabular", "input_stats"],
    ["learn.exercises", "learn.slips"], ["learn.reference"], ["learn.grader"], ["learn"],
    ["plots", "report", "sklearn"], ["runs"], ["recipes", "_plot_worker"],
    ["play.engine"], ["play.server"], ["play"],
    ["cli.process"], ["cli.common"], ["cli.arguments", "cli.images"], ["cli.train", "cli.commands"],
    ["cli.parser"], ["cli"], ["__main__", "__init__"],
]
RANK = {module: rank for rank, group in enumerate(ORDER) for module in group}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def is_module(name: str) -> bool:
    path = PACKAGE.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> dict[str, int]:
    """The package modules that ``path`` imports -> the line of the first such import."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            assert not any(alias.name.split(".")[0] == "nnscratch" for alias in node.names), \
                f"{name} imports nnscratch by its absolute name (line {node.lineno})"
        if not isinstance(node, ast.ImportFrom):
            continue
        assert node.module is None or not node.module.startswith("nnscratch"), \
            f"{name} imports nnscratch by its absolute name (line {node.lineno})"
        if not node.level:
            continue
        base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
        target = [*base, *(node.module.split(".") if node.module else [])]
        for alias in node.names:
            candidate = ".".join([*target, alias.name])
            if is_module(candidate):
                found.setdefault(candidate, node.lineno)
            else:
                module = ".".join(target) or "__init__"
                assert module != "__init__" or name == "__init__", \
                    f"{name} imports {alias.name!r} from the package's __init__ (line {node.lineno})"
                found.setdefault(module, node.lineno)
    found.pop(name, None)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_place_in_the_order():
    assert {module_name(path) for path in MODULES} == set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_only_reach_down_the_dependency_order(path):
    name = module_name(path)
    upward = {module: line for module, line in imports_of(path).items()
              if RANK[module] >= RANK[name]}
    assert not upward, f"{name} imports modules at or above its level: {upward}"


def test_the_checker_sees_imports_inside_functions(tmp_path, monkeypatch):
    fake = tmp_path / "nnscratch"
    fake.mkdir()
    (fake / "layers.py").write_text("def f():\n    from .network import Sequential\n")
    (fake / "network.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert imports_of(fake / "layers.py") == {"network": 2}


MAX_COMPLEXITY = 12


def function_blocks(blocks):
    """radon's blocks flattened: functions, methods and the functions nested in either."""
    for block in blocks:
        if hasattr(block, "methods"):  # a class: its methods and nested classes
            yield from function_blocks([*block.methods, *block.inner_classes])
        else:
            yield block
            yield from function_blocks(block.closures)


def test_no_function_is_more_complex_than_12_by_radon():
    from radon.complexity import cc_visit

    too_complex = [f"{module_name(path)}.{block.fullname} (line {block.lineno}): "
                   f"{block.complexity}"
                   for path in MODULES
                   for block in function_blocks(cc_visit(path.read_text(encoding="utf-8")))
                   if block.complexity > MAX_COMPLEXITY]
    assert not too_complex, too_complex


def test_the_complexity_check_sees_methods_and_nested_functions():
    from radon.complexity import cc_visit

    branches = "".join(f"        if x == {n}:\n            return {n}\n" for n in range(13))
    code = ("class A:\n    def f(self, x):\n        def g(x):\n" + branches.replace(
        "        ", "            ") + "            return 0\n        return g(x)\n")
    found = {block.name: block.complexity for block in function_blocks(cc_visit(code))}
    assert found["g"] > MAX_COMPLEXITY and found["f"] <= MAX_COMPLEXITY
