"""Command lines of the external programs interfacial starts itself (``mlp``, ``lmp``, MPI).

One place for what both engines need: the worker's own settings resolved where the job runs, the
executable looked up before any work, and a run with a time limit whose expiry is a clear error.
VASP is started by atomate2/custodian, not here (see :func:`worker_environment`).

Worker settings
---------------
A submitted job does not carry the submitter's executables or scratch directories: it carries a
placeholder that names the setting, ``${INTERFACIAL_LAMMPS_CMD}`` for ``lammps_cmd``, and the
machine that runs the job resolves it through its own :class:`~interfacial.settings.
InterfacialSettings` (environment variable ``INTERFACIAL_LAMMPS_CMD`` > the worker's settings
file ``~/.interfacial.yaml`` or ``INTERFACIAL_CONFIG_FILE`` > the default). The placeholder is also
a valid environment-variable reference, so launchpads and qadapters that export the variables
keep working unchanged, and atomate2 (which runs ``os.path.expandvars`` on a job's ``vasp_cmd``)
sees the worker's setting once :func:`worker_environment` has exported it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Iterator, MutableMapping

#: Settings that belong to the machine a job runs on: its executables and its scratch directory.
WORKER_SETTINGS = ("vasp_cmd", "lammps_cmd", "mlp_cmd", "mpi_cmd", "md_dir")

# ${INTERFACIAL_NAME} or $INTERFACIAL_NAME (the name as long as it goes, as the shell reads it).
_PLACEHOLDER = re.compile(r"\$(?:\{(INTERFACIAL_\w+)\}|(INTERFACIAL_\w+))")


def worker_placeholder(setting: str) -> str:
    """The placeholder a submitted job carries for a worker setting: ``${INTERFACIAL_<SETTING>}``.

    Raises
    ------
    ValueError
        If ``setting`` is not one of :data:`WORKER_SETTINGS` (a programming error).

    """
    if setting not in WORKER_SETTINGS:
        raise ValueError(f"{setting!r} is not a worker setting ({', '.join(WORKER_SETTINGS)})")
    return "${INTERFACIAL_" + setting.upper() + "}"


def where_to_set(setting: str) -> str:
    """Both places a worker setting can be given on this machine, in words."""
    from interfacial.settings import config_file

    return (
        f"set {setting} in the settings file {config_file()} or the environment variable "
        f"INTERFACIAL_{setting.upper()}"
    )


def resolve_worker_settings(command: str) -> str:
    """Replace each worker-setting placeholder by this machine's value of that setting.

    ``${INTERFACIAL_LAMMPS_CMD}`` becomes ``get_settings().lammps_cmd`` (environment variable >
    settings file > default); an unset optional setting (``md_dir``) becomes the empty string.
    Other variables are left for the environment.
    """
    from interfacial.settings import get_settings

    settings = None

    def value(match: re.Match[str]) -> str:
        nonlocal settings
        setting = (match.group(1) or match.group(2)).removeprefix("INTERFACIAL_").lower()
        if setting not in WORKER_SETTINGS:
            return match.group(0)
        settings = settings or get_settings()
        resolved = getattr(settings, setting)
        return "" if resolved is None else str(resolved)

    return _PLACEHOLDER.sub(value, command)


@contextmanager
def worker_environment(
    environ: MutableMapping[str, str] | None = None,
) -> Iterator[dict[str, str]]:
    """Export this machine's worker settings as ``INTERFACIAL_<SETTING>`` while a worker runs.

    Jobs of other packages expand only environment variables: atomate2 runs
    ``os.path.expandvars`` on a job's ``vasp_cmd``, so ``${INTERFACIAL_VASP_CMD}`` would ignore a
    ``vasp_cmd`` given in the worker's settings file. Exporting the settings (a variable already
    set wins, as in the settings' own precedence) gives every job the same values. The
    environment is restored afterwards. Yields the variables it added.

    Raises
    ------
    InterfacialError
        If the worker's settings are invalid (one line naming the setting).

    """
    from interfacial.settings import get_settings

    environ = os.environ if environ is None else environ
    settings = get_settings()
    added: dict[str, str] = {}
    for setting in WORKER_SETTINGS:
        variable = f"INTERFACIAL_{setting.upper()}"
        value = getattr(settings, setting)
        if variable not in environ and value is not None:
            added[variable] = str(value)
    environ.update(added)
    try:
        yield added
    finally:
        for variable in added:
            environ.pop(variable, None)


def expand_command(command: str, what: str) -> list[str]:
    """Split a command line after resolving worker settings and environment variables.

    ``${INTERFACIAL_<SETTING>}`` of a worker setting (:data:`WORKER_SETTINGS`) is this machine's
    setting (:func:`resolve_worker_settings`); then other ``$VARIABLES`` expand from the
    environment (a setting's value may itself hold one, e.g. ``$HOME/bin/lmp``).

    Raises
    ------
    InterfacialError
        If a variable is not set.

    """
    expanded = os.path.expandvars(resolve_worker_settings(command))
    unset = re.findall(r"\$\{?(\w+)\}?", expanded)
    if unset:
        raise InterfacialError(
            f"{what} {command!r} uses the unset environment variable(s) {', '.join(unset)}: "
            "set them or give the command explicitly"
        )
    return shlex.split(expanded)


def require_executable(argv: Sequence[str], what: str, setting: str) -> str:
    """Absolute path of ``argv``'s executable, or an error naming the setting and where to set it.

    ``setting`` is the worker setting that gives the command (e.g. ``lammps_cmd``).
    """
    found = shutil.which(argv[0]) if argv else None
    if found is None:
        raise InterfacialError(
            f"{what} {shlex.join(argv) or '(empty)'!s} was not found on PATH: install it, or "
            f"{where_to_set(setting)}"
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
