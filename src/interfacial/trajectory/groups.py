"""Atom groups of an MSD: the default groups and the command line's group mini-language.

Indices are 0-based frame positions (LAMMPS: atoms sorted by id).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from interfacial.errors import InterfacialError

__all__ = ["default_groups", "parse_group"]


def default_groups(
    symbols: Sequence[str],
    regions: Sequence[str] | None = None,
    mobile: str = "Li",
) -> dict[str, list[int]]:
    """Default MSD groups: one per element, and the mobile ions of each region.

    Parameters
    ----------
    symbols : sequence of str
        Element of each atom, in frame order (LAMMPS: sorted ids; a data file written from an
        interface model keeps the model's site order).
    regions : sequence of str, optional
        Region of each atom, the site property ``region`` of our interface models ("metal" or
        "compound").
    mobile : str
        The diffusing element whose atoms are split by region.

    Returns
    -------
    dict[str, list[int]]
        ``{"Li": [...], "S": [...], ..., "Li metal": [...], "Li compound": [...]}``: every
        element in order of first appearance, then ``f"{mobile} {region}"`` for each region
        holding mobile atoms. Indices are 0-based frame positions.

    Raises
    ------
    InterfacialError
        Regions of the wrong length, or regions given while ``mobile`` is absent.

    """
    syms = [str(s) for s in symbols]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(syms):
        groups.setdefault(s, []).append(i)
    if regions is None:
        return groups
    regs = [str(r) for r in regions]
    if len(regs) != len(syms):
        raise InterfacialError(
            f"{len(regs)} region labels for {len(syms)} atoms; give one per atom in frame order"
        )
    if mobile not in groups:
        raise InterfacialError(
            f"mobile element {mobile!r} is not in the trajectory (elements {sorted(groups)}); "
            "pass the diffusing element"
        )
    for i in groups[mobile]:
        groups.setdefault(f"{mobile} {regs[i]}", []).append(i)
    return groups


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_group(
    spec: str,
    symbols: Sequence[str],
    regions: Sequence[str] | None = None,
    *,
    ids: Sequence[int] | None = None,
) -> tuple[str, list[int]]:
    """Parse a command-line atom group ``NAME=SELECTION``.

    Grammar::

        spec      := NAME "=" term ("&" term)*        terms are intersected
        term      := "region:" REGION                 atoms whose region is REGION
                   | item ("," item)*                 union of the items
        item      := ELEMENT                          e.g. Li
                   | ID | ID "-" ID                   1-based atom ids, ranges inclusive

    Examples: ``Li=Li``, ``LiS=Li,S``, ``Li_metal=region:metal&Li``, ``tracers=1-10,15``.

    Parameters
    ----------
    spec : str
        The group specification.
    symbols : sequence of str
        Element of each atom in frame order.
    regions : sequence of str, optional
        Region of each atom (needed for ``region:`` terms).
    ids : sequence of int, optional
        Atom id of each frame position (``Frame.ids``); default 1, 2, ..., n_atoms.

    Returns
    -------
    tuple[str, list[int]]
        Group name and sorted 0-based frame positions.

    Raises
    ------
    InterfacialError
        Bad syntax, an unknown element, region or id, or an empty group.

    """
    from pymatgen.core.periodic_table import Element

    name, sep, selection = spec.partition("=")
    name = name.strip()
    selection = selection.strip()
    if not sep or not name or not selection:
        raise InterfacialError(
            f"atom group {spec!r}: write NAME=SELECTION, e.g. 'Li=Li', 'Li_metal=region:metal&Li' "
            "or 'tracers=1-10,15'"
        )
    syms = [str(s) for s in symbols]
    n = len(syms)
    atom_ids = list(range(1, n + 1)) if ids is None else [int(i) for i in ids]
    if len(atom_ids) != n:
        raise InterfacialError(f"{len(atom_ids)} atom ids for {n} atoms")
    position_of = {i: k for k, i in enumerate(atom_ids)}
    present = sorted(set(syms))

    selected = set(range(n))
    for term in (t.strip() for t in selection.split("&")):
        if not term:
            raise InterfacialError(f"atom group {spec!r}: empty term around '&'")
        if term.lower().startswith("region:"):
            region = term.split(":", 1)[1].strip()
            if regions is None:
                raise InterfacialError(
                    f"atom group {spec!r}: 'region:' needs the region of each atom (an interface "
                    "model with the site property 'region')"
                )
            regs = [str(r) for r in regions]
            if region not in regs:
                raise InterfacialError(
                    f"atom group {spec!r}: unknown region {region!r}; have {sorted(set(regs))}"
                )
            selected &= {k for k, r in enumerate(regs) if r == region}
            continue
        members: set[int] = set()
        for item in (i.strip() for i in term.split(",")):
            match = _RANGE.match(item)
            if match:
                lo = int(match.group(1))
                hi = int(match.group(2) or lo)
                if hi < lo:
                    raise InterfacialError(f"atom group {spec!r}: reversed id range {item!r}")
                missing = [i for i in range(lo, hi + 1) if i not in position_of]
                if missing:
                    raise InterfacialError(
                        f"atom group {spec!r}: atom id {missing[0]} does not exist (ids run "
                        f"{min(atom_ids)}..{max(atom_ids)}, 1-based as in LAMMPS)"
                    )
                members |= {position_of[i] for i in range(lo, hi + 1)}
                continue
            if not Element.is_valid_symbol(item):
                raise InterfacialError(
                    f"atom group {spec!r}: {item!r} is neither an element, an id range nor "
                    "region:NAME"
                )
            if item not in present:
                raise InterfacialError(
                    f"atom group {spec!r}: no {item} atoms in the trajectory (elements {present})"
                )
            members |= {k for k, s in enumerate(syms) if s == item}
        selected &= members
    if not selected:
        raise InterfacialError(f"atom group {spec!r} selects no atoms")
    return name, sorted(selected)
