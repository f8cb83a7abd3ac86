"""Limit PyTorch's intra-op threads around the many small tensor operations of BO.

NOTE: GP fitting and acquisition optimization are made of many small tensor
operations. With PyTorch's default thread pool, contention with joblib workers
(or anything else on the machine) makes them an order of magnitude slower
(a 15x15 Cholesky with backward: 1.1 ms with 2 threads on a busy 2-core
machine, 0.1 ms with 1). Optuna's GPSampler does the same
(``optuna/_gp/thread_limiting.py``). BLAS threads (OpenBLAS/MKL, used by
SciPy's L-BFGS-B and NumPy) are capped too: with them, each SciPy L-BFGS-B
step was about 30x slower on a busy 2-core machine, and a GP fit at n=50
took 114 ms instead of 34 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import torch

__all__ = ["limit_threads"]

_LOCK = threading.RLock()
_CONTROLLER: list[Any] = []


def _blas_controller() -> Any:
    # Building a ThreadpoolController inspects the loaded libraries (ms): once.
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


@contextmanager
def limit_threads(n_threads: int | None = 1) -> Iterator[None]:
    """Run a block with at most ``n_threads`` PyTorch intra-op and BLAS threads.

    The caller's settings are restored on exit, also when the block raises.

    Parameters
    ----------
    n_threads : int or None, default=1
        Intra-op threads to use inside the block; ``None`` leaves the setting
        untouched.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with limit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    if n_threads < 1:
        raise ValueError(
            f"n_threads must be a positive integer or None, got {n_threads}."
        )
    with _LOCK, ExitStack() as stack:
        previous = torch.get_num_threads()
        if previous != n_threads:
            torch.set_num_threads(n_threads)
        stack.enter_context(_blas_controller().limit(limits=n_threads, user_api="blas"))
        try:
            yield
        finally:
            if torch.get_num_threads() != previous:
                torch.set_num_threads(previous)
