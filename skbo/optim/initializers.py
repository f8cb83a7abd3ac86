r"""Starting points of the multi-start acquisition optimizer.

Notation
--------
``d``: columns; ``bounds``: ``(2, d)``; ``N``: raw (Sobol) samples;
``R``: restarts; ``f_i``: acquisition value of pool point ``i``.

The pool is ``N`` scrambled Sobol points plus the most recent observed points
(``X_baseline``: given, or the acquisition function's own), evaluated in one
batched call. The
``R`` starting points are

* the ``n_best`` best pool points,
* Gaussian perturbations (standard deviation ``perturb_std`` times the box
  width) of the incumbents: the best pool points and the best baseline rows,
* the rest drawn without replacement with Boltzmann weights
  ``w_i = exp(eta (f_i - max f) / std(f))`` (roulette selection as in
  BoTorch's ``initialize_q_batch`` and Optuna's ``optim_mixed``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from skbo.optim.mixed import MixedSpec
from skbo.optim.utils import (
    check_bounds,
    check_int,
    evaluate_batched,
    fix_features,
    unique_rows,
)

__all__ = [
    "InitialConditions",
    "draw_sobol_samples",
    "gen_initial_conditions",
    "initialize_q_batch",
    "sample_around",
]


def _generator(seed: int | None) -> torch.Generator:
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(int(seed))
    return g


def draw_sobol_samples(
    bounds: Tensor, n: int, q: int = 1, seed: int | None = None
) -> Tensor:
    """Scrambled Sobol points in the box ``bounds``.

    Parameters
    ----------
    bounds : Tensor of shape (2, d)
        Lower and upper bounds; the result takes their dtype and device.
    n : int
        Number of t-batches (>= 1).
    q : int, default=1
        Points per t-batch (>= 1).
    seed : int or None, default=None
        Scrambling seed; ``None`` draws one from the OS.

    Returns
    -------
    Tensor of shape (n, q, d)

    Examples
    --------
    >>> import torch
    >>> bounds = torch.tensor([[0.0, -1.0], [1.0, 1.0]], dtype=torch.float64)
    >>> X = draw_sobol_samples(bounds, n=8, q=2, seed=0)
    >>> X.shape, bool((X[..., 1] >= -1).all())
    (torch.Size([8, 2, 2]), True)
    """
    bounds = check_bounds(bounds)
    n, q = check_int(n, "n", 1), check_int(q, "q", 1)
    d = bounds.shape[1]
    engine = SobolEngine(q * d, scramble=True, seed=seed)  # type: ignore[no-untyped-call]
    U = engine.draw(n, dtype=torch.float64).view(n, q, d)
    U = U.to(device=bounds.device, dtype=bounds.dtype)
    return bounds[0] + U * (bounds[1] - bounds[0])


def initialize_q_batch(
    X: Tensor,
    acq_vals: Tensor,
    n: int,
    *,
    eta: float = 2.0,
    n_best: int = 1,
    seed: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Pick ``n`` starting points: the ``n_best`` best, then Boltzmann draws.

    Parameters
    ----------
    X : Tensor of shape (N, ...)
        Candidate points (any trailing shape).
    acq_vals : Tensor of shape (N,)
        Their acquisition values; non-finite values are never preferred.
    n : int
        Number of points to pick (at most ``N`` are returned).
    eta : float, default=2.0
        Inverse temperature of the weights ``exp(eta * (f - max f) / std f)``.
    n_best : int, default=1
        Number of top points taken deterministically.
    seed : int or None, default=None
        Seed of the draws.

    Returns
    -------
    X_init : Tensor of shape (min(n, N), ...)
        Picked points, the deterministic ones first.
    vals : Tensor of shape (min(n, N),)
        Their values.

    Examples
    --------
    >>> import torch
    >>> X = torch.arange(10.0).unsqueeze(-1)
    >>> X0, v0 = initialize_q_batch(X, X.squeeze(-1), n=3, seed=0)
    >>> float(v0[0]), len(set(v0.tolist()))
    (9.0, 3)
    """
    N = X.shape[0]
    n = min(check_int(n, "n", 1), N)
    n_best = min(check_int(n_best, "n_best", 0), n)
    if acq_vals.shape != (N,):
        raise ValueError(
            f"acq_vals must have shape ({N},) to match X, got {tuple(acq_vals.shape)}."
        )
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a finite float > 0, got {eta}.")
    v = acq_vals.detach().to("cpu", torch.float64)
    finite = torch.isfinite(v)
    # Non-finite values sort last; the order is deterministic (stable sort).
    key = torch.where(finite, v, torch.full_like(v, -math.inf))
    order = torch.sort(key, descending=True, stable=True).indices
    chosen = order[:n_best]
    n_rest = n - n_best
    if n_rest > 0:
        rest = order[n_best:]
        rv, rf = v[rest], finite[rest]
        weights = torch.zeros_like(rv)
        if bool(rf.any()):
            fv = rv[rf]
            std = float(fv.std()) if fv.numel() > 1 else 0.0
            scale = std if math.isfinite(std) and std > 0 else 1.0
            weights[rf] = torch.exp(eta * (fv - fv.max()) / scale)
        n_draw = min(n_rest, int((weights > 0).sum()))
        drawn = rest.new_empty(0)
        if n_draw > 0:
            pos = torch.multinomial(weights, n_draw, generator=_generator(seed))
            drawn = rest[pos]
        # Too few positive weights (underflow, non-finite values): fill by rank.
        taken = torch.zeros(N, dtype=torch.bool)
        taken[torch.cat([chosen, drawn])] = True
        fill = order[~taken[order]][: n_rest - n_draw]
        chosen = torch.cat([chosen, drawn, fill])
    idx = chosen.to(X.device)
    return X[idx], acq_vals[idx]


def sample_around(
    centers: Tensor,
    n: int,
    bounds: Tensor,
    std: float = 0.05,
    seed: int | None = None,
) -> Tensor:
    """Gaussian perturbations of ``centers``, cycling through them, clamped.

    Parameters
    ----------
    centers : Tensor of shape (m, d)
        Points to perturb (``m >= 1``).
    n : int
        Number of perturbed points.
    bounds : Tensor of shape (2, d)
        Box; the noise scale is ``std * (upper - lower)`` per column.
    std : float, default=0.05
        Relative standard deviation.
    seed : int or None, default=None
        Seed of the noise.

    Returns
    -------
    Tensor of shape (n, d)
        Point ``i`` perturbs ``centers[i % m]``.

    Examples
    --------
    >>> import torch
    >>> bounds = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    >>> P = sample_around(torch.tensor([[0.5]], dtype=torch.float64), 4, bounds, seed=0)
    >>> P.shape, bool(((P - 0.5).abs() < 0.5).all())
    (torch.Size([4, 1]), True)
    """
    n = check_int(n, "n", 0)
    if centers.ndim != 2 or centers.shape[0] == 0:
        raise ValueError(
            f"centers must have shape (m, d), m >= 1, got {tuple(centers.shape)}."
        )
    idx = torch.arange(n, device=centers.device) % centers.shape[0]
    z = torch.randn(
        n, centers.shape[1], generator=_generator(seed), dtype=torch.float64
    )
    z = z.to(device=centers.device, dtype=centers.dtype)
    P = centers[idx] + std * (bounds[1] - bounds[0]) * z
    return torch.minimum(torch.maximum(P, bounds[0]), bounds[1])


@dataclass(frozen=True)
class InitialConditions:
    """Starting points and the evaluated pool they were chosen from.

    Parameters
    ----------
    X0 : Tensor of shape (R, d)
        Starting points of the restarts.
    pool_X : Tensor of shape (N, d)
        Evaluated raw points (valid points when the space is mixed).
    pool_values : Tensor of shape (N,)
        Their acquisition values.

    Examples
    --------
    >>> import torch
    >>> ic = InitialConditions(torch.zeros(1, 2), torch.zeros(3, 2), torch.zeros(3))
    >>> ic.X0.shape
    torch.Size([1, 2])
    """

    X0: Tensor
    pool_X: Tensor
    pool_values: Tensor


def _screening(
    acq_function: object, n_samples: int | None
) -> AbstractContextManager[None] | None:
    """A block where ``acq_function`` uses only ``n_samples`` base samples.

    The acquisition's own ``subsample(n_samples)`` context (see
    :meth:`skbo.acquisition.MCAcquisitionFunction.subsample`), or ``None``
    when screening would change nothing: ``n_samples`` is ``None``, the
    function has no ``subsample``, its sampler has no more samples, or its
    single-point values are exact (``samples_single_points`` is False).

    Parameters
    ----------
    acq_function : object
        Any acquisition function.
    n_samples : int or None
        Base samples to screen with.

    Returns
    -------
    context manager or None

    Examples
    --------
    >>> _screening(lambda X: X.sum(), 64) is None
    True
    """
    subsample = getattr(acq_function, "subsample", None)
    total = getattr(getattr(acq_function, "sampler", None), "sample_shape", None)
    if n_samples is None or subsample is None:
        return None
    if not getattr(acq_function, "samples_single_points", True):
        return None  # exact values: one pass, no re-scoring
    if isinstance(total, int) and total <= n_samples:
        return None
    block: AbstractContextManager[None] = subsample(n_samples)
    return block


def _screen_pool(
    acq_function: Callable[[Tensor], Tensor],
    pool: Tensor,
    batch_limit: int,
    screen_samples: int | None,
    n_rescore: int,
) -> Tensor:
    """Pool values: a cheap estimate for all, the full one for the best."""
    block = _screening(acq_function, screen_samples)
    if block is None:
        # nothing to screen with (or no fewer samples): one exact pass
        return evaluate_batched(acq_function, pool, batch_limit)
    # NOTE: on qLogNEI at n = 50, d = 6, 64 of 256 samples cut the pool's cost
    # by ~3x; the screened values only choose the starting points, and the
    # re-scored best ones are what the final pick compares with the
    # refined candidates.
    with block:
        values = evaluate_batched(acq_function, pool, batch_limit)
    key = torch.where(torch.isnan(values), -math.inf, values)
    top = torch.topk(key, min(max(n_rescore, 32), key.numel())).indices
    values = values.clone()
    values[top] = evaluate_batched(acq_function, pool[top], batch_limit)
    return values


def gen_initial_conditions(
    acq_function: Callable[[Tensor], Tensor],
    bounds: Tensor,
    num_restarts: int,
    raw_samples: int,
    *,
    fixed_features: Mapping[int, float] | None = None,
    discrete: MixedSpec | None = None,
    seed: int | None = None,
    batch_limit: int = 1024,
    eta: float = 2.0,
    perturb_std: float = 0.05,
    screen_samples: int | None = 64,
    X_baseline: Tensor | None = None,
) -> InitialConditions:
    """Evaluate a Sobol pool (plus baseline rows) and choose the restarts.

    Parameters
    ----------
    acq_function : callable
        Maps ``(b, 1, d)`` to ``(b,)``.
    bounds : Tensor of shape (2, d)
        Box.
    num_restarts : int
        Number of starting points ``R``.
    raw_samples : int
        Number of Sobol points ``N``.
    fixed_features : dict of int to float or None, default=None
        Columns held at fixed values in every point.
    discrete : MixedSpec or None, default=None
        When given, pool points are projected onto valid points (duplicates
        removed).
    seed : int or None, default=None
        Seed of the Sobol scrambling and of the random choices.
    batch_limit : int, default=1024
        Largest t-batch of one acquisition call.
    eta : float, default=2.0
        Boltzmann inverse temperature (see :func:`initialize_q_batch`).
    perturb_std : float, default=0.05
        Relative standard deviation of the perturbations of incumbents.
    screen_samples : int or None, default=64
        A Monte-Carlo acquisition (one with ``subsample``) scores the pool with
        only its first ``screen_samples`` base samples; the best
        ``max(2 num_restarts, 32)`` pool points are then re-scored with all
        of them, so that ``pool_values`` of the points that can matter are
        exact. ``None`` scores the whole pool with every sample.
    X_baseline : Tensor of shape (n, d) or None, default=None
        Observed points: the most recent ``max(num_restarts, raw_samples //
        2)`` join the pool, and the best two (by acquisition value) are
        perturbed into starting points. ``None`` takes the acquisition
        function's ``X_baseline`` attribute where it has one (the Monte-Carlo
        noisy improvements), else no observed point.

    Returns
    -------
    InitialConditions

    Examples
    --------
    >>> import torch
    >>> acqf = lambda X: -((X - 0.3) ** 2).sum(dim=(-2, -1))
    >>> bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    >>> ic = gen_initial_conditions(acqf, bounds, 4, 64, seed=0)
    >>> ic.X0.shape, ic.pool_X.shape
    (torch.Size([4, 2]), torch.Size([64, 2]))
    """
    R = check_int(num_restarts, "num_restarts", 1)
    if screen_samples is not None:
        check_int(screen_samples, "screen_samples", 1)
    seeds = [int(s) for s in torch.randint(2**31 - 1, (3,), generator=_generator(seed))]
    pool = draw_sobol_samples(bounds, raw_samples, 1, seed=seeds[0]).squeeze(-2)
    n_raw = pool.shape[0]
    base = (
        getattr(acq_function, "X_baseline", None) if X_baseline is None else X_baseline
    )
    if isinstance(base, Tensor) and base.ndim == 2 and base.shape[1] == pool.shape[1]:
        # NOTE: the most recent observations sit closest to the incumbent in a
        # BO run; capping keeps the pool evaluation cheap for large n.
        cap = max(R, raw_samples // 2)
        base = base.detach()[-cap:].to(pool)
        base = torch.minimum(torch.maximum(base, bounds[0]), bounds[1])
        pool = torch.cat([pool, base])
    is_base = torch.arange(pool.shape[0], device=pool.device) >= n_raw
    pool = fix_features(pool, fixed_features)
    if discrete is not None:
        pool = discrete.project(pool)
        keep = unique_rows(pool)
        pool, is_base = pool[keep], is_base[keep]
    values = _screen_pool(acq_function, pool, batch_limit, screen_samples, 2 * R)

    n_perturb = round(0.3 * R)
    n_best = max(1, R // 5)
    X_first, _ = initialize_q_batch(
        pool, values, R - n_perturb, eta=eta, n_best=n_best, seed=seeds[1]
    )
    starts = [X_first]
    n_perturb = R - X_first.shape[0]
    if n_perturb > 0:
        key = torch.where(torch.isfinite(values), values, -math.inf)
        top = torch.topk(key, min(2, key.numel())).indices
        centers = [pool[top]]
        if bool(is_base.any()):
            bkey = key[is_base]
            centers.append(
                pool[is_base][torch.topk(bkey, min(2, bkey.numel())).indices]
            )
        P = sample_around(torch.cat(centers), n_perturb, bounds, perturb_std, seeds[2])
        starts.append(fix_features(P, fixed_features))
    return InitialConditions(torch.cat(starts), pool, values)
