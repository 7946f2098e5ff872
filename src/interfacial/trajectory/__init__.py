"""Streaming MD trajectory readers: frames on disk, their temperature, and atom groups.

Readers yield one :class:`Frame` at a time, so memory does not depend on the length of the run:
LAMMPS text dumps (:mod:`~interfacial.trajectory.lammps`), ASE ``.traj`` files and extended XYZ
(:mod:`~interfacial.trajectory.ase_files`) and VASP XDATCAR
(:mod:`~interfacial.trajectory.xdatcar`). :mod:`~interfacial.trajectory.frames` reads several
files (segments of one run) as one trajectory and checks every frame;
:mod:`~interfacial.trajectory.temperature` gives the temperature a trajectory records;
:mod:`~interfacial.trajectory.run_record` what our own MD runner recorded beside its dumps;
:mod:`~interfacial.trajectory.groups` builds the MSD's atom groups.

The diffusion pipeline that consumes the frames (MSD, fits, documents) is
:mod:`interfacial.diffusion`.
"""

from interfacial.trajectory.frames import (
    FORMATS,
    Frame,
    FrameReader,
    count_frames,
    guess_format,
    iter_frames,
)
from interfacial.trajectory.groups import default_groups, parse_group
from interfacial.trajectory.run_record import recorded_md_plan
from interfacial.trajectory.temperature import measured_temperature

__all__ = [
    "FORMATS",
    "Frame",
    "FrameReader",
    "count_frames",
    "default_groups",
    "guess_format",
    "iter_frames",
    "measured_temperature",
    "parse_group",
    "recorded_md_plan",
]
