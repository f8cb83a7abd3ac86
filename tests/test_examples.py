"""Run every ``examples/*.py`` script with a tiny budget; each must exit 0.

Each script runs in a fresh interpreter with ``SKBO_SMOKE_TEST=1`` (its own
switch to a tiny budget) and matplotlib's non-interactive ``Agg`` backend, so
``plt.show()`` returns at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_examples_are_found() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    env = {
        **os.environ,
        "SKBO_SMOKE_TEST": "1",
        "MPLBACKEND": "Agg",
        # Two threads per script: the machine running the suite is shared.
        "OMP_NUM_THREADS": "2",
    }
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{script.name} exited with {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    )
    assert proc.stdout.strip(), f"{script.name} printed nothing"
