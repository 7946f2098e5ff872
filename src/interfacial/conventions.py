"""Conventions every layer shares: the species order, formulas, system names, run fingerprints.

Each is decided here once, so that a potential, its LAMMPS data file, its dumps and the
documents built from them agree without comparing notes:

- :func:`species_order`: the order of elements (MTP type k, LAMMPS type k + 1).
- :func:`formula`: the formula stored in documents.
- :func:`system_name`: the name of a system whose cell has ion vacancies ("-vac").
- :func:`structure_key` and :func:`plan_fingerprint`: what identifies a planned MD run (its run
  directory and the fingerprint of its record are the same sha256).

Code-agnostic: no engine, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "VACANCY_SUFFIX",
    "formula",
    "plan_fingerprint",
    "species_order",
    "structure_key",
    "system_name",
]

#: Appended to the system name of a cell with ion vacancies ("Li2S" -> "Li2S-vac").
VACANCY_SUFFIX = "-vac"


def species_order(symbols: Iterable[str]) -> list[str]:
    """The project's one explicit species order: by Pauling electronegativity, then symbol.

    It matches the atom-type order pymatgen's LAMMPS writer uses, so the MTP type k, the LAMMPS
    type k + 1 and ``species_order[k]`` all name the same element. The symbol breaks ties
    (elements without an electronegativity, or equal ones), so the order never depends on the
    order of ``symbols``.

    Parameters
    ----------
    symbols : iterable of str
        Chemical symbols, repeated or not.

    Returns
    -------
    list of str
        Each element once.

    """
    from pymatgen.core import Element

    return sorted(set(symbols), key=lambda s: (Element(s).X, s))


def formula(symbols: Iterable[str]) -> str:
    """Formula of a cell from the symbols of its atoms, elements in :func:`species_order`.

    Every count is written, ones included: ``["S", "Li", "Li"] -> "Li2S1"`` (pymatgen's
    ``Composition.formula`` without spaces).
    """
    counts = Counter(str(s) for s in symbols)
    return "".join(f"{el}{counts[el]}" for el in species_order(counts))


def system_name(label: str, vacancy_element: str | None) -> str:
    """Name of a system: ``label``, with :data:`VACANCY_SUFFIX` when ions are removed.

    Potentials fitted on cells with vacancies and the transport runs made with them are filed
    under this name (``store:Li2S-vac``).
    """
    return f"{label}{VACANCY_SUFFIX}" if vacancy_element else label


def structure_key(structure: Structure) -> dict[str, Any]:
    """The parts of a structure that fix an MD run: lattice (A), species, fractional positions."""
    import numpy as np

    return {
        "lattice": structure.lattice.matrix.tolist(),
        "species": [site.specie.symbol for site in structure],
        "frac_coords": np.asarray(structure.frac_coords).tolist(),
    }


def plan_fingerprint(plan: Mapping[str, Any]) -> str:
    """sha256 (hex) of a plan: its JSON with sorted keys and no whitespace.

    Parameters
    ----------
    plan : Mapping
        JSON-serialisable description of everything that determines a run.

    """
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
