"""``import skbo`` stays light: no PyTorch, scikit-learn or optional extras."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _python(code: str) -> str:
    """The last line ``code`` prints in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    lines = out.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def test_import_pulls_in_no_heavy_module() -> None:
    code = (
        "import sys, skbo; "
        "heavy = [m for m in ('torch', 'sklearn', 'gpytorch', 'matplotlib', 'pandas', "
        "'optuna', 'botorch', 'skopt', 'tqdm', 'dask') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    assert _python(code) == ""


def test_first_suggestions_do_not_import_sympy() -> None:
    # torch.broadcast_shapes (in gpytorch's ConstantMean) imports SymPy on its
    # first call, ~0.5 s on a search's first model-based suggestion.
    code = (
        "import sys, skbo\n"
        "opt = skbo.Optimizer([(0.0, 1.0), (1, 5), ['a', 'b']], random_state=0)\n"
        "for _ in range(6):\n"
        "    x = opt.ask(); opt.tell(x, float(x[0] + x[1]))\n"
        "print('sympy' in sys.modules)\n"
    )
    assert _python(code) == "False"


def test_lazy_attributes() -> None:
    import skbo

    assert skbo.Real.__name__ == "Real"
    assert "BayesSearchCV" in dir(skbo)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skbo.nope
