"""Benchmarks comparing skbo with random search, scikit-optimize, Optuna and BoTorch.

Importing this package pins every native thread pool to
``SKBO_BENCH_THREADS`` threads (default 1) *before* NumPy, SciPy or PyTorch
are imported by a suite, so that every tool is timed under the same thread
limit. Run a suite as ``python -m benchmarks.<suite> --quick|--full``; see
``benchmarks/README.md``.
"""

from __future__ import annotations

import os

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

N_THREADS = int(os.environ.get("SKBO_BENCH_THREADS", "1"))

# NOTE: the variables only take effect if set before the BLAS/OpenMP runtimes
# load, so they are forced here, at package import, rather than in a suite.
for _var in THREAD_ENV_VARS:
    os.environ[_var] = str(N_THREADS)
