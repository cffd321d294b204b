"""How many threads the BLAS (OpenBLAS, MKL) may use for nnscratch's matrix products.

A training step is a handful of small products, such as (64, 784) @ (784, 200). On a quiet
2-core machine a second BLAS thread makes each product faster, yet a whole MNIST epoch takes
the same time with one thread or two (716 vs 706 ms): waking the threads for every small
product costs what the split gains. On a busy machine the extra threads spin and wait for a
core, and the same epoch took 75 s with two threads against 1.1 s with one. So fit trains
with one BLAS thread when the largest product of a step is small (below SMALL_PRODUCT_FLOPS),
and leaves the BLAS its own choice for large ones, where splitting the work pays.

Override with the environment variable NNSCRATCH_BLAS_THREADS (a number of threads, or
"auto") or with ``set_blas_threads(n)`` (None for automatic). The limit needs threadpoolctl,
which nnscratch installs; without it the BLAS keeps its own setting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
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
    """The BLAS threads for training steps whose largest product takes this many FLOPs
    (None: the BLAS's own default)."""
    if _chosen is not None:
        return _chosen
    setting = os.environ.get("NNSCRATCH_BLAS_THREADS", "auto").strip().lower()
    if setting.isdigit() and int(setting) >= 1:
        return int(setting)
    return 1 if largest_product_flops < SMALL_PRODUCT_FLOPS else None


@contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Limit the BLAS to ``threads`` threads inside the block (None: no limit)."""
    limiter: Any = nullcontext()
    if threads is not None:
        try:
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
        except ImportError:
            pass
        else:
            limiter = threadpool_limits(limits=threads, user_api="blas")
    with limiter:
        yield
