"""Writing a fitted motep potential to an ``.mtp`` file exactly, and checking what was written.

Why not motep's ``write_mtp(..., legacy=True)`` as it is: it prints every coefficient with
``{:21.15e}``, 16 significant digits, one short of what an IEEE double needs to read back to
the same number. Each coefficient is then off by up to 5e-16 of itself, and a fit whose
coefficients are large and cancel (few or nearly alike configurations make the linear solves
ill-conditioned) gives energies that differ between the fit and its file: measured 1e-13 eV
for well-conditioned fits and 1.2e-10 eV with coefficients of 9e4, growing with the
coefficients without bound. :func:`format_mtp` writes the same layout, key by key and line by
line, with 17 significant digits (``{:.16e}``), so the file reads back to the very same
coefficients. Every reader accepts the longer numbers: motep parses them with ``float`` and
numpy, MLIP's ``mlp`` and the LAMMPS ``pair_style mlip`` interface with C++ stream extraction
(``ifs >> value``), none with a fixed width.
"""

from __future__ import annotations

import itertools
from numbers import Integral, Real
from typing import Any

import numpy as np

FULL_DIGITS = 16
"""Decimals of the mantissa that make a double read back exactly (17 significant digits)."""
MOTEP_DIGITS = 15
"""Decimals motep 0.2.0's writer prints (16 significant digits)."""

# The layout of motep's legacy writer (the one mlp reads): header keys, then the radial basis
# block, then these.
_HEADER_KEYS = ("version", "potential_name", "scaling", "species_count", "potential_tag")
_TRAILING_KEYS = (
    "alpha_moments_count",
    "alpha_index_basic_count",
    "alpha_index_basic",
    "alpha_index_times_count",
    "alpha_index_times",
    "alpha_scalar_moments",
    "alpha_moment_mapping",
    "species_coeffs",
    "moment_coeffs",
)
#: Fields whose values a fit produces: compared number by number after a write.
COEFFICIENTS = ("scaling", "species_coeffs", "moment_coeffs", "radial_coeffs")
#: Fields that fix the basis: compared exactly after a write.
STRUCTURE = (
    "species_count",
    "radial_funcs_count",
    "alpha_moments_count",
    "alpha_index_basic",
    "alpha_index_times",
    "alpha_scalar_moments",
    "alpha_moment_mapping",
)


def _value(value: Any, digits: int) -> str:
    if isinstance(value, Integral):
        return f"{int(value):d}"
    if isinstance(value, Real):
        return f"{float(value):.{digits}e}"
    if isinstance(value, np.ndarray):
        return _listing(value.tolist(), digits)
    if isinstance(value, list):
        return _listing(value, digits)
    return str(value).strip()


def _listing(values: list[Any], digits: int) -> str:
    if not values:
        return "{}"
    return "{" + ", ".join(_value(v, digits) for v in values) + "}"


def format_mtp(data: Any, digits: int = FULL_DIGITS) -> str:
    """The ``.mtp`` text of a motep ``MTPData`` in MLIP's (legacy) layout.

    Parameters
    ----------
    data
        A motep ``MTPData`` (non-magnetic).
    digits
        Decimals of each coefficient's mantissa: :data:`FULL_DIGITS` reads back exactly;
        :data:`MOTEP_DIGITS` gives motep's own ``write_mtp(..., legacy=True)`` text.

    Returns
    -------
    str
        The file's text (min_dist and max_dist in A, coefficients dimensionless or eV).

    """
    lines = ["MTP"]
    for key in _HEADER_KEYS:
        value = getattr(data, key)
        if value is not None:
            lines.append(f"{key} = {_value(value, digits)}")
    basis = data.radial_basis
    lines.append(f"radial_basis_type = {basis.type}")
    lines.append(f"\tmin_dist = {_value(basis.min, digits)}")
    lines.append(f"\tmax_dist = {_value(basis.max, digits)}")
    lines.append(f"\tradial_basis_size = {_value(basis.size, digits)}")
    lines.append(f"\tradial_funcs_count = {_value(data.radial_funcs_count, digits)}")
    if data.radial_coeffs is not None:
        lines.append("\tradial_coeffs")
        for k0, k1 in itertools.product(range(data.species_count), repeat=2):
            lines.append(f"\t\t{k0}-{k1}")
            lines.extend(
                f"\t\t\t{_listing(np.asarray(data.radial_coeffs[k0, k1][k]).tolist(), digits)}"
                for k in range(data.radial_funcs_count)
            )
    for key in _TRAILING_KEYS:
        value = getattr(data, key)
        if value is not None:
            lines.append(f"{key} = {_value(value, digits)}")
    return "\n".join(lines) + "\n"


def first_difference(fitted: Any, written: Any) -> str | None:
    """What differs between a fitted ``MTPData`` and the same potential read from its file.

    Parameters
    ----------
    fitted, written
        motep ``MTPData`` objects: the fit in memory and the file read back.

    Returns
    -------
    str or None
        The first field that differs, with where and by how much (e.g. ``"moment_coeffs
        has 15 values, the fit 16"``); None when every coefficient and basis index is equal.

    """
    for key in ("radial_basis.min", "radial_basis.max", "radial_basis.size"):
        a = getattr(fitted.radial_basis, key.split(".")[1])
        b = getattr(written.radial_basis, key.split(".")[1])
        if a != b:
            return f"{key} is {b} in the file, {a} in the fit"
    for key in (*STRUCTURE, *COEFFICIENTS):
        a = np.asarray(getattr(fitted, key), dtype=float)
        b = np.asarray(getattr(written, key), dtype=float)
        if a.shape != b.shape:
            return f"{key} has {b.size} values in the file, {a.size} in the fit"
        unequal = np.flatnonzero(a.ravel() != b.ravel())
        if unequal.size:
            k = int(unequal[0])
            index = np.unravel_index(k, a.shape) if a.ndim else ()
            where = f"{key}[{', '.join(str(int(i)) for i in index)}]" if index else key
            return (
                f"{where} is {b.ravel()[k]!r} in the file, {a.ravel()[k]!r} in the fit "
                f"({unequal.size} of {a.size} values differ)"
            )
    return None
