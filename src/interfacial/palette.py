"""Colours shared by every figure, so an ion's origin looks the same everywhere.

The study asks whether Li+ from the metal and Li+ from the compound (Li2S, Li3P, LiCl) cross
the interface. Interface models carry the site property ``region`` ("metal" or "compound") and
the MSD groups by origin are named ``"<element> <region>"`` ("Li metal", "Li compound", see
:func:`interfacial.trajectory.default_groups`). Model pictures, MSD curves and D* bars all draw
those two populations in :data:`ORIGIN_COLOURS`; other groups take :data:`OTHER_COLOURS` in turn,
a cycle that leaves out the two origin hues so that no other group can be mistaken for one.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ORIGIN_COLOURS",
    "OTHER_COLOURS",
    "group_colours",
    "origin_group",
    "origin_of_group",
    "site_colours",
]

#: Ions by origin: deep blue for the metal, dark orange for the compound (a pair that stays
#: distinct for the common colour-vision deficiencies and in greyscale, and differs from every
#: Jmol element colour that the model pictures use for the other atoms).
ORIGIN_COLOURS: dict[str, str] = {"metal": "#1b4f9c", "compound": "#d95f02"}

#: Colours of the other groups in turn: matplotlib's tab10 without its blue and orange, which
#: are too close to the origin colours.
OTHER_COLOURS: tuple[str, ...] = (
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def origin_group(element: str, region: str) -> str:
    """Name of the group of ``element`` ions from ``region`` ("Li", "metal" -> "Li metal")."""
    return f"{element} {region}"


def origin_of_group(group: str) -> str | None:
    """The origin ("metal" or "compound") of a group named as by :func:`origin_group`, or None.

    Examples: "Li metal" -> "metal", "Na compound" -> "compound", "Li" -> None, "top" -> None.
    """
    element, _, region = group.rpartition(" ")
    return region if element and region in ORIGIN_COLOURS else None


def group_colours(groups: Iterable[str]) -> dict[str, str]:
    """A colour per group: the origin colour for ions by origin, the others in turn.

    Parameters
    ----------
    groups : iterable of str
        Group names in the order they are drawn (repeats are ignored).

    Returns
    -------
    dict[str, str]
        Hex colour of each group; the same group list always gives the same colours.

    """
    colours: dict[str, str] = {}
    others = 0
    for group in groups:
        if group in colours:
            continue
        origin = origin_of_group(group)
        if origin is not None:
            colours[group] = ORIGIN_COLOURS[origin]
        else:
            colours[group] = OTHER_COLOURS[others % len(OTHER_COLOURS)]
            others += 1
    return colours


def site_colours(
    symbols: Iterable[str], regions: Iterable[str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Colour of each site of a model picture, and the legend (label -> colour).

    Atoms of the metal's element (the elements found in the "metal" region) are coloured by
    origin: ``ORIGIN_COLOURS[region]``, labelled like their MSD group ("Li metal", "Li
    compound"); every other atom keeps its Jmol element colour (ASE's default), labelled by its
    element. Without regions every atom takes its element colour.

    Parameters
    ----------
    symbols : iterable of str
        Element of each site.
    regions : iterable of str, optional
        Site property ``region`` of an interface model ("metal" or "compound").

    Returns
    -------
    colours : list of str
        Hex colour of each site.
    legend : dict[str, str]
        Label -> colour: the origin groups first (metal, then compound), then the elements in
        order of first appearance.

    """
    from ase.data import atomic_numbers
    from ase.data.colors import jmol_colors
    from matplotlib.colors import to_hex

    syms = [str(s) for s in symbols]
    regs = [str(r) for r in regions] if regions is not None else [""] * len(syms)
    metal_elements = {s for s, r in zip(syms, regs, strict=True) if r == "metal"}
    colours: list[str] = []
    origin_legend: dict[str, str] = {}
    element_legend: dict[str, str] = {}
    for sym, region in zip(syms, regs, strict=True):
        if sym in metal_elements and region in ORIGIN_COLOURS:
            colour = ORIGIN_COLOURS[region]
            origin_legend.setdefault(origin_group(sym, region), colour)
        else:
            colour = to_hex(jmol_colors[atomic_numbers[sym]])
            element_legend.setdefault(sym, colour)
        colours.append(colour)
    ordered = dict(sorted(origin_legend.items(), key=lambda kv: origin_of_group(kv[0]) != "metal"))
    return colours, {**ordered, **element_legend}
