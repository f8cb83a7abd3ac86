"""
The core directly: a GP, qLogNEI and a batch of q = 3 candidates
================================================================

Below :func:`skbo.minimize` and :class:`skbo.BayesSearchCV` is a small core
of tensors in the unit cube, which a researcher can use piece by piece:

1. :class:`skbo.models.SingleTaskGP` with :func:`skbo.models.fit_gp` (MAP
   hyperparameters, dimension-scaled priors);
2. :class:`skbo.acquisition.qLogNoisyExpectedImprovement`, a Monte-Carlo
   acquisition function of a joint batch of ``q`` points;
3. :func:`skbo.optim.optimize_acqf`, multi-start L-BFGS-B over the box.

Acquisition functions **maximize** the model output, so the loop models
``-f`` of the (minimized) Hartmann-6 function. Each iteration proposes a
batch of three points that could be evaluated in parallel. Set
``SKBO_SMOKE_TEST=1`` to run it on a tiny budget.
"""

# %%
import os

import torch

from skbo.acquisition import qLogNoisyExpectedImprovement
from skbo.models import SingleTaskGP, fit_gp
from skbo.optim import draw_sobol_samples, optimize_acqf
from skbo.test_functions import Hartmann

SMOKE_TEST = os.environ.get("SKBO_SMOKE_TEST") == "1"
N_BATCHES = 2 if SMOKE_TEST else 10
NUM_RESTARTS, RAW_SAMPLES = (2, 32) if SMOKE_TEST else (10, 512)
Q = 3

tkwargs = {"dtype": torch.float64, "device": torch.device("cpu")}
hartmann = Hartmann(dim=6)
d = hartmann.dim
bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(**tkwargs)  # (2, d)

# %%
# An initial design of 10 scrambled Sobol points. ``draw_sobol_samples``
# returns ``(n, q, d)``; with ``q=1`` we drop the middle dimension.
train_X = draw_sobol_samples(bounds, n=10, q=1, seed=0).squeeze(1)  # (n, d)
train_Y = -hartmann.evaluate_unit(train_X)  # (n,): the core maximizes

# %%
# The loop: fit, build the acquisition function, optimize a q-batch, evaluate.
# ``warm_start`` starts the fit at the previous hyperparameters; ``seed``
# fixes the Sobol base samples and the restarts, so the run is reproducible.
previous = None
for iteration in range(N_BATCHES):
    model = SingleTaskGP(train_X, train_Y)
    fit = fit_gp(model, warm_start=previous)
    previous = model
    acqf = qLogNoisyExpectedImprovement(model, X_baseline=train_X)
    candidates, acq_values = optimize_acqf(
        acqf,
        bounds,
        q=Q,
        num_restarts=NUM_RESTARTS,
        raw_samples=RAW_SAMPLES,
        X_avoid=train_X,
        seed=iteration,
    )  # candidates: (q, d); acq_values: (q,)
    new_Y = -hartmann.evaluate_unit(candidates)
    train_X = torch.cat([train_X, candidates])
    train_Y = torch.cat([train_Y, new_Y])
    print(
        f"batch {iteration}: fit in {fit.n_iterations:3d} L-BFGS-B steps, "
        f"new values {[round(v, 3) for v in (-new_Y).tolist()]}, "
        f"best so far {-train_Y.max().item():.4f}"
    )

# %%
# The posterior at the best point: ``X`` of shape ``(b, q, d)`` gives a mean
# and a variance of shape ``(b, q)``.
best = train_X[train_Y.argmax()]
posterior = model.posterior(best.view(1, 1, d))
print(
    f"best value found: {-train_Y.max().item():.4f} "
    f"(known minimum {hartmann.optimal_value:.4f})"
)
print(
    f"posterior mean of -f there: {posterior.mean.item():.4f} "
    f"+- {posterior.variance.sqrt().item():.4f}"
)
