"""The diffusion pipeline: frames -> MSD -> D* fits -> DiffusionDocument; and Arrhenius fits.

One pipeline serves the transport MD job (:func:`interfacial.jobs.diffusion.transport_md`),
the ``interfacial diffusion`` command (:func:`interfacial.api.analyse_trajectory`) and the
builders, so a D* in the database is always the one the same rule gives again from the same
frames or curves:

- :func:`trajectory_msd`: frames (:mod:`interfacial.trajectory`) -> drift-corrected MSD,
  unwrapping periodic coordinates on the way;
- :func:`fit_diffusivities`: stored MSD curves -> D* per group and component, in a checked
  (:func:`check_fit_window`) or default fit window;
- :func:`diffusion_document`: both, and the document (formula and species order from the
  frames, :mod:`interfacial.conventions`);
- :func:`arrhenius_documents`: documents across temperatures -> Arrhenius fits.

The numbers come from the pure functions of :mod:`interfacial.analysis.msd` (unwrapping, MSD),
:mod:`interfacial.analysis.diffusivity` (D* fits, fit windows) and
:mod:`interfacial.analysis.arrhenius`; this module adds the documents and the boundary checks.
Units: A, ps, K; D* in cm^2/s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from interfacial.analysis.arrhenius import arrhenius
from interfacial.analysis.diffusivity import (
    MIN_FIT_POINTS,
    fit_window_problem,
    squared_displacement_variance,
    tracer_diffusivity,
)
from interfacial.analysis.msd import COMPONENT_DIMENSION, MSDResult, StreamingMSD, Unwrapper
from interfacial.analysis.regime import WindowChoice, diffusive_window
from interfacial.analysis.verdict import DEFAULT_HOP_LENGTH
from interfacial.conventions import formula, species_order
from interfacial.errors import InterfacialError
from interfacial.schemas.diffusion import (
    DEFAULT_COMPONENTS,
    ArrheniusDocument,
    DiffusionDocument,
    DiffusivityRecord,
    GroupMSD,
    MDRunInfo,
    MSDCurves,
)
from interfacial.trajectory.frames import Frame, FrameReader

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "arrhenius_documents",
    "check_fit_window",
    "diffusion_document",
    "fit_diffusivities",
    "trajectory_msd",
]


# --------------------------------------------------------------------------------------------
# MSD of a stream of frames
# --------------------------------------------------------------------------------------------


def trajectory_msd(
    frames: Iterable[Frame],
    groups: Mapping[str, Sequence[int]],
    *,
    max_lag: int | None = None,
    origin_interval: int = 1,
    masses: ArrayLike | None = None,
    drift_atoms: Sequence[int] | None = None,
    progress: bool = False,
) -> MSDResult:
    """Drift-corrected multiple-origin MSD of a stream of frames.

    Wrapped frames (``Frame.unwrapped`` False) are unwrapped with
    :class:`~interfacial.analysis.msd.Unwrapper` (minimum image between consecutive
    frames: store frames often enough that no atom moves half a cell between them); unwrapped
    ones are used as they are. Memory is that of :class:`StreamingMSD`:
    ``(max_lag // origin_interval + 1) * n_atoms * 3`` floats, independent of the run length.

    Parameters
    ----------
    frames : iterable of Frame
        For example :func:`interfacial.trajectory.iter_frames`. Atom i is position i of every
        frame.
    groups : Mapping[str, Sequence[int]]
        Group name -> atom indices (0-based frame positions), see
        :func:`interfacial.trajectory.default_groups`.
    max_lag : int, optional
        Longest lag (frames). Default: half the frames: ``len(frames)`` for a sequence, a cheap
        first pass over the files (:meth:`FrameReader.count`, no coordinates parsed) for
        :func:`~interfacial.trajectory.iter_frames`; any other iterator needs it given, e.g.
        ``count_frames(path) // 2``.
    origin_interval : int
        Frames between time origins. Memory grows as ``max_lag / origin_interval`` origins;
        the cost per frame as (lag-grid size, <= 466) / ``origin_interval`` origin updates,
        since the MSD is computed on :func:`~interfacial.analysis.msd.msd_lag_grid` only.
    masses : array_like, shape (n_atoms,), optional
        Masses for the centre of mass whose drift is removed; equal weights when omitted.
    drift_atoms : Sequence[int], optional
        Atoms defining the drift; all atoms when omitted.
    progress : bool
        Show a rich progress bar on stderr.

    Returns
    -------
    MSDResult
        MSD (A^2) per group and component against lag time (ps), at the lags of
        :func:`~interfacial.analysis.msd.msd_lag_grid` (every lag up to 64 frames, then about
        400 evenly spaced ones).

    Raises
    ------
    InterfacialError
        An empty group or an index outside the frames, no ``max_lag`` for an iterator, fewer
        than 2 frames, frames whose atoms, symbols or wrapping change, non-increasing time.

    """
    return _streamed_msd(
        frames,
        groups,
        max_lag=max_lag,
        origin_interval=origin_interval,
        masses=masses,
        drift_atoms=drift_atoms,
        progress=progress,
    )[0]


def _streamed_msd(
    frames: Iterable[Frame],
    groups: Mapping[str, Sequence[int]],
    *,
    max_lag: int | None,
    origin_interval: int,
    masses: ArrayLike | None,
    drift_atoms: Sequence[int] | None,
    progress: bool,
) -> tuple[MSDResult, Frame]:
    """:func:`trajectory_msd`, and the first frame (its symbols fill the documents)."""
    for name, indices in groups.items():
        if len(indices) == 0:
            raise InterfacialError(
                f"group {name!r} has no atoms; check its definition (element, region, ids)"
            )
    if not groups:
        raise InterfacialError("no atom groups given for the MSD")
    n_known: int | None = None
    if isinstance(frames, Sequence):
        n_known = len(frames)
    elif isinstance(frames, FrameReader) and (max_lag is None or progress):
        n_known = frames.count()  # cheap first pass over the files
    if max_lag is None:
        if n_known is None:
            raise InterfacialError(
                "max_lag is needed when frames come from a plain iterator (length unknown); "
                "pass max_lag in frames, e.g. count_frames(path) // 2, or iter_frames(path)"
            )
        if n_known < 2:
            where = (
                ", ".join(str(p) for p in frames.paths) + ": "
                if isinstance(frames, FrameReader)
                else ""
            )
            raise InterfacialError(
                f"{where}{n_known} frame(s); an MSD needs at least 2 (store frames more often "
                "or run longer)"
            )
        max_lag = n_known // 2
    if max_lag < 1 or origin_interval < 1:
        raise InterfacialError(
            f"max_lag ({max_lag}) and origin_interval ({origin_interval}) must be >= 1 frame"
        )
    try:
        acc = StreamingMSD(
            groups,
            max_lag=max_lag,
            origin_interval=origin_interval,
            masses=masses,
            drift_atoms=drift_atoms,
        )
    except ValueError as exc:
        raise InterfacialError(f"MSD set-up: {exc}") from exc

    unwrap = Unwrapper()
    first: Frame | None = None
    bar: Any = None
    task: Any = None
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        console = Console(stderr=True)
        # Only on a terminal: elsewhere rich leaves an empty line, which would precede the one
        # error line of a run stopped by a bad frame.
        if console.is_terminal:
            bar = Progress(console=console, transient=True)
            bar.start()
            task = bar.add_task("MSD", total=n_known)
    try:
        for k, frame in enumerate(frames):
            where = f"frame {k}"
            if first is None:
                first = frame
                n_atoms = frame.positions.shape[0]
                for name, indices in groups.items():
                    top = max(int(i) for i in indices)
                    if top >= n_atoms or min(int(i) for i in indices) < 0:
                        raise InterfacialError(
                            f"group {name!r} refers to atom index {top} but the frames have "
                            f"{n_atoms} atoms (indices are 0-based frame positions)"
                        )
            else:
                if frame.positions.shape != first.positions.shape:
                    raise InterfacialError(
                        f"{where}: {frame.positions.shape[0]} atoms, first frame "
                        f"{first.positions.shape[0]}"
                    )
                if frame.symbols != first.symbols:
                    raise InterfacialError(f"{where}: symbols differ from the first frame's")
                if frame.unwrapped != first.unwrapped:
                    raise InterfacialError(
                        f"{where}: coordinates switch between wrapped and unwrapped; write the "
                        "same coordinate columns in every segment"
                    )
            if frame.unwrapped:
                positions = frame.positions
            else:
                frac = np.linalg.solve(frame.cell.T, frame.positions.T).T
                try:
                    positions = unwrap(frac, frame.cell)
                except ValueError as exc:
                    raise InterfacialError(f"{where}: {exc}") from exc
            try:
                acc.add_frame(positions, frame.time)
            except ValueError as exc:
                raise InterfacialError(f"{where}: {exc}") from exc
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    if acc.n_frames < 2:
        raise InterfacialError(f"{acc.n_frames} frame(s); an MSD needs at least 2")
    assert first is not None  # acc.n_frames >= 2
    return acc.result(), first


# --------------------------------------------------------------------------------------------
# Fit window and D* fits
# --------------------------------------------------------------------------------------------


def check_fit_window(
    fit_window: Sequence[float],
    lag_times: ArrayLike | MSDCurves,
    min_points: int = MIN_FIT_POINTS,
) -> tuple[float, float]:
    """Return ``fit_window`` (ps) as floats if usable for an MSD fit.

    The one check of a user's fit window, for the MSD of a trajectory
    (:meth:`MSDResult.diffusivity`) and for stored curves (:func:`fit_diffusivities`).

    Parameters
    ----------
    fit_window : (float, float)
        (t_start, t_end) lag in ps.
    lag_times : array_like or MSDCurves
        Lag times of the MSD (ps), or stored curves (their lag times; the message then also
        gives the length of the run).
    min_points : int
        Fewest positive lags the window must hold.

    Raises
    ------
    InterfacialError
        The window is not a pair, is reversed or empty, starts below 0, ends after the longest
        MSD lag (longer than the run or than max_lag), or holds fewer than ``min_points`` MSD
        points.

    """
    run_time = None
    if isinstance(lag_times, MSDCurves):
        run_time = lag_times.run_time
        lag_times = lag_times.lag_times
    pair = tuple(fit_window)
    problem = (
        fit_window_problem((pair[0], pair[1]), lag_times, min_points)
        if len(pair) == 2
        else f"fit window {fit_window!r} is not a pair of times (t_start, t_end) in ps"
    )
    if problem is not None:
        raise InterfacialError(
            problem if run_time is None else f"{problem} (the run lasted {run_time:g} ps)"
        )
    return float(pair[0]), float(pair[1])


def fit_diffusivities(
    curves: MSDCurves,
    fit_window: Sequence[float] | None = None,
    components: Iterable[str] = DEFAULT_COMPONENTS,
    hop_length: float | None = None,
) -> tuple[str, list[DiffusivityRecord]]:
    r"""D* = slope / (2d) of every group's MSD along every component, by GLS, with a verdict.

    Without a user window, each group's window starts where its diffusive regime does
    (:func:`~interfacial.analysis.regime.diffusive_window` on the group's total MSD: after a
    significant maximum of the non-Gaussian parameter, or where the log-log slope reaches 1)
    and ends at min(run / 2, longest lag); every component of the group uses it. The GLS uses
    the data covariance when the curves carry fourth moments, else the random-walk model
    (documents stored before them). Each record carries its status ("diffusive", "caged",
    "too short") and verdict (:mod:`interfacial.analysis.verdict`).

    Parameters
    ----------
    curves : MSDCurves
        Stored multiple-origin MSD curves.
    fit_window : (float, float), optional
        (start, end) lag in ps for every group; default: chosen per group from the data.
    components : iterable of str
        Among "x", "y", "z", "in-plane", "out-of-plane", "total".
    hop_length : float, optional
        Hop length (A) of the verdict; default
        :data:`~interfacial.analysis.verdict.DEFAULT_HOP_LENGTH`.

    Returns
    -------
    rule : str
        The windows used, in words (stored with the document).
    records : list of DiffusivityRecord
        One per (group, component), D* and sigma_D in cm^2/s.

    """
    comps = list(components)
    unknown = [c for c in comps if c not in COMPONENT_DIMENSION]
    if unknown:
        raise InterfacialError(
            f"unknown component(s) {unknown}; choose from {list(COMPONENT_DIMENSION)}"
        )
    hop = DEFAULT_HOP_LENGTH if hop_length is None else float(hop_length)
    if not (math.isfinite(hop) and hop > 0):
        raise InterfacialError(f"hop length {hop_length!r} A is not positive; give a distance in A")
    user = None if fit_window is None else check_fit_window(fit_window, curves)
    rules = []
    records = []
    for group in curves.groups:
        if user is not None:
            window, reason = user, f"user: {user[0]:.4g}-{user[1]:.4g} ps"
        else:
            choice = _group_window(curves, group)
            window, reason = choice.fit_window, choice.reason
            rules.append(f"{group.group}: {reason}")
        for comp in comps:
            dim = COMPONENT_DIMENSION[comp]
            sq_variance = None
            if group.has_moments:
                assert group.fourth_moment is not None and group.fourth_moment_msd is not None
                sq_variance = squared_displacement_variance(
                    group.fourth_moment_msd[comp],
                    group.fourth_moment[comp],
                    group.fourth_moment_samples,
                )
            try:
                fit = tracer_diffusivity(
                    curves.lag_times,
                    group.msd[comp],
                    group.n_samples,
                    dim,
                    window,
                    n_atoms=group.n_atoms,
                    origin_spacing=curves.origin_spacing,
                    sq_variance=sq_variance,
                    hop_length=hop,
                )
            except ValueError as exc:
                raise InterfacialError(f"group {group.group!r}, {comp}: {exc}") from None
            records.append(
                DiffusivityRecord.from_fit(group.group, comp, group.n_atoms, fit, reason)
            )
    rule = f"user: {user[0]:.4g}-{user[1]:.4g} ps" if user is not None else "; ".join(rules)
    return rule, records


def _group_window(curves: MSDCurves, group: GroupMSD) -> WindowChoice:
    """The data-driven window of one group, from its total MSD (the most precise)."""
    moments = {}
    if group.has_moments:
        assert group.fourth_moment is not None and group.fourth_moment_msd is not None
        moments = {
            "fourth_moment": group.fourth_moment["total"],
            "fourth_moment_msd": group.fourth_moment_msd["total"],
            "fourth_moment_samples": group.fourth_moment_samples,
        }
    try:
        return diffusive_window(
            curves.lag_times,
            group.msd["total"],
            group.n_samples,
            dimension=3,
            n_atoms=group.n_atoms,
            origin_spacing=curves.origin_spacing,
            run_time=curves.run_time,
            **moments,
        )
    except ValueError as exc:
        raise InterfacialError(f"group {group.group!r}: {exc}") from None


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


def diffusion_document(
    frames: Iterable[Frame],
    groups: Mapping[str, Sequence[int]],
    *,
    system: str,
    temperature: float,
    source: Literal["md", "trajectory"],
    components: Sequence[str] | None = None,
    fit_window: Sequence[float] | None = None,
    max_lag: int | None = None,
    origin_interval: int = 1,
    masses: ArrayLike | None = None,
    progress: bool = False,
    potential_sha256: str | None = None,
    potential_engine: str | None = None,
    vacancies: list[dict[str, Any]] | None = None,
    trajectory_files: Sequence[str | Path] = (),
    md: MDRunInfo | None = None,
    hop_length: float | None = None,
) -> DiffusionDocument:
    """D* of a stream of frames, as a document: MSD, fits, formula and species order.

    The transport MD job and the trajectory analysis both call this, so their documents are
    filled the same way: ``n_atoms``, ``formula`` (:func:`interfacial.conventions.formula`) and
    ``species_order`` (:func:`interfacial.conventions.species_order`, the order of potentials
    and LAMMPS data files) come from the symbols of the frames.

    Parameters
    ----------
    frames : iterable of Frame
        The trajectory, e.g. :func:`interfacial.trajectory.iter_frames`.
    groups : Mapping[str, Sequence[int]]
        Group name -> 0-based frame positions (:func:`interfacial.trajectory.default_groups`).
    system : str
        Name the document is filed under.
    temperature : float
        Temperature of the run (K).
    source : {"md", "trajectory"}
        Our transport MD, or trajectory files analysed.
    components : sequence of str, optional
        Components fitted; in-plane, out-of-plane and total by default.
    fit_window : (float, float), optional
        MSD fit window (ps) for every group; otherwise chosen per group from the data
        (:func:`fit_diffusivities`).
    max_lag, origin_interval, masses, progress
        As for :func:`trajectory_msd`.
    potential_sha256, potential_engine, vacancies, trajectory_files, md
        Provenance stored with the document.
    hop_length : float, optional
        Hop length (A) of the verdicts (stored, so builders give the same verdict).

    Returns
    -------
    DiffusionDocument
        Compact MSD curves (A^2 vs ps) and D* (cm^2/s) with GLS errors.

    Raises
    ------
    InterfacialError
        Bad frames or groups (:func:`trajectory_msd`), an unusable fit window or an unknown
        component.

    """
    result, first = _streamed_msd(
        frames,
        groups,
        max_lag=max_lag,
        origin_interval=origin_interval,
        masses=masses,
        drift_atoms=None,
        progress=progress,
    )
    curves = MSDCurves.from_result(result)
    rule, records = fit_diffusivities(
        curves, fit_window, components or DEFAULT_COMPONENTS, hop_length=hop_length
    )
    atoms = first.symbols
    return DiffusionDocument(
        diffusion_id=DiffusionDocument.make_id(system, potential_sha256, temperature),
        system=system,
        temperature=temperature,
        potential_sha256=potential_sha256,
        potential_engine=potential_engine,
        species_order=species_order(atoms),
        n_atoms=len(atoms),
        formula=formula(atoms),
        vacancies=list(vacancies or []),
        source=source,
        trajectory_files=[str(p) for p in trajectory_files],
        md=md,
        msd=curves,
        fit_window_rule=rule,
        hop_length=hop_length,
        diffusivities=records,
    )


# --------------------------------------------------------------------------------------------
# Across temperatures
# --------------------------------------------------------------------------------------------


def _exclusion(temperature: float, rec: DiffusivityRecord) -> str | None:
    """Why a temperature stays out of an Arrhenius fit, or None when it enters."""
    state = rec.state
    if state == "caged":
        bound = f": D* < {rec.D_upper:.2g} cm^2/s" if rec.D_upper is not None else ""
        return f"caged at {temperature:g} K{bound}"
    if state == "too short":
        longer = (
            f": run ~{rec.run_longer_ps:.3g} ps longer" if rec.run_longer_ps is not None else ""
        )
        return f"too short at {temperature:g} K{longer}"
    if state != "diffusive":
        return f"not converged at {temperature:g} K"
    if rec.D <= 0:
        return f"D* <= 0 at {temperature:g} K (no measurable diffusion in the fit window)"
    if not (math.isfinite(rec.sigma_D) and rec.sigma_D > 0):
        return f"no finite error at {temperature:g} K"
    return None


def arrhenius_documents(docs: Iterable[DiffusionDocument]) -> list[ArrheniusDocument]:
    r"""One Arrhenius fit per (system, potential, group, component) over diffusive temperatures.

    :math:`\ln D^* = \ln D_0 - E_a / (k_B T)`, weighted by the GLS errors of D*
    (:func:`~interfacial.analysis.arrhenius.arrhenius`), over the temperatures whose record is
    "diffusive" only. The others are listed in ``excluded`` with the reason ("caged at 600 K:
    D* < 2e-09 cm^2/s", "too short at 700 K: run ~300 ps longer"; records stored before the
    status: "not converged"). With fewer than two diffusive temperatures the document has no
    parameters, the largest upper bound of D* in ``D_upper`` and a ``note`` that says so.
    When two documents share a temperature, the newest wins.
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
        reasons = [_exclusion(m[0].temperature, m[1]) for m in members]
        used = [m for m, why in zip(members, reasons, strict=True) if why is None]
        excluded = [
            {
                "temperature": m[0].temperature,
                "D": m[1].D,
                "status": m[1].state,
                "D_upper": m[1].D_upper,
                "reason": why,
            }
            for m, why in zip(members, reasons, strict=True)
            if why is not None
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
            bounds = [float(x["D_upper"]) for x in excluded if x["D_upper"] is not None]
            fit.D_upper = max(bounds) if bounds else None
            bound = (
                f"; D* < {fit.D_upper:.2g} cm^2/s at the other temperatures (largest upper bound)"
                if fit.D_upper is not None
                else ""
            )
            fit.note = (
                f"no Arrhenius fit: {len(used)} diffusive temperature(s), 2 or more needed{bound}"
            )
        out.append(fit)
    return out
