"""Force-field defaults of the code-agnostic flows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Maker

from interfacial.flows.interface import (
    FREE_C_MASK,
    NORMAL_ONLY_MASK,
    InterfaceEnergeticsMaker,
)
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


def normal_relax_maker(
    name: str, mask: list[int] = NORMAL_ONLY_MASK, **kwargs: Any
) -> CHGNetRelaxMaker:
    """CHGNet relaxation of the positions and the cell components of ``mask`` (a, b fixed)."""
    relax_kwargs = {"fmax": 0.02, **kwargs.pop("relax_kwargs", {})}
    relax_kwargs["filter_kwargs"] = {"mask": list(mask)}
    return CHGNetRelaxMaker(name=name, relax_cell=True, relax_kwargs=relax_kwargs, **kwargs)


@dataclass
class ForceFieldInterfaceEnergeticsMaker(InterfaceEnergeticsMaker):
    """Interface energetics with CHGNet (embedded default)."""

    name: str = "interface energetics"
    calculator: str = "CHGNet"
    surface_maker: SurfaceEnergyMaker | None = field(default_factory=ForceFieldSurfaceEnergyMaker)
    interface_relax_maker: Maker | None = field(
        default_factory=lambda: normal_relax_maker("CHGNet interface relax")
    )
    strained_bulk_relax_maker: Maker | None = field(
        default_factory=lambda: normal_relax_maker("CHGNet strained bulk relax", FREE_C_MASK)
    )
