"""Thread control.

actcore's kernels run on the OpenMP runtime it was built with.  ``set_num_threads(n)`` sets
that runtime's thread count for the calling thread (``omp_set_num_threads``), so
``OMP_NUM_THREADS`` and ``threadpoolctl.threadpool_limits`` act on actcore exactly as they do
on any OpenMP library; ``get_num_threads()`` reads it back.  Arrays below a size threshold run
on one thread whatever the setting; results never depend on the thread count.
"""

from __future__ import annotations

import contextlib
import os
import warnings

from . import _core


def get_num_threads() -> int:
    """Threads a large kernel will use (1 when actcore was built without OpenMP)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Use n threads for large kernels (n >= 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be an integer >= 1, got {n!r}")
    _core.set_num_threads(n)


@contextlib.contextmanager
def num_threads(n: int):
    """Context manager: ``with actcore.num_threads(1): ...`` restores the old count on exit."""
    old = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(old)


def _init_from_env():
    value = os.environ.get("ACTCORE_PARALLEL_MIN")
    if value:
        try:
            _core.parallel_min(int(value))
        except ValueError:
            warnings.warn(f"ACTCORE_PARALLEL_MIN={value!r} is not an integer; ignored",
                          RuntimeWarning, stacklevel=3)
