"""Output documents of the reference MD (training and validation data of MTP fits).

A reference MD job returns a :class:`ReferenceMDDocument`. Its ``snapshots`` field holds every
labelled configuration; the jobs declare it with ``@job(data="snapshots")`` so that jobflow puts
it into the JobStore's additional store named "data" and leaves only a reference (a dict with
``blob_uuid`` and ``store``) in the docs store, which keeps the summary small whatever the length
of the run (MongoDB documents are limited to 16 MB). ``JobStore.query_one(..., load=True)``
resolves the reference again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from interfacial.conventions import species_order

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ase import Atoms
    from pymatgen.core import Structure

#: Name of the JobStore additional store that receives the snapshots.
DATA_STORE = "data"
#: Output field that jobflow moves to :data:`DATA_STORE`.
SNAPSHOTS_FIELD = "snapshots"


class MDSnapshot(BaseModel):
    """One labelled configuration of a reference MD run.

    Attributes
    ----------
    step : int
        Step number counted from the start of the production run (1-based).
    time : float
        Time since the start of production (fs).
    temperature : float
        Instantaneous kinetic temperature (K).
    cell : list[list[float]]
        Lattice vectors as rows (A).
    positions : list[list[float]]
        Cartesian positions (A), in the order of ``MDSnapshots.symbols``.
    energy : float
        Total potential energy (eV).
    forces : list[list[float]]
        Forces (eV/A).
    stress : list[float] or None
        Stress in ASE's convention (eV/A^3, positive in tension, Voigt xx yy zz yz xz xy).

    """

    step: int
    time: float
    temperature: float
    cell: list[list[float]]
    positions: list[list[float]]
    energy: float
    forces: list[list[float]]
    stress: list[float] | None = None


class MDSnapshots(BaseModel):
    """The labelled configurations of one run (stored in the "data" store).

    Attributes
    ----------
    symbols : list[str]
        Element of each atom (the same in every snapshot).
    pbc : list[bool]
        Periodicity along a, b, c.
    snapshots : list[MDSnapshot]
        In time order.

    """

    symbols: list[str]
    pbc: list[bool] = Field(default_factory=lambda: [True, True, True])
    snapshots: list[MDSnapshot] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.snapshots)

    @classmethod
    def from_atoms(
        cls, frames: Sequence[Atoms], steps: Sequence[int], time_step: float
    ) -> MDSnapshots:
        """Build from ASE Atoms carrying energy/forces (and stress) in their calculator.

        Parameters
        ----------
        frames : sequence of ase.Atoms
            Labelled configurations (SinglePointCalculator results), momenta set.
        steps : sequence of int
            Production step of each frame.
        time_step : float
            MD time step (fs).

        """
        if not frames:
            raise ValueError("no frames to store")
        symbols = frames[0].get_chemical_symbols()
        snapshots = []
        for atoms, step in zip(frames, steps, strict=True):
            results = atoms.calc.results
            stress = results.get("stress")
            snapshots.append(
                MDSnapshot(
                    step=int(step),
                    time=float(step * time_step),
                    temperature=float(atoms.get_temperature()),
                    cell=np.asarray(atoms.cell.array, dtype=float).tolist(),
                    positions=np.asarray(atoms.positions, dtype=float).tolist(),
                    energy=float(results["energy"]),
                    forces=np.asarray(results["forces"], dtype=float).tolist(),
                    stress=None if stress is None else np.asarray(stress, float).ravel().tolist(),
                )
            )
        return cls(symbols=symbols, pbc=[bool(p) for p in frames[0].pbc], snapshots=snapshots)

    def to_atoms(self) -> list[Atoms]:
        """ASE Atoms with a SinglePointCalculator (energy, forces, stress), e.g. for write_cfg."""
        from ase import Atoms
        from ase.calculators.singlepoint import SinglePointCalculator

        frames = []
        for snap in self.snapshots:
            atoms = Atoms(self.symbols, positions=snap.positions, cell=snap.cell, pbc=self.pbc)
            results: dict = {"energy": snap.energy, "forces": np.array(snap.forces)}
            if snap.stress is not None:
                results["stress"] = np.array(snap.stress)
            atoms.calc = SinglePointCalculator(atoms, **results)
            atoms.info["md_step"] = snap.step
            atoms.info["md_temperature"] = snap.temperature
            frames.append(atoms)
        return frames

    def energy_range(self) -> list[float]:
        """Smallest and largest potential energy per atom of the snapshots (eV/atom)."""
        per_atom = [s.energy / len(self.symbols) for s in self.snapshots]
        return [min(per_atom), max(per_atom)]

    def max_force(self) -> float:
        """Largest force magnitude on any atom in any snapshot (eV/A)."""
        return max(float(np.linalg.norm(np.array(s.forces), axis=1).max()) for s in self.snapshots)


class TemperatureSchedule(BaseModel):
    """Thermostat targets of one run.

    Attributes
    ----------
    ramp_start : float
        Target at the first ramp step (K).
    ramp_end : float
        Target at the last ramp step (K), equal to ``production``.
    production : float
        Constant target during production (K).

    """

    ramp_start: float
    ramp_end: float
    production: float


class VacancyInfo(BaseModel):
    """Ions removed before the run (see :func:`interfacial.structures.defects.remove_ions`)."""

    element: str
    count: int
    seed: int
    region: str | None = None


class ReferenceMDDocument(BaseModel):
    """Summary of one reference MD run; the snapshots themselves live in the "data" store.

    Attributes
    ----------
    system : str
        Label of the system (e.g. "Li2S", or an interface model label).
    formula : str
        Reduced formula of the simulated cell.
    species_order : list[str]
        The explicit species order of the MTP fit (MLIP type k is ``species_order[k]``).
    purpose : {"training", "validation"}
        Training set (at ``temperature``) or validation set (300 K, 500 K in the study).
    temperatures : TemperatureSchedule
        Thermostat targets (K).
    time_step : float
        Time step (fs).
    ramp_steps, production_steps : int
        Number of MD steps of the ramp and of production.
    snapshot_interval : int
        A snapshot every this many production steps (the last production step included).
    n_snapshots : int
        ``production_steps // snapshot_interval``.
    n_atoms : int
        Atoms of the simulated cell.
    charge : float
        Cell charge (e): -1 per Li+ removed; DFT compensates it, force fields ignore it.
    vacancies : list[VacancyInfo]
        Ions removed before the run.
    calculator : str
        Label of the reference calculator (e.g. "CHGNet", "VASP").
    calculator_meta : dict
        Identity of the calculator (model name, version, keyword arguments).
    energy_range : list[float]
        Min and max potential energy per atom over the snapshots (eV/atom).
    max_force : float
        Largest force magnitude in the snapshots (eV/A).
    mean_temperature : float
        Mean kinetic temperature over the snapshots (K).
    snapshots : MDSnapshots or None
        Moved to the "data" store by jobflow; a blob reference in the docs store.
    source_uuids : list[str]
        uuids of the engine jobs the document was made from (VASP ramp and production).
    structure : Structure or None
        Initial (defective) cell of the run.
    elapsed_time : float or None
        Wall time of the MD (s) when run here.
    last_updated : datetime
        When the document was made (UTC).

    """

    system: str
    formula: str
    species_order: list[str]
    purpose: Literal["training", "validation"]
    temperatures: TemperatureSchedule
    time_step: float
    ramp_steps: int
    production_steps: int
    snapshot_interval: int
    n_snapshots: int
    n_atoms: int
    charge: float = 0.0
    vacancies: list[VacancyInfo] = Field(default_factory=list)
    calculator: str
    calculator_meta: dict = Field(default_factory=dict)
    energy_range: list[float]
    max_force: float
    mean_temperature: float
    snapshots: MDSnapshots | None = None
    source_uuids: list[str] = Field(default_factory=list)
    structure: dict | None = None

    @field_validator("structure", mode="before")
    @classmethod
    def _structure_as_dict(cls, value: Any) -> Any:
        # jobflow decodes stored MSON dicts into objects before validation: store the dict.
        return value.as_dict() if hasattr(value, "as_dict") else value

    elapsed_time: float | None = None
    last_updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("energy_range")
    @classmethod
    def _two_values(cls, value: list[float]) -> list[float]:
        if len(value) != 2 or value[0] > value[1]:
            raise ValueError(f"energy_range must be [min, max], got {value}")
        return value

    @classmethod
    def from_snapshots(
        cls,
        snapshots: MDSnapshots,
        structure: Structure,
        **fields: object,
    ) -> ReferenceMDDocument:
        """Summarise ``snapshots`` of a run that started from ``structure``.

        ``fields`` are the run's settings (system, purpose, temperatures, steps, calculator, ...).
        """
        mean_t = float(np.mean([s.temperature for s in snapshots.snapshots]))
        return cls(
            formula=structure.composition.reduced_formula,
            species_order=species_order(snapshots.symbols),
            n_snapshots=len(snapshots),
            n_atoms=len(snapshots.symbols),
            charge=float(structure.charge),
            energy_range=snapshots.energy_range(),
            max_force=snapshots.max_force(),
            mean_temperature=mean_t,
            snapshots=snapshots,
            structure=structure.as_dict(),
            **fields,
        )
