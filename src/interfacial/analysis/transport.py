"""D* per group and component from stored MSD curves, and Arrhenius fits across temperatures.

The document-level layer over :mod:`interfacial.analysis.diffusion`: the transport MD job, the
``interfacial diffusion`` command and the builders all call these two functions, so a D* in the
database is always the one the same rule would give again from the same curves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from interfacial.analysis.diffusion import (
    COMPONENT_DIMENSION,
    arrhenius,
    fit_window_default,
    fit_window_problem,
    tracer_diffusivity,
)
from interfacial.errors import InterfacialError
from interfacial.schemas.diffusion import (
    DEFAULT_COMPONENTS,
    ArrheniusDocument,
    DiffusionDocument,
    DiffusivityRecord,
    MSDCurves,
)


def default_fit_window(curves: MSDCurves) -> tuple[float, float]:
    """The default window (ps) of :func:`~interfacial.analysis.diffusion.fit_window_default`."""
    return fit_window_default(curves.lag_times, curves.run_time)


def check_fit_window(window: Sequence[float], curves: MSDCurves) -> tuple[float, float]:
    """Validate a user's fit window against stored curves; return it as floats (ps)."""
    pair = tuple(window)
    problem = (
        fit_window_problem((pair[0], pair[1]), curves.lag_times)
        if len(pair) == 2
        else f"fit window {window!r} is not a pair of times (t_start, t_end) in ps"
    )
    if problem is not None:
        raise InterfacialError(f"{problem} (the run lasted {curves.run_time:g} ps)")
    return float(pair[0]), float(pair[1])


def fit_diffusivities(
    curves: MSDCurves,
    fit_window: Sequence[float] | None = None,
    components: Iterable[str] = DEFAULT_COMPONENTS,
) -> tuple[str, list[DiffusivityRecord]]:
    r"""D* = slope / (2d) of every group's MSD along every component, by GLS.

    Parameters
    ----------
    curves : MSDCurves
        Stored multiple-origin MSD curves.
    fit_window : (float, float), optional
        (start, end) lag in ps; default :func:`default_fit_window`.
    components : iterable of str
        Among "x", "y", "z", "in-plane", "out-of-plane", "total".

    Returns
    -------
    rule : str
        The window used, in words (stored with the document).
    records : list of DiffusivityRecord
        One per (group, component), D* and sigma_D in cm^2/s.

    """
    comps = list(components)
    unknown = [c for c in comps if c not in COMPONENT_DIMENSION]
    if unknown:
        raise InterfacialError(
            f"unknown component(s) {unknown}; choose from {list(COMPONENT_DIMENSION)}"
        )
    if fit_window is None:
        window = default_fit_window(curves)
        rule = (
            f"default: t_end = min(run/2, longest lag), t_start = t_end/5 = "
            f"{window[0]:.4g}-{window[1]:.4g} ps"
        )
    else:
        window = check_fit_window(fit_window, curves)
        rule = f"user: {window[0]:.4g}-{window[1]:.4g} ps"
    records = []
    for group in curves.groups:
        for comp in comps:
            try:
                fit = tracer_diffusivity(
                    curves.lag_times,
                    group.msd[comp],
                    group.n_samples,
                    COMPONENT_DIMENSION[comp],
                    window,
                    n_atoms=group.n_atoms,
                    origin_spacing=curves.origin_spacing,
                )
            except ValueError as exc:
                raise InterfacialError(f"group {group.group!r}, {comp}: {exc}") from None
            records.append(DiffusivityRecord.from_fit(group.group, comp, group.n_atoms, fit))
    return rule, records


def arrhenius_documents(docs: Iterable[DiffusionDocument]) -> list[ArrheniusDocument]:
    r"""One Arrhenius fit per (system, potential, group, component) over the temperatures.

    :math:`\ln D^* = \ln D_0 - E_a / (k_B T)`, weighted by the GLS errors of D*
    (:func:`~interfacial.analysis.diffusion.arrhenius`). Temperatures with D* <= 0 or no
    finite error cannot enter a log fit and are listed in ``excluded`` with the reason; with
    fewer than two temperatures left the document has a ``note`` and no parameters. When two
    documents share a temperature, the newest wins.
    """
    newest: dict[tuple[str, str | None, float], DiffusionDocument] = {}
    for doc in docs:
        at = (doc.system, doc.potential_sha256, doc.temperature)
        if at not in newest or doc.last_updated > newest[at].last_updated:
            newest[at] = doc
    series: dict[
        tuple[str, str | None, str, str], list[tuple[DiffusionDocument, DiffusivityRecord]]
    ]
    series = {}
    for doc in newest.values():
        for rec in doc.diffusivities:
            key = (doc.system, doc.potential_sha256, rec.group, rec.component)
            series.setdefault(key, []).append((doc, rec))
    out: list[ArrheniusDocument] = []
    for (system, pot, group, comp), members in sorted(
        series.items(), key=lambda kv: kv[0][:1] + kv[0][2:]
    ):
        members.sort(key=lambda m: m[0].temperature)
        used = [
            m for m in members if m[1].D > 0 and math.isfinite(m[1].sigma_D) and m[1].sigma_D > 0
        ]
        excluded = [
            {
                "temperature": m[0].temperature,
                "D": m[1].D,
                "reason": "D* <= 0 (no measurable diffusion in the fit window)"
                if m[1].D <= 0
                else "no finite error",
            }
            for m in members
            if m not in used
        ]
        fit = ArrheniusDocument(
            arrhenius_id=ArrheniusDocument.make_id(system, pot, group, comp),
            system=system,
            potential_sha256=pot,
            group=group,
            component=comp,
            temperatures=[m[0].temperature for m in used],
            D=[m[1].D for m in used],
            sigma_D=[m[1].sigma_D for m in used],
            excluded=excluded,
            diffusion_ids=[m[0].diffusion_id for m in members],
        )
        if len({m[0].temperature for m in used}) >= 2:
            fit = fit.with_fit(arrhenius(fit.temperatures, fit.D, fit.sigma_D))
        else:
            fit.note = (
                f"{len(used)} temperature(s) with a positive D*: an Arrhenius fit needs 2 or more"
            )
        out.append(fit)
    return out
