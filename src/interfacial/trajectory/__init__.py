"""Streaming MD trajectory readers: frames on disk, their temperature, and atom groups.

Readers yield one :class:`Frame` at a time, so memory does not depend on the length of the run:
LAMMPS text dumps (:mod:`~interfacial.trajectory.lammps`), VASP XDATCAR
(:mod:`~interfacial.trajectory.xdatcar`) and vasprun.xml MD runs
(:mod:`~interfacial.trajectory.vasprun`), ASE ``.traj``, extended XYZ and any format ASE reads
(:mod:`~interfacial.trajectory.ase_files`), each also gzip, bzip2 or xz compressed
(:mod:`~interfacial.trajectory.compression`). :mod:`~interfacial.trajectory.frames` reads several
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
from interfacial.trajectory.vasprun import TruncatedTrajectoryWarning

__all__ = [
    "FORMATS",
    "Frame",
    "FrameReader",
    "TruncatedTrajectoryWarning",
    "count_frames",
    "default_groups",
    "guess_format",
    "iter_frames",
    "measured_temperature",
    "parse_group",
    "recorded_md_plan",
]
