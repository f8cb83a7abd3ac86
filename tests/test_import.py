"""``import skbo`` stays light: no PyTorch, scikit-learn or optional extras."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_import_pulls_in_no_heavy_module() -> None:
    code = (
        "import sys, skbo; "
        "heavy = [m for m in ('torch', 'sklearn', 'gpytorch', 'matplotlib', 'pandas', "
        "'optuna', 'botorch', 'skopt', 'tqdm', 'dask') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_lazy_attributes() -> None:
    import skbo

    assert skbo.Real.__name__ == "Real"
    assert "BayesSearchCV" in dir(skbo)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skbo.nope
