r"""Outcome standardization: fit on ``y``, model ``(y - mu) / sigma``, report back.

Notation
--------
``y (n,)``: observed outcomes; ``mu``, ``sigma``: their mean and (unbiased)
standard deviation; ``Yvar (n,)``: known observation noise variances.
Forward: ``(y - mu) / sigma`` and ``Yvar / sigma^2``. Untransform of a Gaussian
posterior: mean ``m * sigma + mu``, covariance ``C * sigma^2``.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["Standardize"]


class Standardize(torch.nn.Module):
    """Standardize outcomes to zero mean and unit variance.

    ``sigma`` falls back to 1 when it is not usable: a single observation, or
    outcomes that are (numerically) constant.

    Parameters
    ----------
    Y : Tensor of shape (n,)
        Outcomes to fit ``mu`` and ``sigma`` on.
    min_std : float, default=1e-8
        ``sigma`` below ``max(min_std, 10 * eps * |mu|)`` is replaced by 1.

    Attributes
    ----------
    mean : Tensor (0-dim buffer)
    std : Tensor (0-dim buffer)

    Examples
    --------
    >>> import torch
    >>> tf = Standardize(torch.tensor([1.0, 2.0, 3.0]))
    >>> Ys, _ = tf(torch.tensor([1.0, 2.0, 3.0]))
    >>> Ys
    tensor([-1.,  0.,  1.])
    >>> tf.untransform(Ys)
    tensor([1., 2., 3.])
    >>> tf.untransform_covariance(torch.eye(2))
    tensor([[1., 0.],
            [0., 1.]])
    """

    mean: Tensor
    std: Tensor

    def __init__(self, Y: Tensor, *, min_std: float = 1e-8) -> None:
        super().__init__()
        if not isinstance(Y, Tensor) or Y.dim() != 1 or Y.shape[0] == 0:
            raise ValueError("Y must be a non-empty 1-D tensor of outcomes.")
        mean = Y.mean()
        if Y.shape[0] > 1:
            std = Y.std()
            tol = max(min_std, 10.0 * torch.finfo(Y.dtype).eps * abs(float(mean)))
            if not bool(std > tol):
                std = torch.ones_like(std)
        else:
            std = torch.ones_like(mean)
        self.register_buffer("mean", mean.detach())
        self.register_buffer("std", std.detach())

    def forward(
        self, Y: Tensor, Yvar: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """Standardize outcomes (and noise variances).

        Parameters
        ----------
        Y : Tensor of shape (..., n)
            Outcomes in original units.
        Yvar : Tensor of shape (..., n), optional
            Observation noise variances in original units.

        Returns
        -------
        Y_std : Tensor of shape (..., n)
        Yvar_std : Tensor of shape (..., n) or None
        """
        Y_std = (Y - self.mean) / self.std
        Yvar_std = None if Yvar is None else Yvar / self.std.square()
        return Y_std, Yvar_std

    def untransform(self, Y: Tensor) -> Tensor:
        """Back to original units: values, posterior means or samples.

        Parameters
        ----------
        Y : Tensor of any shape
            Standardized values.

        Returns
        -------
        Tensor of the same shape
        """
        return Y * self.std + self.mean

    def untransform_covariance(self, covariance: Tensor) -> Tensor:
        """Scale a covariance (or variance, or noise variance) to original units.

        Parameters
        ----------
        covariance : Tensor of any shape
            Standardized covariances or variances.

        Returns
        -------
        Tensor of the same shape
        """
        return covariance * self.std.square()
