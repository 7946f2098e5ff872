"""Documents of the transport study: MSD curves and D* per temperature, Arrhenius fits.

A :class:`DiffusionDocument` is made per (system, potential, temperature): the compact MSD curves
of every group and component (a few hundred lags, never the trajectory) and D* fitted on them.
The transport MD job returns one; the DiffusionBuilder re-derives the fits from the stored curves
into the ``diffusion`` collection, and the ArrheniusBuilder groups those by system, potential,
group and component into :class:`ArrheniusDocument` s (``arrhenius`` collection).

Units: lag times ps, MSD A^2, D* cm^2/s, temperatures K, Ea meV, time step fs.
Groups and components are lists of records rather than dict keys, because group names are the
user's and MongoDB refuses keys with dots.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from interfacial.analysis.arrhenius import ArrheniusFit
    from interfacial.analysis.diffusivity import DiffusivityFit
    from interfacial.analysis.msd import MSDResult


def utcnow() -> datetime:
    """Timezone-aware now, for ``last_updated``."""
    return datetime.now(UTC)


#: Components fitted by default: in the interface plane, along the normal, and in 3D.
DEFAULT_COMPONENTS = ("in-plane", "out-of-plane", "total")


class GroupMSD(BaseModel):
    """MSD of one group of atoms at the stored lags."""

    group: str
    n_atoms: int
    n_samples: list[int] = Field(description="(origin, atom) pairs averaged at each lag")
    msd: dict[str, list[float]] = Field(description="component -> MSD (A^2) at each lag")
    fourth_moment: dict[str, list[float]] | None = Field(
        None,
        description="component -> mean |dr|^4 (A^4) at each lag over a subset of origins "
        "(absent in documents stored before fourth moments were kept)",
    )
    fourth_moment_msd: dict[str, list[float]] | None = Field(
        None, description="component -> mean |dr|^2 (A^2) over the same subset as fourth_moment"
    )
    fourth_moment_samples: list[int] | None = Field(
        None, description="(origin, atom) pairs behind fourth_moment at each lag (0: not sampled)"
    )

    @property
    def has_moments(self) -> bool:
        """Whether the fourth moments are stored (else the fit uses the random-walk model)."""
        return self.fourth_moment is not None and self.fourth_moment_samples is not None


class MSDCurves(BaseModel):
    """Compact multiple-origin MSD curves, enough to refit D* with its GLS error."""

    lag_times: list[float] = Field(description="ps")
    n_origins: list[int]
    origin_spacing: float = Field(description="Time between origins (ps)")
    n_frames: int
    groups: list[GroupMSD]

    @classmethod
    def from_result(cls, result: MSDResult, max_points: int | None = None) -> MSDCurves:
        """The curves at the lags of ``result``: the MSD's lag grid, all of it by default.

        :class:`~interfacial.analysis.msd.StreamingMSD` computes the MSD on a grid of a few
        hundred lags (every lag up to 64 frames, then about 400 evenly spaced ones,
        :func:`~interfacial.analysis.msd.msd_lag_grid`), and the fourth moments on the same
        grid, so the curves keep exactly the lags computed. ``max_points`` thins further to
        that many lags evenly spaced in index (always the first and the last): nothing the
        fit needs is lost, since the GLS uses each kept lag's own time and sample count and
        neighbouring lags are almost perfectly correlated.
        """
        n = result.lag_times.size
        keep = np.arange(n)
        if max_points is not None and n > max_points:
            pick = np.round(np.linspace(0, n - 1, max(2, max_points)))
            keep = np.unique(pick.astype(int))
        samples4 = result.fourth_moment_samples

        def moments(name: str) -> dict[str, Any]:
            if result.fourth_moment is None or result.fourth_moment_msd is None:
                return {}
            assert samples4 is not None
            return {
                "fourth_moment": {
                    c: [float(v) for v in m[keep]] for c, m in result.fourth_moment[name].items()
                },
                "fourth_moment_msd": {
                    c: [float(v) for v in m[keep]]
                    for c, m in result.fourth_moment_msd[name].items()
                },
                "fourth_moment_samples": [int(c) for c in samples4[name][keep]],
            }

        return cls(
            lag_times=[float(t) for t in result.lag_times[keep]],
            n_origins=[int(c) for c in result.n_origins[keep]],
            origin_spacing=float(result.origin_spacing),
            n_frames=int(result.n_frames),
            groups=[
                GroupMSD(
                    group=name,
                    n_atoms=int(result.n_atoms[name]),
                    n_samples=[int(c) for c in result.n_samples[name][keep]],
                    msd={comp: [float(v) for v in curve[keep]] for comp, curve in comps.items()},
                    **moments(name),
                )
                for name, comps in result.msd.items()
            ],
        )

    def group(self, name: str) -> GroupMSD:
        """The curves of one group (KeyError names the groups there are)."""
        for g in self.groups:
            if g.group == name:
                return g
        raise KeyError(f"no group {name!r}; have {[g.group for g in self.groups]}")

    @property
    def run_time(self) -> float:
        """Length of the analysed trajectory (ps): the longest origin-to-frame span."""
        return float((self.n_origins[-1] - 1) * self.origin_spacing + self.lag_times[-1])


def record_state(status: str | None, converged: bool | None) -> str:
    """The status of a D* record, also of one stored before statuses existed.

    Such a record has only the old flag: "diffusive" when it was converged, else
    "unconverged". One rule for the record (:attr:`DiffusivityRecord.state`) and for tables
    that read records as stored dicts.
    """
    if status:
        return status
    return "diffusive" if converged else "unconverged"


class DiffusivityRecord(BaseModel):
    """D* of one group along one component, with its fit diagnostics."""

    group: str
    component: str
    dimension: int = Field(description="d in MSD = 2 d D* t")
    n_atoms: int
    D: float = Field(description="Tracer diffusivity (cm^2/s)")
    sigma_D: float = Field(  # noqa: N815
        description="Standard error (cm^2/s): GLS error under `covariance` (no Birge widening)"
    )
    sigma_D_model: float | None = Field(  # noqa: N815
        None, description="GLS error of the random-walk covariance model alone (cm^2/s)"
    )
    covariance: Literal["data", "random-walk model"] | None = Field(
        None,
        description="MSD covariance of the fit: 'data' (variance of the squared displacements "
        "from the fourth moments) or 'random-walk model' (curves without fourth moments)",
    )
    status: Literal["diffusive", "caged", "too short"] | None = Field(
        None,
        description="diffusive: D* with an honest error; caged: sub-diffusive or bounded MSD, "
        "D_upper bounds D*; too short: too few hop-length displacements (run_longer_ps)",
    )
    verdict: str | None = Field(None, description="The status in one sentence")
    D_upper: float | None = Field(None, description="Upper bound of D* (cm^2/s) when not diffusive")
    D_upper_rule: str | None = Field(None, description="How D_upper was taken")
    run_longer_ps: float | None = Field(
        None, description="For 'too short': how much longer the run should be (ps)"
    )
    n_hops: float | None = Field(
        None, description="Hop-length displacements in the run, N 6 D* T / a^2"
    )
    hop_length: float | None = Field(None, description="Hop length a of the verdict (A)")
    slope_end: float | None = Field(
        None, description="Log-log MSD slope over the last octave of the window"
    )
    window_rule: str | None = Field(None, description="Why the fit window starts where it does")
    sigma_D_ols: float = Field(  # noqa: N815
        description="Naive OLS error (cm^2/s), for comparison only: it ignores correlations"
    )
    intercept: float = Field(description="A^2")
    fit_window: list[float] = Field(description="First and last lag used (ps)")
    n_points: int
    chi2: float
    dof: int
    p_value: float
    n_independent: float
    converged: bool = Field(description="status == 'diffusive' (the old flag, kept for readers)")

    @property
    def state(self) -> str:
        """``status``; for records stored before it, diffusive if converged else unconverged."""
        return record_state(self.status, self.converged)

    @classmethod
    def from_fit(
        cls,
        group: str,
        component: str,
        n_atoms: int,
        fit: DiffusivityFit,
        window_rule: str | None = None,
    ) -> Any:
        """Record of :func:`~interfacial.analysis.diffusivity.tracer_diffusivity`'s result."""
        return cls(
            group=group,
            component=component,
            dimension=fit.dimension,
            n_atoms=n_atoms,
            D=fit.D,
            sigma_D=fit.sigma_D,
            sigma_D_ols=fit.sigma_D_ols,
            sigma_D_model=fit.sigma_D_model,
            intercept=fit.intercept,
            fit_window=list(fit.fit_window),
            n_points=fit.n_points,
            chi2=fit.chi2,
            dof=fit.dof,
            p_value=fit.p_value,
            n_independent=fit.n_independent,
            converged=fit.converged,
            covariance=fit.covariance_kind,
            status=fit.status,
            verdict=fit.verdict,
            D_upper=fit.D_upper,
            D_upper_rule=fit.D_upper_rule,
            run_longer_ps=fit.run_longer_ps,
            n_hops=fit.n_hops,
            hop_length=fit.hop_length,
            slope_end=fit.slope_end,
            window_rule=window_rule,
        )


class MDRunInfo(BaseModel):
    """How the trajectory was made (absent for trajectories analysed from a file)."""

    engine: str = Field(
        description="e.g. 'lammps+motep (fix external)' or 'lammps pair_style mlip'"
    )
    lammps_version: str | None = None
    time_step: float = Field(description="fs")
    ramp_steps: int
    equilibration_steps: int
    production_steps: int
    dump_interval: int
    thermostat_damping: float = Field(description="fs")
    velocity_seed: int
    segments: int
    wall_time: float = Field(description="s, all segments")
    ns_per_day: float | None = None
    mean_temperature: float = Field(description="Mean production temperature (K)")
    temperature_note: str | None = Field(
        None, description="Set when the mean production temperature strays from the target"
    )
    work_dir: str | None = Field(None, description="Where the dumps and restart files are")


class ExtrapolationCheck(BaseModel):
    """How far the production frames lie outside the potential's training set (MaxVol grade).

    Grades <= 1 interpolate; above ``select_threshold`` (2) a configuration is worth adding by
    active learning; above ``break_threshold`` (10) the potential is unreliable there, and so
    is the D* it produces.
    """

    n_graded: int
    max_grade: float
    mean_grade: float
    fraction_above_select: float
    select_threshold: float
    break_threshold: float
    reliable: bool = Field(description="No graded frame above the break threshold")
    training_source: str = Field(description="Which training set the active set came from")
    n_training: int


class LabelledNeighbourhood(BaseModel):
    """One neighbourhood cut from an exploring MD frame and labelled by the reference."""

    step: int = Field(description="MD step of the frame")
    atom: int = Field(description="0-based index of the central atom in the transport cell")
    grade: float = Field(description="MaxVol grade of the central atom")
    n_atoms: int = Field(description="Atoms of the cut cluster")


class TransportLearningRound(BaseModel):
    """One round of active learning on the transport cell: explore, grade, label, refit."""

    round: int
    potential_sha256: str = Field(description="The potential that explored")
    temperature: float = Field(description="K, of the exploring MD")
    md_steps: int = Field(description="Steps run (fewer than planned when it broke off)")
    md_ended: str = Field(description="completed / grade above break threshold / non-finite")
    n_graded: int = Field(description="Frames graded (every atom of each)")
    max_grade: float
    grade_threshold: float
    n_training: int = Field(description="Training configurations of the exploring potential")
    n_labelled: int
    labelled: list[LabelledNeighbourhood] = Field(default_factory=list)


class TransportLearning(BaseModel):
    """Active learning on the transport cell before production, round by round.

    Explored once, at the highest temperature of the ladder; every temperature's production
    uses ``production_potential_sha256``.
    """

    rounds: list[TransportLearningRound]
    max_rounds: int = Field(description="Rounds of labelling and refitting allowed")
    converged: bool = Field(
        description="The last exploration completed with no grade above the threshold"
    )
    initial_potential_sha256: str
    production_potential_sha256: str
    refit_system: str = Field(description="System label of the refits (store:<refit_system>)")


class DiffusionDocument(BaseModel):
    """MSD curves and D* of one system at one temperature with one potential."""

    diffusion_id: str
    system: str
    temperature: float = Field(description="Target temperature (K)")
    potential_sha256: str | None = Field(None, description="The MTP used; null for file input")
    potential_engine: str | None = None
    species_order: list[str]
    n_atoms: int
    formula: str
    vacancies: list[dict[str, Any]] = Field(default_factory=list)
    source: Literal["md", "trajectory"] = "md"
    trajectory_files: list[str] = Field(default_factory=list)
    md: MDRunInfo | None = None
    msd: MSDCurves
    fit_window_rule: str = Field(description="How the fit window was chosen")
    hop_length: float | None = Field(
        None, description="Hop length (A) of the verdicts; null: the default (2.5 A)"
    )
    diffusivities: list[DiffusivityRecord]
    extrapolation: ExtrapolationCheck | None = Field(
        None, description="Grades of production frames, when a training set was given"
    )
    trajectory: dict[str, Any] | None = Field(
        None, description="Production frames when asked for (data store): time, positions, ..."
    )
    learning: TransportLearning | None = Field(
        None, description="Active learning on the transport cell before production, if any"
    )
    task_uuid: str | None = None
    source_fingerprint: str | None = None
    last_updated: datetime = Field(default_factory=utcnow)

    @staticmethod
    def make_id(system: str, potential_sha256: str | None, temperature: float) -> str:
        """Stable key of (system, potential, temperature)."""
        pot = (potential_sha256 or "file")[:12]
        return f"{system}|{pot}|{temperature:g}K"

    def diffusivity(self, group: str, component: str) -> DiffusivityRecord:
        """The record of one group and component."""
        for rec in self.diffusivities:
            if rec.group == group and rec.component == component:
                return rec
        have = sorted({(r.group, r.component) for r in self.diffusivities})
        raise KeyError(f"no D* for group {group!r}, component {component!r}; have {have}")


class ArrheniusDocument(BaseModel):
    """D*(T) = D0 exp(-Ea / kB T) of one group and component across temperatures."""

    arrhenius_id: str
    system: str
    potential_sha256: str | None
    group: str
    component: str
    temperatures: list[float] = Field(description="K, those entering the fit")
    D: list[float] = Field(description="cm^2/s")
    sigma_D: list[float] = Field(description="cm^2/s")  # noqa: N815
    excluded: list[dict[str, Any]] = Field(
        default_factory=list, description="Temperatures left out and why"
    )
    Ea: float | None = Field(None, description="meV")
    sigma_Ea: float | None = Field(None, description="meV")  # noqa: N815
    D0: float | None = Field(None, description="cm^2/s")
    sigma_D0: float | None = Field(None, description="cm^2/s, first order")  # noqa: N815
    ln_D0: float | None = None  # noqa: N815
    sigma_ln_D0: float | None = None  # noqa: N815
    chi2: float | None = None
    dof: int | None = None
    note: str | None = Field(None, description="Why there is no fit, when there is none")
    D_upper: float | None = Field(
        None,
        description="Without a fit: the largest upper bound of D* (cm^2/s) over the "
        "temperatures that are not diffusive",
    )
    diffusion_ids: list[str]
    source_fingerprint: str | None = None
    last_updated: datetime = Field(default_factory=utcnow)

    @staticmethod
    def make_id(system: str, potential_sha256: str | None, group: str, component: str) -> str:
        """Stable key of (system, potential, group, component)."""
        pot = (potential_sha256 or "file")[:12]
        return f"{system}|{pot}|{group}|{component}"

    def with_fit(self, fit: ArrheniusFit) -> ArrheniusDocument:
        """A copy carrying the fitted parameters."""
        return self.model_copy(
            update={
                "Ea": fit.Ea,
                "sigma_Ea": fit.sigma_Ea,
                "D0": fit.D0,
                "sigma_D0": fit.sigma_D0,
                "ln_D0": fit.ln_D0,
                "sigma_ln_D0": fit.sigma_ln_D0,
                "chi2": fit.chi2,
                "dof": fit.dof,
            }
        )


def digest(text: str) -> str:
    """Short sha256 of ``text`` (fingerprints)."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]
