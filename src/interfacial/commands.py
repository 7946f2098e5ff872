"""Command lines of the external programs interfacial starts itself (``mlp``, ``lmp``, MPI).

One place for what both engines need: environment variables expanded where the job runs (so a
submitted job can carry ``${INTERFACIAL_LAMMPS_CMD}`` and use each worker's own executable), the
executable looked up before any work, and a run with a time limit whose expiry is a clear error.
VASP is started by atomate2/custodian, not here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from interfacial.errors import InterfacialError


def expand_command(command: str, what: str) -> list[str]:
    """Split a command line after expanding environment variables (``${INTERFACIAL_...}``).

    Raises
    ------
    InterfacialError
        If a variable is not set.

    """
    expanded = os.path.expandvars(command)
    unset = re.findall(r"\$\{?(\w+)\}?", expanded)
    if unset:
        raise InterfacialError(
            f"{what} {command!r} uses the unset environment variable(s) {', '.join(unset)}: "
            "set them or give the command explicitly"
        )
    return shlex.split(expanded)


def require_executable(argv: Sequence[str], what: str, setting: str) -> str:
    """Absolute path of ``argv``'s executable, or an error naming the setting to fix."""
    found = shutil.which(argv[0]) if argv else None
    if found is None:
        raise InterfacialError(
            f"{what} {shlex.join(argv) or '(empty)'!s} was not found on PATH: install it or set "
            f"its command ({setting})"
        )
    return found


def run_captured(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float | None,
    what: str,
    advice: str,
    on_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``cwd`` capturing text output; the caller checks the return code.

    ``on_line``, when given, gets each line of stdout (without its newline) as it is printed,
    e.g. to show a fit's iterations; the output is captured all the same.

    Raises
    ------
    InterfacialError
        If it runs longer than ``timeout`` seconds (the message ends with ``advice``).

    """
    late = InterfacialError(
        f"{what} did not finish within {timeout} s in {cwd} ({shlex.join(argv)}): {advice}"
    )
    if on_line is None:
        try:
            return subprocess.run(
                list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise late from None
    with subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        # stderr drains on its own thread so that neither pipe fills while the other is read.
        errors: list[str] = []
        drain = threading.Thread(target=lambda: errors.append(process.stderr.read()))  # type: ignore[union-attr]
        drain.start()
        expired = threading.Event()

        def stop() -> None:
            expired.set()
            process.kill()

        timer = threading.Timer(timeout if timeout is not None else 0.0, stop)
        if timeout is not None:
            timer.start()
        lines: list[str] = []
        try:
            for line in process.stdout:  # type: ignore[union-attr]
                lines.append(line)
                on_line(line.rstrip("\n"))
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
            drain.join()
    if expired.is_set():
        raise late
    return subprocess.CompletedProcess(
        list(argv), process.returncode, "".join(lines), "".join(errors)
    )
