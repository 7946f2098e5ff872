"""Force-field defaults of the code-agnostic flows."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Maker

from interfacial.flows.surface import SurfaceEnergyMaker
from interfacial.forcefields.makers import CHGNetRelaxMaker


@dataclass
class ForceFieldSurfaceEnergyMaker(SurfaceEnergyMaker):
    """Surface energies with CHGNet (embedded default): bulk cell relaxed, slabs at fixed cell."""

    name: str = "surface energies"
    calculator: str = "CHGNet"
    bulk_relax_maker: Maker | None = field(
        default_factory=lambda: CHGNetRelaxMaker(name="CHGNet bulk relax", relax_cell=True)
    )
    slab_relax_maker: Maker | None = field(
        default_factory=lambda: CHGNetRelaxMaker(name="CHGNet slab relax", relax_cell=False)
    )
