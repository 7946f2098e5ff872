"""Arrhenius fit of tracer diffusivities across temperatures: activation energy and prefactor.

Holds :func:`arrhenius` (result :class:`ArrheniusFit`) and the Boltzmann constant it uses. The
diffusivities come from :func:`interfacial.analysis.diffusivity.tracer_diffusivity`.

Units: D* in cm^2/s, activation energies in meV, temperatures in K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Boltzmann constant in meV/K (CODATA 2018, exact in the SI).
BOLTZMANN_MEV_PER_K = 8.617333262e-2

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of :func:`arrhenius`.

    Attributes
    ----------
    Ea, sigma_Ea : float
        Activation energy and its standard error (meV).
    D0, sigma_D0 : float
        Prefactor and its first-order standard error sigma_D0 = D0 sigma_lnD0 (cm^2/s).
    ln_D0, sigma_ln_D0 : float
        ln(D0 / (cm^2/s)) and its standard error; D0 is log-normal, so quote these for large
        errors.
    covariance : numpy.ndarray, shape (2, 2)
        Covariance of (ln D0, Ea [meV]).
    chi2 : float
        Weighted residual sum of squares; compare with ``dof``.
    dof : int
        n_temperatures - 2.

    """

    Ea: float
    sigma_Ea: float  # noqa: N815 - physics notation
    D0: float
    sigma_D0: float  # noqa: N815 - physics notation
    ln_D0: float  # noqa: N815 - physics notation
    sigma_ln_D0: float  # noqa: N815 - physics notation
    covariance: FloatArray
    chi2: float
    dof: int


def arrhenius(
    temperatures_K: ArrayLike,  # noqa: N803 - physics notation of the Arrhenius law
    D: ArrayLike,  # noqa: N803
    sigma_D: ArrayLike,  # noqa: N803
) -> ArrheniusFit:
    r"""Weighted Arrhenius fit :math:`\ln D = \ln D_0 - E_a / (k_B T)`.

    Linear least squares of :math:`y = \ln D` on :math:`x = 1/(k_B T)` with weights
    :math:`1/\sigma_{\ln D}^2`, :math:`\sigma_{\ln D} = \sigma_D / D` (first-order propagation).
    Parameter errors come from the weights alone (not rescaled by chi-square), so they are
    as honest as the input sigma_D.

    Parameters
    ----------
    temperatures_K : array_like
        Temperatures (K), positive, at least two distinct.
    D : array_like
        Tracer diffusivities (cm^2/s), positive.
    sigma_D : array_like
        Their standard errors (cm^2/s), positive.

    Returns
    -------
    ArrheniusFit
        Ea in meV, D0 in cm^2/s, with errors and the (ln D0, Ea) covariance.

    """
    temps = np.asarray(temperatures_K, dtype=float).ravel()
    d = np.asarray(D, dtype=float).ravel()
    sd = np.asarray(sigma_D, dtype=float).ravel()
    if not temps.size == d.size == sd.size:
        raise ValueError(
            f"temperatures, D and sigma_D differ in length: {temps.size}, {d.size}, {sd.size}"
        )
    if temps.size < 2 or np.unique(temps).size < 2:
        raise ValueError("an Arrhenius fit needs at least 2 distinct temperatures")
    if np.any(temps <= 0):
        raise ValueError("temperatures must be positive (K)")
    if np.any(d <= 0):
        raise ValueError("D must be positive at every temperature to take ln D")
    if np.any(sd <= 0) or not np.all(np.isfinite(sd)):
        raise ValueError("sigma_D must be positive and finite")
    x = 1.0 / (BOLTZMANN_MEV_PER_K * temps)  # 1/meV
    y = np.log(d)
    w = (d / sd) ** 2
    design = np.column_stack([np.ones_like(x), -x])  # parameters (ln D0, Ea)
    normal = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(normal)
    beta = cov @ (design.T @ (w * y))
    resid = y - design @ beta
    ln_d0, ea = float(beta[0]), float(beta[1])
    d0 = float(np.exp(ln_d0))
    sigma_ln_d0 = float(np.sqrt(cov[0, 0]))
    return ArrheniusFit(
        Ea=ea,
        sigma_Ea=float(np.sqrt(cov[1, 1])),
        D0=d0,
        sigma_D0=d0 * sigma_ln_d0,
        ln_D0=ln_d0,
        sigma_ln_D0=sigma_ln_d0,
        covariance=cov,
        chi2=float(resid @ (w * resid)),
        dof=int(temps.size - 2),
    )
