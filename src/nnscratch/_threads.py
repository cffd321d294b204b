"""How many threads the BLAS (OpenBLAS, MKL) may use for nnscratch's matrix products.

A training step is a handful of small products, such as (64, 784) @ (784, 200). On a quiet
2-core machine a second BLAS thread makes each product faster, yet a whole MNIST epoch takes
about the same time with one thread or two: waking the threads for every small product costs
what the split gains. On a busy machine the extra threads spin and wait for a core, and the
same epoch takes tens of times longer with two threads than with one. So fit trains with one
BLAS thread when the largest product of a step is small (below SMALL_PRODUCT_FLOPS).

For larger products (784-1024-1024-10 at batch 256) the split pays on a quiet machine and
still collapses on a busy one (benchmarks/bench_contention.py measures both; the numbers, with
the CPU they were measured on, are in benchmarks/README.md). No setting is right for both,
and a machine turns busy or quiet while a fit runs, so for large products fit times both
(``ThreadChoice``): a few steps with one thread, a few with the BLAS's own thread count; the
faster one runs, and the other is timed again after 32 steps, then 64, 128, ... while it
keeps losing, and both at once if the steps turn twice as slow as measured. A trial that is
already twice as slow as the best is cut short after one step, so on a busy machine a check
costs one slow step. OpenBLAS may round
the last bits of a product differently with another thread count, so two fits of a large
network on a machine whose load changed can differ in their last bits; fixing the count (below)
makes them bit-identical again.

Override with the environment variable NNSCRATCH_BLAS_THREADS (a number of threads, or
"auto") or with ``set_blas_threads(n)`` (None for automatic). The limit needs threadpoolctl,
which nnscratch installs; without it the BLAS keeps its own setting.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

SMALL_PRODUCT_FLOPS = 1e8  # (64, 784) @ (784, 200) is 2e7; (256, 2048) @ (2048, 2048) is 2e9

_chosen: int | None = None  # set_blas_threads; None: automatic


def set_blas_threads(threads: int | None) -> None:
    """Use ``threads`` BLAS threads while training (None: choose by the size of the products)."""
    global _chosen
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a whole number >= 1 or None (automatic); got "
                         f"{threads!r}.")
    _chosen = threads


def training_threads(largest_product_flops: float) -> int | None:
    """The BLAS threads for training steps whose largest product takes this many FLOPs: the
    user's choice, else one for small products, else None (large products: fit times one
    thread against the BLAS's own count, see ThreadChoice)."""
    if _chosen is not None:
        return _chosen
    setting = os.environ.get("NNSCRATCH_BLAS_THREADS", "auto").strip().lower()
    if setting.isdigit() and int(setting) >= 1:
        return int(setting)
    return 1 if largest_product_flops < SMALL_PRODUCT_FLOPS else None


class ThreadChoice:
    """The BLAS threads of one fit's steps: fixed (``threads``, None for the BLAS's own), or,
    with ``adaptive``, chosen by timing (see the module docstring). Use it as a context around
    the fit, and call ``begin_step`` and ``end_step`` around each training step."""

    TRIAL_STEPS = 2  # steps timed per option in a trial
    FIRST_INTERVAL = 32  # steps before the losing option is timed again (doubles as it loses)
    LONGEST_INTERVAL = 4096
    SLOWER = 2.0  # a step this many times the best's time cuts a trial short or calls one
    MARGIN = 1.1  # one thread replaces the BLAS's own count only if this much faster

    def __init__(self, threads: int | None, adaptive: bool = False,
                 clock: Callable[[], float] = time.perf_counter):
        self.adaptive = adaptive
        self.clock = clock
        # one thread first: on a busy machine the BLAS's own trial then stops after one step
        self.options: tuple[int | None, ...] = (1, None) if adaptive else (threads,)
        self.current: int | None = self.options[0]
        self.trial = list(self.options)  # options still to time in the present trial
        self.samples: dict[int | None, list[float]] = {option: [] for option in self.options}
        self.best: int | None = self.current
        self.best_time = 0.0
        self.first_trial = True
        self.interval = self.FIRST_INTERVAL
        self.until_trial = 0
        self.slow_steps = 0
        self.started = 0.0
        self._controller: Any = None
        self._limiter: Any = None

    def __enter__(self) -> ThreadChoice:
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError:
            self.adaptive = False  # nothing to set: the BLAS keeps its own count
            return self
        self._controller = ThreadpoolController()
        self._apply(self.current)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._apply(None)

    def _apply(self, threads: int | None) -> None:
        """Limit the BLAS to ``threads`` (None: give it back its own setting)."""
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None
        if threads is not None and self._controller is not None:
            self._limiter = self._controller.limit(limits=threads, user_api="blas")

    def begin_step(self) -> None:
        if self.adaptive:
            option = self.trial[0] if self.trial else self.best
            if option != self.current:
                self._apply(option)
                self.current = option
            self.started = self.clock()

    def end_step(self) -> None:
        if self.adaptive:
            self._record(self.clock() - self.started)

    def _record(self, seconds: float) -> None:
        if self.trial:
            self._record_trial(seconds)
            return
        self.until_trial -= 1
        self.slow_steps = self.slow_steps + 1 if seconds > self.SLOWER * self.best_time else 0
        if self.slow_steps >= self.TRIAL_STEPS:  # as many slow steps as a trial: time both now
            self._start_trial(list(self.options), reset=True)
        elif self.until_trial <= 0:  # time the other option again, and the best beside it
            self._start_trial([option for option in self.options if option != self.best]
                              + [self.best], reset=False)

    def _record_trial(self, seconds: float) -> None:
        """One timed step of the option on trial; the trial moves on after TRIAL_STEPS, or
        at once when an option other than the best is much slower than it."""
        samples = self.samples[self.current]
        samples.append(seconds)
        slow = self.best_time and seconds > self.SLOWER * self.best_time
        if len(samples) >= self.TRIAL_STEPS or (slow and self.current != self.best):
            self.trial.pop(0)
            if not self.best_time:  # the fit's first trial: the first option, for now
                self.best, self.best_time = self.current, statistics.median(samples)
            if not self.trial:
                self._decide()

    def _start_trial(self, options: list[int | None], reset: bool) -> None:
        self.trial = options
        self.samples = {option: [] for option in self.options}
        self.slow_steps = 0
        if reset:
            self.interval = self.FIRST_INTERVAL

    def _decide(self) -> None:
        medians = {option: statistics.median(samples)
                   for option, samples in self.samples.items() if samples}
        # one thread must win by a margin: a trial disturbed by other work for a moment should
        # not give up the BLAS's threads on a quiet machine (on a busy one it wins by 1.3x+)
        one_thread_wins = medians[1] * self.MARGIN < medians.get(None, float("inf"))
        winner = 1 if one_thread_wins else None
        if winner == self.best and not self.first_trial:
            self.interval = min(2 * self.interval, self.LONGEST_INTERVAL)
        else:
            self.interval = self.FIRST_INTERVAL
        self.first_trial = False
        self.best, self.best_time = winner, medians[winner]
        self.until_trial = self.interval

