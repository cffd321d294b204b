"""The BLAS-thread choice (_threads.py): one thread for small training products, a timed
choice for large ones, the user's override, and a limit that really applies inside fit
(timings are in bench_contention.py; the choice's own tests run on a simulated clock)."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import nnscratch as ns
from nnscratch import _threads


@pytest.fixture(autouse=True)
def automatic(monkeypatch):
    monkeypatch.delenv("NNSCRATCH_BLAS_THREADS", raising=False)
    yield
    ns.set_blas_threads(None)


def blas_threads_now() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_small_products_train_on_one_thread_and_large_ones_on_the_blas_default():
    assert _threads.training_threads(2 * 64 * 784 * 200) == 1
    assert _threads.training_threads(2 * 256 * 2048 * 2048) is None


def test_the_user_overrides_by_function_or_environment(monkeypatch):
    monkeypatch.setenv("NNSCRATCH_BLAS_THREADS", "2")
    assert _threads.training_threads(1.0) == 2
    monkeypatch.setenv("NNSCRATCH_BLAS_THREADS", "auto")
    assert _threads.training_threads(1.0) == 1
    ns.set_blas_threads(3)
    assert _threads.training_threads(1e12) == 3
    ns.set_blas_threads(None)
    assert _threads.training_threads(1e12) is None
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads must be a whole number >= 1 or None"):
            ns.set_blas_threads(bad)


def threads_during_fit(n_rows: int, batch_size: int) -> tuple[set[int], list[set[int]]]:
    """The BLAS thread counts before a small fit and at the end of each of its steps."""
    if not blas_threads_now():
        pytest.skip("no BLAS library that threadpoolctl can see")
    before = blas_threads_now()
    seen: list[set[int]] = []

    class Watch(ns.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(blas_threads_now())

    X, y = np.random.default_rng(0).random((n_rows, 8)), np.arange(n_rows) % 2
    ns.MLP([8, 16, 2], seed=0).fit(X, y, loss="cross_entropy", epochs=1,
                                   batch_size=batch_size, callbacks=[Watch()])
    return before, seen


def test_fit_runs_its_steps_under_the_chosen_limit_and_restores_it():
    before, seen = threads_during_fit(40, 20)
    assert seen and all(threads == {1} for threads in seen)
    assert blas_threads_now() == before


class Machine:
    """A simulated clock: each step takes the time its thread option costs right now."""

    def __init__(self, costs):
        self.now = 0.0
        self.costs = costs  # {option: seconds a step}

    def run(self, choice, steps):
        used = []
        for _ in range(steps):
            choice.begin_step()
            used.append(choice.current)
            self.now += self.costs[choice.current]
            choice.end_step()
        return used


def adaptive_choice(machine, monkeypatch):
    choice = _threads.ThreadChoice(None, adaptive=True, clock=lambda: machine.now)
    monkeypatch.setattr(choice, "_apply", lambda threads: None)  # nothing to limit here
    return choice


T = _threads.ThreadChoice.TRIAL_STEPS
FIRST = _threads.ThreadChoice.FIRST_INTERVAL


def test_on_a_quiet_machine_the_blas_threads_win_and_one_thread_is_retried_ever_less_often(
        monkeypatch):
    machine = Machine({None: 1.0, 1: 1.5})
    choice = adaptive_choice(machine, monkeypatch)
    used = machine.run(choice, 2 * T + FIRST + 2 * T + 2 * FIRST)
    assert used[:2 * T] == [1] * T + [None] * T  # the first trial: a few steps of each
    used = used[2 * T:]
    assert used[:FIRST] == [None] * FIRST  # the faster one runs
    used = used[FIRST:]
    assert used[:2 * T] == [1] * T + [None] * T  # then the other, beside the best, again
    assert used[2 * T:] == [None] * 2 * FIRST  # it lost again: twice as long before the next
    assert choice.best is None and choice.interval == 2 * FIRST


def test_on_a_busy_machine_one_thread_wins_and_a_retrial_stops_after_one_slow_step(
        monkeypatch):
    machine = Machine({None: 3.6, 1: 1.0})  # the BLAS's threads waiting for a busy core
    choice = adaptive_choice(machine, monkeypatch)
    used = machine.run(choice, T + 1 + FIRST + 1 + T)
    assert used[:T + 1] == [1] * T + [None]  # the BLAS's own trial stops after one slow step
    assert used[T + 1:T + 1 + FIRST] == [1] * FIRST
    assert used[T + 1 + FIRST:] == [None] + [1] * T  # and so does every later one
    assert choice.best == 1 and choice.interval == 2 * FIRST


def test_a_machine_that_turns_busy_is_noticed_within_a_few_steps(monkeypatch):
    machine = Machine({None: 1.0, 1: 1.5})
    choice = adaptive_choice(machine, monkeypatch)
    machine.run(choice, 2 * T + 10)
    machine.costs = {None: 3.6, 1: 1.0}  # other work starts on every core
    used = machine.run(choice, T + 2 * T + 5)
    assert used[:T] == [None] * T  # a few slow steps of the best...
    assert used[T:3 * T] == [1] * T + [None] * T  # ...start a full trial
    assert used[3 * T:] == [1] * 5 and choice.best == 1


def test_one_thread_must_win_by_a_margin_to_replace_the_blas_threads(monkeypatch):
    machine = Machine({None: 1.0, 1: 0.95})  # a trial's noise, not a busy machine
    choice = adaptive_choice(machine, monkeypatch)
    machine.run(choice, 2 * T + 20)
    assert choice.best is None
    machine.costs = {None: 1.0, 1: 0.8}  # clearly faster: it wins at the next trial
    machine.run(choice, FIRST + 2 * T)
    assert choice.best == 1


def test_a_fixed_choice_never_switches_and_reads_no_clock(monkeypatch):
    def no_clock():
        raise AssertionError("a fixed choice must not time anything")

    for threads in (None, 1, 3):
        choice = _threads.ThreadChoice(threads, clock=no_clock)
        monkeypatch.setattr(choice, "_apply", lambda threads: None)
        used = Machine({threads: 1.0}).run(choice, 50)
        assert used == [threads] * 50


def test_fit_with_large_products_times_both_settings_then_restores_the_blas(monkeypatch):
    monkeypatch.setattr(_threads, "SMALL_PRODUCT_FLOPS", 1.0)  # every product counts as large
    before, seen = threads_during_fit(80, 8)
    trial = _threads.ThreadChoice.TRIAL_STEPS
    assert seen[:trial] == [{1}] * trial  # the first trial: one thread, then the BLAS's own
    assert seen[trial] == before
    assert all(threads in (before, {1}) for threads in seen[2 * trial:])
    assert blas_threads_now() == before
