"""LAMMPS logs: their tail for error messages, the version line and the thermo tables."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from interfacial.lammps.inputs import THERMO_COLUMNS

LOG_TAIL_LINES = 25
EV_PER_A3_IN_BAR = 1.602176634e6
"""1 eV/A^3 in bar (LAMMPS metal units report pressure in bar)."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def lammps_version_from_log(text: str) -> str:
    """The version in a LAMMPS log's first line (``LAMMPS (22 Jul 2025 - Update 4)``)."""
    match = re.search(r"^LAMMPS \((.+?)\)", text, flags=re.MULTILINE)
    return match.group(1) if match else "unknown"


def parse_thermo(text: str) -> np.ndarray:
    """Thermo rows (``step temp pe ke etotal press``) of a LAMMPS log.

    Returns
    -------
    numpy.ndarray
        One row per thermo line of every run in the log, columns as in
        :data:`interfacial.lammps.inputs.THERMO_COLUMNS` (step, K, eV, eV, eV, bar); shape
        (0, 6) if there is none.

    """
    header = re.compile(r"^\s*Step\s+Temp\s+PotEng\s+KinEng\s+TotEng\s+Press\s*$")
    rows: list[list[float]] = []
    in_table = False
    for line in text.splitlines():
        if header.match(line):
            in_table = True
            continue
        if in_table:
            fields = line.split()
            try:
                values = [float(x) for x in fields]
            except ValueError:
                in_table = False  # "Loop time of ..." or a warning ends the table
                continue
            if len(values) == len(THERMO_COLUMNS):
                rows.append(values)
            else:
                in_table = False
    return np.array(rows, dtype=float).reshape(-1, len(THERMO_COLUMNS))
