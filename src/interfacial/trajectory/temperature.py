"""Temperature a trajectory itself records, to check the temperature a user states.

ASE files with momenta give their kinetic temperature; dumps of our own segmented MD runner
give the thermo temperatures of their run record (:mod:`interfacial.trajectory.run_record`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interfacial.trajectory.frames import PathLike, resolve_format, trajectory_paths
from interfacial.trajectory.run_record import recorded_run_temperature

__all__ = ["measured_temperature"]

#: Boltzmann constant in eV/K (CODATA 2018, exact in the SI).
_BOLTZMANN_EV_PER_K = 8.617333262e-5


def measured_temperature(
    path: PathLike | Sequence[PathLike], *, fmt: str | None = None
) -> float | None:
    """Mean kinetic temperature (K) recorded with a trajectory, or None when none is recorded.

    - ASE files (.traj, extended XYZ) that store momenta: the mean over frames of
      ``2 E_kin / ((3 N - 3) k_B)`` (E_kin in eV from ASE; 3 degrees of freedom of the centre
      of mass removed, as LAMMPS ``compute temp`` does). Reads the files once more.
    - LAMMPS dumps written by our segmented MD runner (:class:`interfacial.lammps.segments.
      SegmentedMD`): the run directory holding a dump also holds its run record
      (``md_state.json``), whose completed segments carry their stage, step count and mean
      thermo temperature. The result is the step-weighted mean
      ``sum(steps * T) / sum(steps)`` over the production segments (those that wrote a dump)
      whose dumps are among ``path``; the same number the runner reports as
      ``mean_production_temperature`` when all its dumps are given. Dumps no run record lists
      contribute nothing; None when none is listed.
    - Other LAMMPS dumps, XDATCARs, vasprun.xml, other ASE formats and a mix of formats give
      None: they hold no velocities in units this reader can assume.

    Parameters
    ----------
    path : path or sequence of paths
        The trajectory file(s), as for :func:`~interfacial.trajectory.frames.iter_frames`.
    fmt : str, optional
        Format, guessed from each file name when omitted.

    Returns
    -------
    float or None
        Temperature (K).

    Raises
    ------
    InterfacialError
        Missing file, unknown format, an unreadable ASE file or an unreadable run record.

    """
    paths = trajectory_paths(path)
    kinds = {resolve_format(p, fmt) for p in paths}
    if kinds <= {"lammps", "lammps-binary"}:
        return recorded_run_temperature(paths)
    if not kinds <= {"traj", "extxyz"}:
        return None
    from interfacial.trajectory.ase_files import iter_atoms

    temperatures: list[float] = []
    for p in paths:
        frames = iter_atoms(p, resolve_format(p, fmt))  # InterfacialError for a bad file
        try:
            for atoms in frames:
                if "momenta" not in atoms.arrays or len(atoms) < 2:
                    return None
                dof = 3 * len(atoms) - 3
                kinetic = float(atoms.get_kinetic_energy())  # eV
                temperatures.append(2.0 * kinetic / (dof * _BOLTZMANN_EV_PER_K))
        finally:
            frames.close()
    return float(np.mean(temperatures)) if temperatures else None
