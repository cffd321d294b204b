"""The fault-finding scripts in tools/ run clean on a small scale (the full runs are reported in
docs/reliability.md): the file fuzzer and the interruption trials."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"
sys.path.insert(0, str(TOOLS))


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_promise_fuzzed_files_load_validly_or_fail_with_the_documented_error(shared_data):
    import fuzz_files

    lines: list[str] = []
    tally = fuzz_files.fuzz(300, 80, seed=11, data_dir=shared_data, timeout=20.0,
                            report=lines.append)
    assert tally["failures"] == 0, lines
    assert tally["model refused"] > 100 and tally["model loaded"] > 10
    assert tally["idx refused"] > 30
    assert tally["worst peak / limit (percent)"] <= 100


def test_promise_interrupted_runs_are_complete_or_absent(capsys):
    import interrupt_runs

    assert interrupt_runs.main(["--trials", "4", "--seed", "2"]) == 0
    assert "broken promises: 0" in capsys.readouterr().out
