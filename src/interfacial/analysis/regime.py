r"""Where the diffusive regime starts: the non-Gaussian parameter and the log-log MSD slope.

Before the diffusive regime the MSD of an ion in a solid is dominated by vibration (ballistic at
the shortest times, then a plateau while the ion rattles in its site) and by correlated hops;
a straight-line fit there biases D*. Two signatures mark the end of that regime:

- the non-Gaussian parameter :math:`\alpha_2(t) = d \langle r^4\rangle / ((d+2)
  \langle r^2\rangle^2) - 1` (:func:`non_gaussian_parameter`) is 0 for Gaussian
  displacements, grows while some ions have hopped and others only vibrate, peaks, and decays
  as every ion has made many hops: after its maximum the displacements turn Gaussian;
- the local log-log slope :math:`d \ln \mathrm{MSD} / d \ln t` reaches 1 (of the MSD
  minus its vibrational offset: the chord slope of the MSD stops changing).

:func:`diffusive_window` picks the start of the fit window from these, never inside the
ballistic start, and says why in words. Units: ps, A^2, A^4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from interfacial.analysis.diffusivity import (
    data_covariance,
    fit_window_default,
    squared_displacement_variance,
    variance_ratio,
)
from interfacial.analysis.verdict import log_slope

FloatArray = NDArray[np.float64]

#: An alpha2 maximum counts when it is this many null standard errors above 0 ...
ALPHA2_SIGNIFICANCE = 4.0
#: ... and at least this large.
ALPHA2_MIN_PEAK = 0.05
#: Log-log slope above which the MSD is still ballistic (2 for free flight).
BALLISTIC_SLOPE = 1.5
#: The chord slopes of two successive octaves must agree within this many standard errors.
SETTLE_SIGMAS = 2.0
#: The fit starts this many times later than the lag where the slope is first seen settled:
#: a curvature smaller than the test resolves still biases the GLS, which leans on the precise
#: short lags. Calibrated on the back-hopping lattice walkers of
#: :func:`~interfacial.analysis.synthetic.lattice_hops` (mean pull +1.1 sigma without a margin,
#: +0.1 with this one; benchmarks/bench_verdicts.py). A stricter test instead of a margin
#: makes the start follow the noise of the slope and widens the pulls (std 1.3).
SETTLE_MARGIN = 4.0
#: Fraction of the longest lag beyond which the start is capped.
MAX_START_FRACTION = 0.5


def non_gaussian_parameter(
    msd: ArrayLike, fourth_moment: ArrayLike, dimension: int, samples: ArrayLike | None = None
) -> FloatArray:
    r"""alpha2(t) = d M4 / ((d + 2) M2^2) - 1 per lag; NaN where not sampled.

    For a Gaussian displacement of variance :math:`\sigma^2` per axis, :math:`|\Delta r|^2 =
    \sigma^2 \chi^2_d` has :math:`M_4 = d (d + 2) \sigma^4 = (d + 2) M_2^2 / d`, so alpha2 = 0;
    a mixture of hopped and rattling ions has heavier tails and alpha2 > 0.

    Parameters
    ----------
    msd, fourth_moment : array_like
        M2 (A^2) and M4 (A^4) over the same samples
        (:attr:`~interfacial.analysis.msd.MSDResult.fourth_moment_msd` and ``fourth_moment``).
    dimension : int
        d of the component.
    samples : array_like, optional
        Samples per lag; lags without any are NaN.

    """
    kappa = variance_ratio(msd, fourth_moment, dimension, samples)
    return np.asarray(2.0 * (kappa - 1.0) / (dimension + 2), dtype=float)


def alpha2_null_error(dimension: int, n_independent: ArrayLike) -> FloatArray:
    r"""Standard error of the estimated alpha2 of Gaussian displacements (first order).

    With :math:`q = |\Delta r|^2 = \sigma^2 \chi^2_d`, raw moments
    :math:`\mu_k = \sigma^{2k} \prod_{j<k} (d + 2j)`, the ratio :math:`R = \hat\mu_2/\hat\mu_1^2`
    of n independent samples has, by the delta method,

    .. math::

        n\,\mathrm{Var}(R) = \frac{4\mu_2^2}{\mu_1^6}\mathrm{Var}(q)
            + \frac{\mathrm{Var}(q^2)}{\mu_1^4}
            - \frac{4\mu_2}{\mu_1^5}\mathrm{Cov}(q, q^2)

    and :math:`\sigma_{\alpha_2} = d\,\sigma_R / (d + 2)` (0.73/sqrt(n) for d = 3).
    """
    d = float(dimension)
    mu1, mu2, mu3, mu4 = d, d * (d + 2), d * (d + 2) * (d + 4), d * (d + 2) * (d + 4) * (d + 6)
    var_r = (
        4 * mu2**2 / mu1**6 * (mu2 - mu1**2)
        + (mu4 - mu2**2) / mu1**4
        - 4 * mu2 / mu1**5 * (mu3 - mu1 * mu2)
    )
    n = np.maximum(np.asarray(n_independent, dtype=float), 1.0)
    return np.asarray(d / (d + 2) * np.sqrt(var_r / n), dtype=float)


@dataclass(frozen=True)
class WindowChoice:
    """Result of :func:`diffusive_window`.

    Attributes
    ----------
    fit_window : tuple[float, float]
        (t_start, t_end) in ps.
    reason : str
        Why it starts there, in words.
    alpha2_peak, t_alpha2_peak : float or None
        Largest alpha2 and its lag (ps), when fourth moments were available.
    significant : bool
        Whether the alpha2 maximum was significant.

    """

    fit_window: tuple[float, float]
    reason: str
    alpha2_peak: float | None
    t_alpha2_peak: float | None
    significant: bool


def diffusive_window(
    lag_times: ArrayLike,
    msd: ArrayLike,
    n_samples: ArrayLike,
    *,
    dimension: int,
    n_atoms: int,
    origin_spacing: float,
    run_time: float,
    fourth_moment_msd: ArrayLike | None = None,
    fourth_moment: ArrayLike | None = None,
    fourth_moment_samples: ArrayLike | None = None,
) -> WindowChoice:
    """Fit window of the diffusive regime, chosen from the data.

    End: ``t_end = min(run / 2, longest lag)`` (beyond half the run fewer than half the origins
    reach a lag). Start: the first lag t that satisfies both

    1. it is at or after the maximum of alpha2(t) (:func:`non_gaussian_parameter`) when that
       maximum is significant: at least :data:`ALPHA2_SIGNIFICANCE` null standard errors
       (:func:`alpha2_null_error`, n = N min(origins sampled, run / t) independent
       displacements), at least :data:`ALPHA2_MIN_PEAK`, and not at the end of the window (a
       rising alpha2 has no maximum yet);
    2. the MSD slope has settled: the chord slopes over [t, 2t] and over the next octave
       [2t, 4t] agree within :data:`SETTLE_SIGMAS` standard errors (data covariance of the
       three points), for t <= t_end / 4; the fit then starts at :data:`SETTLE_MARGIN` times
       that lag. This is "the
       local log-log slope reaches 1" of the MSD minus its vibrational offset: an offset
       leaves the chord slope alone but keeps the log-log slope of the MSD below 1 forever.
       Correlated hops need it: alpha2 peaks before the back-hops have decorrelated, and a
       fit from the peak overestimates D (by 35 % for the lattice hops of
       :func:`~interfacial.analysis.synthetic.lattice_hops`).

    When the slope never settles, the start is the alpha2 maximum if significant, else the
    default ``t_end / 5`` (:func:`fit_window_default`), and the reason says so. The start is
    never inside the ballistic start (log-log slope above :data:`BALLISTIC_SLOPE`) nor before
    the second positive lag, and is capped at :data:`MAX_START_FRACTION` of ``t_end`` so that
    the window keeps points.

    Parameters
    ----------
    lag_times, msd, n_samples : array_like
        The MSD of one group along one component (ps, A^2, samples).
    dimension, n_atoms, origin_spacing, run_time
        d, ions in the group, time between origins (ps), run length (ps).
    fourth_moment_msd, fourth_moment, fourth_moment_samples : array_like, optional
        The moment subset (:class:`~interfacial.analysis.msd.MSDResult`); without them only
        rules 2 and 3 apply.

    """
    t = np.asarray(lag_times, dtype=float).ravel()
    y = np.asarray(msd, dtype=float).ravel()
    n_orig = np.maximum(np.asarray(n_samples, dtype=float).ravel() / n_atoms, 1.0)
    default = fit_window_default(t, run_time)
    t_end = default[1]
    tol = 1e-6 * max(t_end, 1.0)
    usable = np.flatnonzero((t > 0) & (t <= t_end + tol))
    if usable.size < 4:
        return WindowChoice(default, "default (too few lags to choose)", None, None, False)
    floor = float(t[usable[1]])

    alpha: FloatArray | None = None
    # Var(|dr|^2) per lag: measured when the moments are there, else that of a Gaussian
    # displacement with the measured MSD, 2 MSD^2 / d.
    var = 2.0 * np.maximum(y, 0.0) ** 2 / dimension
    if fourth_moment is not None and fourth_moment_msd is not None:
        alpha = non_gaussian_parameter(
            fourth_moment_msd, fourth_moment, dimension, fourth_moment_samples
        )
        measured = squared_displacement_variance(
            fourth_moment_msd, fourth_moment, fourth_moment_samples
        )
        if np.isfinite(measured[t > 0]).any():
            var = measured

    def slope_at(i: int) -> tuple[float, float]:
        # Log-log slope between lag i and the lag nearest 2 t_i, data covariance of the pair.
        j = int(np.argmin(np.abs(t - 2 * t[i])))
        if j <= i:
            return 0.0, float("inf")
        pair = [i, j]
        cov = data_covariance(t[pair], n_orig[pair], origin_spacing, n_atoms, t, var)
        return log_slope(float(t[i]), float(t[j]), float(y[i]), float(y[j]), cov)

    def settled(i: int) -> tuple[bool, float, float]:
        # Do the chord slopes over [t, 2t] and [2t, 4t] agree within SETTLE_SIGMAS errors?
        j = int(np.argmin(np.abs(t - 2 * t[i])))
        k = int(np.argmin(np.abs(t - 4 * t[i])))
        if not i < j < k:
            return False, 0.0, 0.0
        idx = [i, j, k]
        cov = data_covariance(t[idx], n_orig[idx], origin_spacing, n_atoms, t, var)
        early_span, late_span = t[j] - t[i], t[k] - t[j]
        w = np.array([-1 / early_span, 1 / early_span + 1 / late_span, -1 / late_span])
        early = (y[j] - y[i]) / early_span
        late = (y[k] - y[j]) / late_span
        sigma = float(np.sqrt(max(float(w @ cov @ w), 0.0)))
        return abs(early - late) <= SETTLE_SIGMAS * sigma, early, late

    # The ballistic start: the first lags whose log-log slope is still near 2.
    for i in usable:
        if t[i] > 0.5 * t_end:
            break
        beta, _ = slope_at(int(i))
        if beta < BALLISTIC_SLOPE:
            floor = max(floor, float(t[i]))
            break
    cap = MAX_START_FRACTION * t_end

    peak: float | None = None
    t_peak: float | None = None
    significant = False
    err = 0.0
    if alpha is not None:
        samples = np.asarray(fourth_moment_samples, dtype=float).ravel()
        sampled = usable[np.isfinite(alpha[usable])]
        if sampled.size >= 3:
            k = int(sampled[np.nanargmax(alpha[sampled])])
            peak, t_peak = float(alpha[k]), float(t[k])
            n_ind = n_atoms * min(samples[k] / n_atoms, max(1.0, run_time / t[k]))
            err = float(alpha2_null_error(dimension, n_ind))
            significant = (
                peak >= max(ALPHA2_SIGNIFICANCE * err, ALPHA2_MIN_PEAK) and k != sampled[-1]
            )
    lower = max(floor, t_peak) if significant and t_peak is not None else floor
    linear_from: tuple[float, float, float] | None = None
    for i in usable:
        if t[i] < lower - tol or 4 * t[i] > t_end + tol:
            continue
        ok, early, late = settled(int(i))
        if ok:
            linear_from = (float(t[i]), early, late)
            break
    parts = []
    if significant:
        parts.append(f"non-Gaussian parameter peaks at {t_peak:.3g} ps (alpha2 = {peak:.2f})")
    elif peak is not None:
        parts.append(f"no significant alpha2 peak ({peak:.2f} ± {err:.2f})")
    if linear_from is not None:
        start = max(SETTLE_MARGIN * linear_from[0], lower)
        parts.append(
            f"MSD slope settled from {linear_from[0]:.3g} ps, x{SETTLE_MARGIN:g} margin "
            f"({linear_from[1]:.3g} vs {linear_from[2]:.3g} A^2/ps over the next octave)"
        )
    elif significant:
        start = lower
        parts.append("MSD slope not settled within the run")
    else:
        start = max(default[0], floor)
        parts.append("MSD slope not settled: default t_end/5")
    if start > cap:
        start = cap
        parts.append("capped at t_end/2")
    return WindowChoice(
        (start, t_end),
        f"fit from {start:.3g} ps: " + "; ".join(parts),
        peak,
        t_peak,
        significant,
    )
