"""Tests of skbo.models._prediction helpers."""

from __future__ import annotations

import pytest
import torch


def test_prior_mean_matches_the_mean_module() -> None:
    from gpytorch.means import ConstantMean, ZeroMean

    from skbo.models._prediction import prior_mean

    X = torch.rand(2, 5, 3, dtype=torch.float64)
    constant = ConstantMean().double()
    constant.constant.data.fill_(0.7)
    out = prior_mean(constant, X)
    torch.testing.assert_close(out, constant(X))
    out.sum().backward()
    assert constant.constant.grad is not None
    assert float(constant.constant.grad) == pytest.approx(10.0)
    torch.testing.assert_close(prior_mean(ZeroMean(), X), torch.zeros(2, 5).double())


def test_first_suggestions_do_not_import_sympy() -> None:
    # torch.broadcast_shapes (in gpytorch's ConstantMean) imports SymPy on its
    # first call, ~0.5 s on a search's first model-based suggestion.
    import subprocess
    import sys

    code = (
        "import sys, skbo\n"
        "opt = skbo.Optimizer([(0.0, 1.0), (1, 5), ['a', 'b']], random_state=0)\n"
        "for _ in range(6):\n"
        "    x = opt.ask(); opt.tell(x, float(x[0] + x[1]))\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
