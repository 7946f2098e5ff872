"""The screening funnel: surfaces -> facets -> candidates -> pre-screen -> refine -> summary.

surfaces of the metal and every reduction product (or stored ones, reused) -> ``screen
candidates`` (facet selection, lattice matching of every facet/termination pair) -> ``screen
prescreen`` (every candidate on a cheap tier) -> ``screen refine`` (the top ``n_refine`` per
product on the refine tier, possibly another calculator) -> ``screening summary`` (the
ScreeningDocument). See :mod:`interfacial.jobs.screening` for how a failed candidate is
recorded instead of sinking the screen.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobflow import Flow, Job, Maker
from jobflow.core.reference import OnMissing

from interfacial.errors import InterfacialError
from interfacial.flows.interface import InterfaceEnergeticsMaker
from interfacial.flows.surface import SurfaceEnergyMaker, bulk_relaxation
from interfacial.jobs.interface import tier_hash
from interfacial.jobs.screening import screen_candidates, screen_tier, screening_summary
from interfacial.schemas.roles import Role, tag
from interfacial.schemas.screening import PRESCREEN, REFINE
from interfacial.screening.rules import (
    DEFAULT_MAX_GAMMA_RATIO,
    DEFAULT_MIN_AREA_FRACTION,
    DEFAULT_TERMINATION_TOLERANCE,
)
from interfacial.structures.slabs import parse_miller

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pymatgen.core import Structure

    from interfacial.schemas.surface import SurfaceMaterialDocument
    from interfacial.screening.reduction import Reduction


@dataclass(frozen=True)
class StoredSurfaces:
    """A finished surface-energy result of one material, reused instead of recomputed.

    Attributes
    ----------
    surfaces : SurfaceMaterialDocument
        The derived ``surface_materials`` document (Wulff facets, every termination's gamma).
    structure : Structure
        The relaxed bulk (its task document's final structure).
    energy : float
        Its total energy (eV).
    uuid : str
        uuid of the bulk relaxation job (the ``bulk_uuid`` of the surface documents).

    """

    surfaces: SurfaceMaterialDocument
    structure: Structure
    energy: float
    uuid: str


def same_facet(structure: Structure, first: Sequence[int], second: Sequence[int]) -> bool:
    """Whether two facets of ``structure`` are equivalent by its point group (pymatgen)."""
    from pymatgen.core.surface import get_symmetrically_equivalent_miller_indices

    images = get_symmetrically_equivalent_miller_indices(
        structure, tuple(int(i) for i in second), return_hkil=False
    )
    return tuple(int(i) for i in first) in {tuple(int(i) for i in m) for m in images}


def distinct_millers(structure: Structure, millers: Sequence[Sequence[int]]) -> list[list[int]]:
    """The requested facets with symmetry-equivalent repeats dropped (first one kept)."""
    kept: list[list[int]] = []
    for miller in millers:
        hkl = list(parse_miller(list(miller)))
        if not any(same_facet(structure, hkl, k) for k in kept):
            kept.append(hkl)
    return kept


def screening_id(electrolyte: str, metal: str, calculator: str, refine_calculator: str) -> str:
    """'<electrolyte>|<metal>|<calculator>[|<refine calculator>]'."""
    base = f"{electrolyte}|{metal}|{calculator}"
    return base if refine_calculator == calculator else f"{base}|{refine_calculator}"


def tier_settings(maker: InterfaceEnergeticsMaker) -> dict[str, Any]:
    """What a tier computes with: calculator, thicknesses, registries, gaps, limits, hash."""
    assert maker.interface_relax_maker is not None and maker.strained_bulk_relax_maker is not None
    relax_kwargs = getattr(maker.interface_relax_maker, "relax_kwargs", None) or {}
    return {
        "calculator": maker.calculator,
        **maker.model_options(),
        "relaxations": list(maker.relaxations),
        "relax_fmax": relax_kwargs.get("fmax"),
        "settings_hash": tier_hash(
            maker.model_options(),
            list(maker.relaxations),
            maker.interface_relax_maker,
            maker.strained_bulk_relax_maker,
        ),
    }


@dataclass
class ScreeningMaker(Maker):
    """Code-agnostic screening funnel of an electrolyte's reduction products against a metal.

    Parameters
    ----------
    name : str
        Flow name prefix.
    surface_maker : SurfaceEnergyMaker
        Surfaces of the metal and every product (and the pre-screen's bulks).
    prescreen_maker, refine_maker : InterfaceEnergeticsMaker
        Each tier's calculator (``calculator``), model options (thicknesses, registries, gaps,
        ``max_atoms``), relaxations and relax makers. Their matching limits are not used: the
        screen's own (``max_area``...) apply to both.
    refine_surface_maker : SurfaceEnergyMaker or None
        None: the refine tier reuses the pre-screen's bulks and surfaces (same calculator).
        Set when the refine calculator differs (e.g. VASP): the refine tier then relaxes the
        bulks and computes the two facets' surfaces with it, per refined candidate's materials.
    min_area_fraction, max_gamma_ratio, include_lowest, termination_tolerance
        Facet selection (:func:`interfacial.screening.rules.select_facets`).
    metal_millers, compound_millers : list of list of int or None
        Narrow the metal's / every product's facets to these; the surface flows then compute
        only these facets (no Wulff shape is needed to choose among them).
    cells_per_pair : int
        Matched cells kept per facet pair (best mismatch, then size).
    n_refine : int
        Candidates refined per product (by pre-screen W, Eq. 4); 0 refines none.
    max_area : float
        Largest area of one interface (A^2) in the matching.
    max_mismatch : float
        Largest vector mismatch (fraction).
    max_angle_mismatch : float
        Largest angle mismatch (degrees).

    """

    name: str = "screen"
    surface_maker: SurfaceEnergyMaker | None = None
    prescreen_maker: InterfaceEnergeticsMaker | None = None
    refine_maker: InterfaceEnergeticsMaker | None = None
    refine_surface_maker: SurfaceEnergyMaker | None = None
    min_area_fraction: float = DEFAULT_MIN_AREA_FRACTION
    max_gamma_ratio: float = DEFAULT_MAX_GAMMA_RATIO
    include_lowest: bool = True
    termination_tolerance: float = DEFAULT_TERMINATION_TOLERANCE
    metal_millers: list[list[int]] | None = None
    compound_millers: list[list[int]] | None = None
    cells_per_pair: int = 1
    n_refine: int = 2
    max_area: float = 150.0
    max_mismatch: float = 0.15
    max_angle_mismatch: float = 5.0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate every option (one line each); nothing is changed."""
        if self.surface_maker is None or self.prescreen_maker is None or self.refine_maker is None:
            raise InterfacialError(
                "ScreeningMaker needs surface_maker, prescreen_maker and refine_maker; "
                "interfacial.engines.screening_maker(settings, calculator) gives ready-made tiers"
            )
        for name, value, low, high in (
            ("min_area_fraction", self.min_area_fraction, 0.0, 1.0),
            ("max_gamma_ratio", self.max_gamma_ratio, 0.0, 100.0),
            ("termination_tolerance", self.termination_tolerance, 0.0, 10.0),
            ("max_area", self.max_area, 1.0, 10000.0),
            ("max_mismatch", self.max_mismatch, 1e-4, 0.5),
            ("max_angle_mismatch", self.max_angle_mismatch, 0.0, 30.0),
        ):
            number = value if isinstance(value, int | float) else math.nan
            if isinstance(value, bool) or not (math.isfinite(number) and low <= number <= high):
                raise InterfacialError(
                    f"{name} {value!r} is outside [{low:g}, {high:g}]; give a value in that range"
                )
        counts = (("cells_per_pair", self.cells_per_pair, 1), ("n_refine", self.n_refine, 0))
        for name, count, least in counts:
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise InterfacialError(f"{name} {count!r} must be an integer >= {least}")
        facets = (
            ("metal_millers", self.metal_millers),
            ("compound_millers", self.compound_millers),
        )
        for name, millers in facets:
            if millers is not None:
                if not millers:
                    raise InterfacialError(
                        f"{name} is empty: give at least one facet, or leave it out for the "
                        "selection rules"
                    )
                for miller in millers:
                    try:
                        parse_miller(miller)
                    except InterfacialError as exc:
                        raise InterfacialError(f"{name}: {exc}") from None

    def requested_facets(self, is_metal: bool, structure: Structure) -> list[list[int]] | None:
        """The facets the screen needs of a material: the requested ones, or None (all)."""
        wanted = self.metal_millers if is_metal else self.compound_millers
        return None if wanted is None else distinct_millers(structure, wanted)

    def surface_maker_of(self, is_metal: bool, structure: Structure) -> SurfaceEnergyMaker:
        """The surface maker of one material: narrowed to the requested facets, if any."""
        assert self.surface_maker is not None
        wanted = self.requested_facets(is_metal, structure)
        if wanted is None:
            return self.surface_maker
        return dataclasses.replace(self.surface_maker, millers=wanted)

    def selection(self) -> dict[str, Any]:
        """Facet-selection options of the candidates job."""
        return {
            "min_area_fraction": self.min_area_fraction,
            "max_gamma_ratio": self.max_gamma_ratio,
            "include_lowest": self.include_lowest,
            "termination_tolerance": self.termination_tolerance,
            "metal_millers": _millers(self.metal_millers),
            "compound_millers": _millers(self.compound_millers),
        }

    def match_options(self) -> dict[str, Any]:
        """Lattice-matching options, with the pre-screen tier's thicknesses (atom counts)."""
        assert self.prescreen_maker is not None
        return {
            "max_area": self.max_area,
            "max_mismatch": self.max_mismatch,
            "max_angle_mismatch": self.max_angle_mismatch,
            "metal_thickness": self.prescreen_maker.metal_thickness,
            "compound_thickness": self.prescreen_maker.compound_thickness,
        }

    def refine_match_options(self) -> dict[str, Any]:
        """Matching options of the refine tier (another calculator matches again)."""
        assert self.refine_maker is not None
        return {
            **self.match_options(),
            "metal_thickness": self.refine_maker.metal_thickness,
            "compound_thickness": self.refine_maker.compound_thickness,
        }

    @property
    def calculator(self) -> str:
        """Calculator of the surfaces and the pre-screen."""
        assert self.surface_maker is not None
        return self.surface_maker.calculator

    @property
    def refine_calculator(self) -> str:
        """Calculator of the refine tier."""
        assert self.refine_maker is not None
        return self.refine_maker.calculator

    def tier_settings(self) -> dict[str, dict[str, Any]]:
        """Each tier's settings, by tier name (stored in the ScreeningDocument)."""
        assert self.prescreen_maker is not None and self.refine_maker is not None
        return {
            PRESCREEN: tier_settings(self.prescreen_maker),
            REFINE: tier_settings(self.refine_maker),
        }

    def make(
        self,
        metal_bulk: Structure,
        products: dict[str, Structure],
        reduction: Reduction,
        reused: dict[str, StoredSurfaces] | None = None,
    ) -> Flow:
        """Build the screen's flow.

        Parameters
        ----------
        metal_bulk : Structure
            The metal (its label is ``reduction.metal``).
        products : dict
            Product label -> bulk structure, for every product of ``reduction``.
        reduction : Reduction
            The reduction (:func:`~interfacial.screening.reduction.reduce_electrolyte`).
        reused : dict, optional
            Material label -> stored surfaces: those materials get no surface flow.

        """
        assert self.surface_maker is not None
        assert self.prescreen_maker is not None and self.refine_maker is not None
        reused = reused or {}
        metal = reduction.metal
        labels = [p.label for p in reduction.products]
        missing = [label for label in labels if label not in products]
        if missing:
            raise InterfacialError(f"no structure given for product(s) {', '.join(missing)}")
        sid = screening_id(reduction.electrolyte, metal, self.calculator, self.refine_calculator)
        key = f"{reduction.electrolyte}|{metal}"
        run_keys = {
            "screening_id": sid,
            "electrolyte": reduction.electrolyte,
            "metal": metal,
            "calculator": self.calculator,
        }
        jobs: list[Any] = []
        materials: dict[str, dict[str, Any]] = {}
        for label, structure in ((metal, metal_bulk), *((p, products[p]) for p in labels)):
            stored = reused.get(label)
            if stored is not None:
                materials[label] = {
                    "structure": stored.structure,
                    "energy": float(stored.energy),
                    "uuid": stored.uuid,
                    "surfaces": stored.surfaces.model_dump(),
                    "reused": True,
                }
                continue
            flow = self.surface_maker_of(label == metal, structure).make(structure, label)
            bulk = bulk_relaxation(flow)
            materials[label] = {
                "structure": bulk.output.structure,
                "energy": bulk.output.output.energy,
                "uuid": bulk.uuid,
                "surfaces": flow.output,
                "reused": False,
            }
            jobs.append(flow)
        candidates = screen_candidates(
            materials,
            metal,
            labels,
            self.selection(),
            self.match_options(),
            self.prescreen_maker.max_atoms,
            self.cells_per_pair,
            sid,
        )
        candidates.name = f"screen candidates {key}"
        tag(candidates, Role.SCREEN_CANDIDATES, **run_keys)
        tiers: dict[str, Job] = {}
        for tier, maker, previous in (
            (PRESCREEN, self.prescreen_maker, None),
            (REFINE, self.refine_maker, PRESCREEN),
        ):
            fan_out = screen_tier(
                candidates.output,
                materials,
                tier,
                _spec(maker),
                maker.interface_relax_maker,
                maker.strained_bulk_relax_maker,
                tiers[previous].output if previous else None,
                self.n_refine,
                self.refine_surface_maker if tier == REFINE else None,
                self.refine_match_options() if tier == REFINE else None,
            )
            fan_out.name = f"screen {tier} {key}"
            # The fan-out looks up stored results of identical calculations in its JobStore.
            fan_out.config.expose_store = True
            if previous:
                # Reads whatever the pre-screen finished: a failed candidate is an absence.
                fan_out.config.on_missing_references = OnMissing.NONE
            tag(fan_out, Role.SCREEN_TIER, **run_keys, tier=tier, tier_calculator=maker.calculator)
            tiers[tier] = fan_out
        summary = screening_summary(
            candidates.output,
            tiers[PRESCREEN].output,
            tiers[REFINE].output,
            {k: {**v, "surfaces": None} for k, v in materials.items()},
            dataclasses.asdict(reduction),
            {
                "screening_id": sid,
                "electrolyte": reduction.electrolyte,
                "calculator": self.calculator,
                "refine_calculator": self.refine_calculator,
                "n_refine": self.n_refine,
                "tier_settings": self.tier_settings(),
            },
        )
        summary.name = f"screening summary {key}"
        summary.config.on_missing_references = OnMissing.NONE
        tag(summary, Role.SCREENING, **run_keys, refine_calculator=self.refine_calculator)
        return Flow(
            [*jobs, candidates, tiers[PRESCREEN], tiers[REFINE], summary],
            output=summary.output,
            name=f"{self.name} {key}",
        )


def _millers(millers: list[list[int]] | None) -> list[list[int]] | None:
    return None if millers is None else [list(parse_miller(m)) for m in millers]


def _spec(maker: InterfaceEnergeticsMaker) -> dict[str, Any]:
    """What a tier fan-out needs of a tier maker besides its relax makers."""
    return {
        "calculator": maker.calculator,
        "model_options": maker.model_options(),
        "relaxations": list(maker.relaxations),
        "adhesion_threshold": maker.adhesion_threshold,
        "max_atoms": maker.max_atoms,
    }


__all__ = [
    "ScreeningMaker",
    "StoredSurfaces",
    "distinct_millers",
    "same_facet",
    "screening_id",
    "tier_settings",
]
