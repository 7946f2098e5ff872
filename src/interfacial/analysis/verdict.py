r"""The verdict on a D* fit: diffusive, caged, or a run too short to tell.

A chi-square threshold against an ideal random walk says NO to nearly every real trajectory
(ions hop, correlate and vibrate, so their MSD never scatters like a Gaussian walker's). The
verdict here asks the questions a reader of the MSD would ask instead, per group and component:

1. Does the MSD grow linearly at the end of the fit window? The log-log slope
   :math:`\beta = \ln(\mathrm{MSD}(t_b)/\mathrm{MSD}(t_a)) / \ln(t_b/t_a)` over the last
   octave of the window (:math:`t_a \approx t_b / 2`) must reach :data:`LINEAR_SLOPE` within two
   standard errors. A line through the origin has :math:`\beta = 1`; a vibrational offset b of
   the MSD lowers it (:math:`\beta = \log_2((b + 2x)/(b + x))` for MSD = b + x t/t_a), and 0.8
   still admits b up to a third of the diffusive growth over the octave. Caged ions give
   :math:`\beta \approx 0`.
2. Does the MSD grow measurably: :math:`D^* > 2 \sigma_D`?
3. Did the ions move far enough: the run holds :math:`n_{hop} = N \cdot 6 D^* T / a^2`
   hop-length displacements (N ions, run T, hop length a; for a component of d axes the
   squared hop length is :math:`a^2 d / 3` and :math:`2 d D^* T / (a^2 d/3)` gives the same
   count). Fewer than :data:`MIN_HOPS` leave D* resting on a handful of events.

Statuses:

- ``"caged"``: the MSD does not grow linearly at the end (sub-diffusive), or it stays below a
  hop length squared without growing measurably. D* is then an upper bound, ``D_upper`` =
  (MSD(t_end) + 2 s_end) / (2 d t_end) with s_end the standard error of that MSD point: for a
  caged or sub-diffusive MSD, MSD(t)/(2 d t) decreases with t, so its value at the longest
  reliable lag bounds the long-time D* from above.
- ``"too short"``: the MSD grows linearly but not measurably, or over fewer than
  :data:`MIN_HOPS` hop-length displacements; ``run_longer_ps`` says how much longer a run would
  give enough (the hop count grows linearly with the run, the relative error as its square
  root). ``D_upper`` = D* + 2 sigma_D.
- ``"diffusive"``: D* with its error.

Units: D* in cm^2/s, times in ps, lengths in A.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

#: Default hop length a (A): a typical Li-Li site spacing (2.4-2.6 A in argyrodites and garnets,
#: 2.85 A in Li2S, 3.0 A between bcc Li neighbours).
DEFAULT_HOP_LENGTH = 2.5
#: Hop-length displacements a diffusive verdict needs (relative error of D* ~ 10-20 %).
MIN_HOPS = 100.0
#: Log-log slope the MSD must reach (within 2 sigma) at the end of the window to grow linearly.
LINEAR_SLOPE = 0.8
#: D* must exceed this many standard errors to grow measurably.
MIN_SIGNIFICANCE = 2.0
#: Relative error aimed at when suggesting a longer run for an unmeasurable D*.
TARGET_RELATIVE_ERROR = 0.25

A2_PER_PS_TO_CM2_PER_S = 1e-4

Status = Literal["diffusive", "caged", "too short"]


@dataclass(frozen=True)
class Verdict:
    """Result of :func:`classify`.

    Attributes
    ----------
    status : {"diffusive", "caged", "too short"}
        See the module docstring.
    verdict : str
        One sentence in words.
    D_upper : float or None
        Upper bound of D* (cm^2/s) for "caged" and "too short", None for "diffusive".
    D_upper_rule : str or None
        How ``D_upper`` was taken.
    run_longer_ps : float or None
        For "too short": how much longer (ps) the run should be.
    n_hops : float
        Hop-length displacements in the run, N 6 D* T / a^2 (0 when D* <= 0).

    """

    status: Status
    verdict: str
    D_upper: float | None
    D_upper_rule: str | None
    run_longer_ps: float | None
    n_hops: float


def log_slope(
    t_a: float, t_b: float, msd_a: float, msd_b: float, cov: np.ndarray
) -> tuple[float, float]:
    r"""Log-log slope of the MSD between two lags and its standard error.

    .. math::

        \beta = \frac{\ln M_b - \ln M_a}{\ln t_b - \ln t_a}, \qquad
        \sigma_\beta^2 = \frac{\Sigma_{aa}/M_a^2 + \Sigma_{bb}/M_b^2 - 2\Sigma_{ab}/(M_a M_b)}
        {(\ln t_b - \ln t_a)^2}

    (first-order propagation; ``cov`` is the 2x2 covariance of (M_a, M_b) in A^4). Returns
    (0, inf) when an MSD is not positive.
    """
    if msd_a <= 0 or msd_b <= 0 or not t_b > t_a > 0:
        return 0.0, float("inf")
    span = float(np.log(t_b / t_a))
    beta = float(np.log(msd_b / msd_a)) / span
    var = cov[0, 0] / msd_a**2 + cov[1, 1] / msd_b**2 - 2 * cov[0, 1] / (msd_a * msd_b)
    return beta, float(np.sqrt(max(var, 0.0))) / span


def classify(
    *,
    D: float,  # noqa: N803 - physics notation
    sigma_D: float,  # noqa: N803
    dimension: int,
    n_atoms: int,
    run_time: float,
    t_end: float,
    msd_end: float,
    sigma_msd_end: float,
    slope_end: float,
    sigma_slope_end: float,
    hop_length: float = DEFAULT_HOP_LENGTH,
) -> Verdict:
    """Status, one-sentence verdict, upper bound and advice of a D* fit (see module docstring).

    Parameters
    ----------
    D, sigma_D : float
        Fitted D* and its standard error (cm^2/s).
    dimension : int
        d of the component (1, 2, 3).
    n_atoms : int
        Ions in the group.
    run_time : float
        Length of the trajectory (ps).
    t_end : float
        Last lag of the fit window (ps).
    msd_end, sigma_msd_end : float
        MSD at ``t_end`` and its standard error (A^2).
    slope_end, sigma_slope_end : float
        Log-log slope over the last octave of the window and its standard error
        (:func:`log_slope`).
    hop_length : float
        a (A), the distance of one hop between sites.

    Returns
    -------
    Verdict

    """
    d_a2ps = D / A2_PER_PS_TO_CM2_PER_S
    hop2 = hop_length**2 * dimension / 3.0
    n_hops = max(0.0, n_atoms * 6.0 * d_a2ps * run_time / hop_length**2)
    linear = slope_end + 2.0 * sigma_slope_end >= LINEAR_SLOPE
    growing = MIN_SIGNIFICANCE * sigma_D < D
    slope = f"log-log slope {slope_end:.2f} ± {sigma_slope_end:.2f} at {t_end:.3g} ps"
    if not linear or (msd_end < hop2 and not growing):
        bound = (msd_end + 2.0 * sigma_msd_end) / (2 * dimension * t_end)
        upper = max(bound, 0.0) * A2_PER_PS_TO_CM2_PER_S
        level = "below" if msd_end < hop2 else "above"
        return Verdict(
            status="caged",
            verdict=(
                f"caged or sub-diffusive: the MSD reaches {msd_end:.3g} A^2 ({level} a hop "
                f"length squared, {hop2:.3g} A^2) with {slope}; D* < {upper:.2g} cm^2/s"
            ),
            D_upper=upper,
            D_upper_rule="(MSD(t_end) + 2 sigma) / (2 d t_end)",
            run_longer_ps=None,
            n_hops=n_hops,
        )
    upper = max(D + 2.0 * sigma_D, 0.0)
    if not growing:
        rel = sigma_D / D if D > 0 else float("inf")
        factor = (rel / TARGET_RELATIVE_ERROR) ** 2 if np.isfinite(rel) else 4.0
        longer = run_time * max(min(factor, 100.0) - 1.0, 1.0)
        return Verdict(
            status="too short",
            verdict=(
                f"too short: D* = {D:.2g} ± {sigma_D:.1g} cm^2/s is not measurably above zero "
                f"({slope}); run ~{longer:.3g} ps longer"
            ),
            D_upper=upper,
            D_upper_rule="D + 2 sigma_D",
            run_longer_ps=longer,
            n_hops=n_hops,
        )
    if n_hops < MIN_HOPS:
        longer = run_time * (MIN_HOPS / max(n_hops, 1e-9) - 1.0)
        longer = min(longer, 100.0 * run_time)
        return Verdict(
            status="too short",
            verdict=(
                f"too short: {n_hops:.3g} hop-length displacements ({hop_length:g} A) in the run, "
                f"{MIN_HOPS:g} needed; D* = {D:.2g} ± {sigma_D:.1g} cm^2/s is indicative; run "
                f"~{longer:.3g} ps longer"
            ),
            D_upper=upper,
            D_upper_rule="D + 2 sigma_D",
            run_longer_ps=longer,
            n_hops=n_hops,
        )
    return Verdict(
        status="diffusive",
        verdict=(
            f"diffusive: D* = {D:.3g} ± {sigma_D:.2g} cm^2/s ({100 * sigma_D / D:.0f} %), "
            f"{n_hops:.3g} hop-length displacements, {slope}"
        ),
        D_upper=None,
        D_upper_rule=None,
        run_longer_ps=None,
        n_hops=n_hops,
    )
