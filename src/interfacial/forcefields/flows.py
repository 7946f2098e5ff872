"""Force-field subclasses of the code-agnostic flows; defaults: CHGNet, the embedded engine.

The makers a :class:`~interfacial.forcefields.engine.ForceFieldEngine` returns are these classes
with its nested makers; built directly, they use CHGNet (:mod:`interfacial.forcefields.chgnet`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jobflow import Maker

from interfacial.flows.interface import (
    FREE_C_MASK,
    NORMAL_ONLY_MASK,
    InterfaceEnergeticsMaker,
)
from interfacial.flows.potential import LearnPotentialMaker
from interfacial.flows.surface import SurfaceEnergyMaker

if TYPE_CHECKING:
    from interfacial.forcefields.engine import ForceFieldEngine


def _default_engine() -> ForceFieldEngine:
    # Imported when a default is built: the engine module imports this one.
    from interfacial.forcefields.chgnet import ENGINE

    return ENGINE


@dataclass
class ForceFieldSurfaceEnergyMaker(SurfaceEnergyMaker):
    """Surface energies with a force field: bulk cell relaxed, slabs at fixed cell."""

    name: str = "surface energies"
    calculator: str = "CHGNet"
    bulk_relax_maker: Maker | None = field(
        default_factory=lambda: _default_engine().relax_maker("bulk relax", relax_cell=True)
    )
    slab_relax_maker: Maker | None = field(
        default_factory=lambda: _default_engine().relax_maker("slab relax", relax_cell=False)
    )


@dataclass
class ForceFieldInterfaceEnergeticsMaker(InterfaceEnergeticsMaker):
    """Interface energetics with a force field: models relaxed along the normal only."""

    name: str = "interface energetics"
    calculator: str = "CHGNet"
    surface_maker: SurfaceEnergyMaker | None = field(default_factory=ForceFieldSurfaceEnergyMaker)
    interface_relax_maker: Maker | None = field(
        default_factory=lambda: _default_engine().relax_maker(
            "interface relax", mask=NORMAL_ONLY_MASK
        )
    )
    strained_bulk_relax_maker: Maker | None = field(
        default_factory=lambda: _default_engine().relax_maker(
            "strained bulk relax", mask=FREE_C_MASK
        )
    )


def _reference_md() -> Maker:
    from interfacial.forcefields.md import ForceFieldReferenceMDMaker

    return ForceFieldReferenceMDMaker()


def _motep_fit() -> Maker:
    from interfacial.flows.mtp import MotepFitMaker

    return MotepFitMaker()


@dataclass
class ForceFieldLearnPotentialMaker(LearnPotentialMaker):
    """Embedded defaults: reference MD and labels with a force field in this process, motep fits."""

    reference_md_maker: Maker | None = field(default_factory=_reference_md)
    fit_maker: Maker | None = field(default_factory=_motep_fit)
    label_maker: Maker | None = field(default_factory=lambda: _default_engine().static_maker())
