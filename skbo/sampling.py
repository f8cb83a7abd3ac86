r"""Fixed standard-normal base samples for Monte-Carlo acquisition functions.

Notation
--------
``S``: number of Monte-Carlo samples (``sample_shape``); ``q``: number of
jointly distributed points (candidates, pending and baseline points together).

A sampler hands out a fixed matrix ``Z`` of shape ``(S, q)`` of standard-normal
draws. A posterior turns it into joint samples ``f = mean + L Z`` by
reparameterization. Because ``Z`` is drawn once per ``q`` (and cached per
device and dtype), a Monte-Carlo acquisition value is a deterministic, smooth
function of the candidates: the sample-average approximation of Balandat et
al. 2020 ("BoTorch", arXiv 1910.06403), which is what lets L-BFGS-B optimize it.

:class:`SobolQMCNormalSampler` maps scrambled Sobol points through the inverse
normal CDF (randomized quasi-Monte Carlo: lower variance than i.i.d. draws for
the same ``S``); :class:`IIDNormalSampler` draws i.i.d. normals from a seeded
:class:`torch.Generator`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from numbers import Integral

import torch
from torch import Tensor
from torch.quasirandom import SobolEngine

from skbo.utils.random import fresh_seed

__all__ = ["IIDNormalSampler", "MCSampler", "SobolQMCNormalSampler"]

# NOTE: torch's SobolEngine returns multiples of 2**-MAXBIT (MAXBIT = 30), and a
# scrambled point can be exactly 0. Clamping to half a grid step away from 0 and
# 1 keeps ndtri finite (|z| <= 6.2) without moving any other point.
_U_EPS = 0.5 * 2.0 ** (-SobolEngine.MAXBIT)


class MCSampler(ABC):
    """Abstract sampler of fixed standard-normal base samples.

    Subclasses implement :meth:`_draw`, which returns ``(S, q)`` float64 draws
    on the CPU; this class caches them per ``q`` and per ``(device, dtype)``.

    Parameters
    ----------
    sample_shape : int, default=256
        Number of Monte-Carlo samples ``S``.
    seed : int or None, default=None
        Seed of the draws. ``None`` draws a fresh seed from the operating
        system once, at construction, so one sampler is still deterministic.

    Attributes
    ----------
    sample_shape : int
        As given.
    seed : int
        The seed actually used (drawn at construction when ``seed=None``).

    Examples
    --------
    >>> import torch
    >>> sampler = SobolQMCNormalSampler(sample_shape=8, seed=0)
    >>> isinstance(sampler, MCSampler)
    True
    >>> sampler.base_samples(2, torch.device("cpu"), torch.float64).shape
    torch.Size([8, 2])
    """

    sample_shape: int
    seed: int

    def __init__(self, sample_shape: int = 256, seed: int | None = None) -> None:
        if isinstance(sample_shape, bool) or not isinstance(sample_shape, Integral):
            raise TypeError(
                "sample_shape must be a positive int (the number of Monte-Carlo "
                f"samples S), got {type(sample_shape).__name__}."
            )
        if sample_shape < 1:
            raise ValueError(
                f"sample_shape must be a positive int, got {int(sample_shape)}."
            )
        if seed is None:
            seed = fresh_seed()
        elif isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise ValueError(f"seed must be None or a non-negative int, got {seed!r}.")
        self.sample_shape = int(sample_shape)
        self.seed = int(seed)
        self._master: dict[int, Tensor] = {}
        self._cache: dict[tuple[int, torch.device, torch.dtype], Tensor] = {}

    def base_samples(self, q: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """Fixed standard-normal base samples for ``q`` joint points.

        The same ``(q, device, dtype)`` always returns the same tensor (drawn
        once, then cached); other devices and dtypes get a cast copy of the same
        float64 draws.

        Parameters
        ----------
        q : int
            Number of jointly distributed points (the posterior's last dim).
        device : torch.device
            Device of the returned tensor.
        dtype : torch.dtype
            Floating-point dtype of the returned tensor.

        Returns
        -------
        base_samples : Tensor of shape (S, q)
            Standard-normal draws; do not modify in place (they are cached).

        Examples
        --------
        >>> import torch
        >>> sampler = IIDNormalSampler(sample_shape=4, seed=0)
        >>> z = sampler.base_samples(3, torch.device("cpu"), torch.float32)
        >>> z.shape, z.dtype
        (torch.Size([4, 3]), torch.float32)
        >>> z is sampler.base_samples(3, torch.device("cpu"), torch.float32)
        True
        """
        if isinstance(q, bool) or not isinstance(q, Integral) or q < 1:
            raise ValueError(f"q must be a positive int, got {q!r}.")
        device = torch.device(device)
        key = (int(q), device, dtype)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        master = self._master.get(int(q))
        if master is None:
            master = self._draw(int(q))
            self._master[int(q)] = master
        samples = master.to(device=device, dtype=dtype)
        self._cache[key] = samples
        return samples

    @abstractmethod
    def _draw(self, q: int) -> Tensor:
        """Return ``(S, q)`` standard-normal float64 draws on the CPU."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(sample_shape={self.sample_shape}, seed={self.seed})"
        )


class SobolQMCNormalSampler(MCSampler):
    """Scrambled-Sobol quasi-Monte-Carlo standard-normal base samples.

    Draws ``S`` points of a scrambled Sobol sequence in ``[0, 1]^q`` and maps
    them through the inverse normal CDF. ``q`` is at most 21201 (the Sobol
    engine's dimension limit; use :class:`IIDNormalSampler` beyond).

    Parameters
    ----------
    sample_shape : int, default=256
        Number of samples ``S``. A power of two keeps the Sobol points balanced.
    seed : int or None, default=None
        Scrambling seed; ``None`` draws one once, at construction.

    See Also
    --------
    IIDNormalSampler : i.i.d. draws from a seeded generator.

    Examples
    --------
    >>> import torch
    >>> sampler = SobolQMCNormalSampler(sample_shape=1024, seed=0)
    >>> z = sampler.base_samples(1, torch.device("cpu"), torch.float64)
    >>> abs(z.mean().item()) < 1e-3, round(z.std().item(), 2)
    (True, 1.0)
    """

    def _draw(self, q: int) -> Tensor:
        if q > SobolEngine.MAXDIM:
            raise ValueError(
                f"SobolQMCNormalSampler supports at most {SobolEngine.MAXDIM} joint "
                f"points, got q={q}; use IIDNormalSampler instead."
            )
        # torch does not annotate SobolEngine.
        engine = SobolEngine(  # type: ignore[no-untyped-call]
            dimension=q, scramble=True, seed=self.seed
        )
        u: Tensor = engine.draw(self.sample_shape, dtype=torch.float64)
        z: Tensor = torch.special.ndtri(u.clamp(_U_EPS, 1.0 - _U_EPS))
        return z


class IIDNormalSampler(MCSampler):
    """I.i.d. standard-normal base samples from a seeded :class:`torch.Generator`.

    The draws for each ``q`` come from a generator freshly seeded with
    ``seed``, so they do not depend on the order in which ``q`` values are
    requested.

    Parameters
    ----------
    sample_shape : int, default=256
        Number of samples ``S``.
    seed : int or None, default=None
        Generator seed; ``None`` draws one once, at construction.

    See Also
    --------
    SobolQMCNormalSampler : lower-variance quasi-Monte-Carlo draws.

    Examples
    --------
    >>> import torch
    >>> a = IIDNormalSampler(sample_shape=3, seed=1)
    >>> b = IIDNormalSampler(sample_shape=3, seed=1)
    >>> cpu = torch.device("cpu")
    >>> bool(torch.equal(a.base_samples(2, cpu, torch.float64),
    ...                  b.base_samples(2, cpu, torch.float64)))
    True
    """

    def _draw(self, q: int) -> Tensor:
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        return torch.randn(
            self.sample_shape, q, generator=generator, dtype=torch.float64
        )
