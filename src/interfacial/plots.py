"""Figures people would rather look at than tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on clusters or in CI
    import matplotlib.pyplot as plt

    return plt


def wulff_figure(material_doc: dict[str, Any], path: Path) -> Path:
    """Write the Wulff shape of a material document (SurfaceMaterialDocument) to a PNG."""
    from pymatgen.analysis.wulff import WulffShape
    from pymatgen.core import Lattice

    plt = _pyplot()
    facets = material_doc["facets"]
    shape = WulffShape(
        Lattice(material_doc["lattice"]),
        [tuple(f["miller_index"]) for f in facets],
        [f["surface_energy"] for f in facets],
    )
    ax = shape.get_plot(bar_on=False, legend_on=True, aspect_ratio=(7, 7))
    fig = ax.get_figure()
    listing = ", ".join(
        f"({''.join(map(str, f['miller_index']))}) {f['surface_energy']:.3f} J/m$^2$"
        f" [{100 * f['area_fraction']:.0f}%]"
        for f in sorted(facets, key=lambda f: f["surface_energy"])
    )
    fig.suptitle(
        f"{material_doc['material']} ({material_doc['calculator']}): weighted gamma "
        f"{material_doc['weighted_surface_energy']:.3f} J/m$^2$\n{listing}",
        fontsize=9,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
