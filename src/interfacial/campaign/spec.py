"""The campaign: its schema, the flows it plans, and reading it from a file.

:class:`Campaign` holds the entries (:mod:`interfacial.campaign.entries`), builds and validates
every flow that can be built now, and describes the plan in words; :func:`load_campaign` reads a
YAML file, its errors naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from interfacial.campaign.entries import (
    Calculators,
    InterfaceSpec,
    PotentialSpec,
    Routing,
    ScreenSpec,
    Strict,
    SurfaceSpec,
    TransportSpec,
)
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow

    from interfacial.settings import InterfacialSettings


class Campaign(Strict):
    """A study: screenings, surfaces, interfaces, calculators per stage, MD temperatures, routing.

    Stages run in this order: screen, surfaces, interfaces, potentials, transport.
    """

    name: str = Field(min_length=1)
    description: str = ""
    calculators: Calculators = Field(default_factory=Calculators)
    screen: list[ScreenSpec] = Field(default_factory=list)
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
        a transport entry on an interface or a potential that this campaign produces is then
        left out, to be built once the stages before it have run
        (:func:`~interfacial.campaign.run`). Otherwise (submission) each worker uses its own
        ``INTERFACIAL_MD_DIR``, and entries that use another entry's result are wired to it
        in one flow (stage ``chain``, :mod:`interfacial.campaign.chain`).
        """
        return [(step.stage, step.flow) for step in self.steps(settings, local) if step.flow]

    def steps(self, settings: InterfacialSettings | None, local: bool) -> list[Step]:
        """Every entry of every stage in running order, its flow built when it can be now."""
        steps = self.energetics_steps(settings)
        if not local:
            from interfacial.campaign.chain import chained_steps

            return chained_steps(self, steps, settings)
        from interfacial.campaign.chain import potential_maker

        learnt = self.learnt_systems()
        for i, spec in enumerate(self.potentials):
            where = f"potentials[{i}] ({spec.structure})"
            self.check_structure_reference(where, spec.structure)
            try:
                potential_maker(spec, settings)  # its options, checked before any job runs
            except InterfacialError as exc:
                raise InterfacialError(f"{where}: {exc}") from None
        steps += [Step("potentials", system, None, i) for i, system in enumerate(learnt)]
        produced = self.produced_interfaces()
        for i, tspec in enumerate(self.transport):
            store = tspec.potential.startswith("store:")
            deferred = (store and tspec.potential.removeprefix("store:") in learnt) or (
                interface_name(tspec.structure) in produced
            )
            try:
                flow = self.transport_flow(tspec, settings, local, check_only=deferred)
            except InterfacialError as exc:
                raise InterfacialError(f"transport[{i}] ({tspec.structure}): {exc}") from None
            steps.append(Step("transport", tspec.structure, flow, i))
        return steps

    def energetics_steps(self, settings: InterfacialSettings | None) -> list[Step]:
        """The screen, surfaces and interfaces entries, each with its flow."""
        from interfacial.api import interface_flow, surface_flow

        steps: list[Step] = []
        for i, sspec in enumerate(self.screen):
            try:
                screen = self.screen_flow(sspec, settings)
            except InterfacialError as exc:
                raise InterfacialError(f"screen[{i}] ({sspec.electrolyte}): {exc}") from None
            steps.append(Step("screen", sspec.electrolyte, screen, i))
        for i, spec in enumerate(self.surfaces):
            options = spec.model_dump(exclude={"material"})
            try:
                flow = surface_flow(
                    spec.material,
                    calculator=self.calculators.surfaces,
                    settings=settings,
                    **options,
                )
            except InterfacialError as exc:
                raise InterfacialError(f"surfaces[{i}] ({spec.material}): {exc}") from None
            steps.append(Step("surfaces", spec.material, flow, i))
        for i, ispec in enumerate(self.interfaces):
            options = ispec.model_dump(
                exclude={"metal", "compound", "metal_miller", "compound_miller"}
            )
            try:
                flow = interface_flow(
                    ispec.metal,
                    ispec.compound,
                    ispec.metal_miller,
                    ispec.compound_miller,
                    calculator=self.calculators.interfaces,
                    settings=settings,
                    **options,
                )
            except InterfacialError as exc:
                raise InterfacialError(
                    f"interfaces[{i}] ({ispec.metal}||{ispec.compound}): {exc}"
                ) from None
            steps.append(Step("interfaces", flow.name, flow, i))
        return steps

    def produced_interfaces(self) -> dict[str, int]:
        """``METAL(hkl)|COMPOUND(hkl)`` -> index of the interfaces entry that computes it."""
        return {
            f"{i.metal}({_hkl(i.metal_miller)})|{i.compound}({_hkl(i.compound_miller)})": n
            for n, i in enumerate(self.interfaces)
        }

    def check_structure_reference(self, where: str, structure: str) -> None:
        """Refuse an ``interface:`` reference that neither this campaign nor the database has.

        A built-in name or a file is checked by loading it; an interface of this campaign's
        interfaces stage is produced before it is used.
        """
        from interfacial.api import load_md_structure

        if interface_name(structure) in self.produced_interfaces():
            return
        try:
            load_md_structure(structure)
        except InterfacialError as exc:
            hint = (
                "; name an interface of this campaign's interfaces stage or one in the database"
                if structure.startswith("interface:")
                else ""
            )
            raise InterfacialError(f"{where}: {exc}{hint}") from None

    def screen_calculators(self, spec: ScreenSpec) -> tuple[str, str]:
        """Calculators of a screen entry: its own, else the surfaces' and the interfaces'."""
        return (
            spec.calculator or self.calculators.surfaces,
            spec.refine_calculator or self.calculators.interfaces,
        )

    def screen_flow(self, spec: ScreenSpec, settings: InterfacialSettings | None) -> Flow:
        """The screening flow of one entry (surfaces reused from the store when they are)."""
        from interfacial.api.screening import screen_flow

        calculator, refine_calculator = self.screen_calculators(spec)
        return screen_flow(
            spec.electrolyte,
            metal=spec.metal,
            compounds=spec.compounds,
            calculator=calculator,
            refine_calculator=refine_calculator,
            settings=settings,
            **spec.screen_options(),
        )

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
        if self.screen:
            lines.append("screen (reduction products, facets, candidates, two tiers):")
        for s in self.screen:
            calculator, refine = self.screen_calculators(s)
            against = f" against {s.metal}" if s.metal else ""
            fixed = ("electrolyte", "metal", "calculator", "refine_calculator")
            lines.append(
                f"  {s.electrolyte}{against} ({calculator} pre-screen, {refine} refine): "
                + options(s, *fixed)
            )
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

    def transport_flow(
        self,
        spec: TransportSpec,
        settings: InterfacialSettings | None,
        local: bool,
        *,
        check_only: bool = False,
        structure: Any = None,
        potential: Any = None,
        training_of_potential: Any = None,
    ) -> Flow | None:
        """The transport flow of one entry (``check_only``: check the options, build nothing).

        ``structure`` and ``potential`` (e.g. outputs of earlier jobs of the same workflow)
        replace reading the entry's ``structure`` and ``potential`` from the database;
        ``training_of_potential`` is then that potential's training set (``{"cfg", "source"}``,
        possibly holding a reference), which learning on the transport cell extends.
        """
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
        produced = interface_name(spec.structure) in self.produced_interfaces()
        if structure is not None or (check_only and produced):
            label = interface_name(spec.structure) or spec.structure
        else:
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
        # Learning rounds' label and fit makers; a potential this campaign learns is refitted
        # with its own entry's fit options (engine, iterations), not the calculator's defaults.
        options.update(spec.learn_makers(settings))
        if spec.learn_rounds and spec.potential.startswith("store:"):
            system = spec.potential.removeprefix("store:")
            learnt = dict(zip(self.learnt_systems(), self.potentials, strict=True))
            if system in learnt:
                from interfacial.campaign.chain import potential_maker

                options["fit_maker"] = potential_maker(learnt[system], settings).fit_maker
        maker = presets.get(spec.md_engine, DiffusionMDMaker)(md_engine=spec.md_engine, **options)
        if check_only:
            return None
        training = None
        if potential is None:
            potential = load_potential(spec.potential, spec.species, settings)
            if (local or spec.learn_rounds) and spec.potential.startswith("store:"):
                # Here, grade the production frames against the potential's training set;
                # submitted flows carry it only to learn on the transport cell (a study's set
                # is large).
                training = training_set(spec.potential.removeprefix("store:"), settings)
        else:
            training = training_of_potential  # the campaign's own fit's set (or None)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
            return maker.make(structure, potential, spec.label or label, training=training)


@dataclass
class Step:
    """One entry of one stage; ``flow`` is None until it can be built (after earlier stages).

    A ``chain`` step joins entries wired by references into one flow; ``parts`` are their
    (stage, flow) pairs, each routed by its own stage.
    """

    stage: str
    name: str
    flow: Flow | None
    index: int = 0
    parts: list[tuple[str, Flow | None]] = field(default_factory=list)


def _hkl(miller: list[int]) -> str:
    return "".join(map(str, miller))


def interface_name(structure: str) -> str | None:
    """``METAL(hkl)|COMPOUND(hkl)`` of an ``interface:`` reference (None for anything else)."""
    if not structure.startswith("interface:"):
        return None
    return structure.removeprefix("interface:").replace(" ", "")


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
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise InterfacialError(f"campaign file {path} is a directory; give a YAML file") from None
    except OSError as exc:
        raise InterfacialError(f"cannot read campaign file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise InterfacialError(
            f"campaign file {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it "
            "as UTF-8"
        ) from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InterfacialError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        raise InterfacialError(f"campaign file {path} is empty; give at least 'name: ...'")
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
