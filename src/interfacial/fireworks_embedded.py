"""A FireWorks LaunchPad without a server, made safe for the one process that may use it.

FireWorks can keep its LaunchPad in a single JSON file instead of MongoDB: with the
``fireworks[mongomock]`` extra (the ``mongomock-persistence`` package), setting
``MONGOMOCK_SERVERSTORE_FILE`` (in the environment before FireWorks is imported, or as a key of
``FW_config.yaml``) makes every ``LaunchPad`` an in-memory mongomock database that is loaded from
that file when it is opened and written back, whole, when the process exits. That is convenient
on a laptop and unsafe as soon as two processes share the file (measured, see
docs/clusters.md):

* each process works on its own copy, so two ``rlaunch rapidfire`` started together both run
  every Firework, and the file keeps only the copy of whichever process exits last;
* any ``lpad`` command, even ``get_wflows``, rewrites the file when it exits, so a workflow added
  while a worker runs disappears when the worker exits;
* a worker killed with SIGTERM or SIGKILL writes nothing: the LaunchPad is left as it was when
  that worker started;
* ``rlaunch multi`` keeps the LaunchPad in a manager process that never writes the file back.

The guard here is an exclusive, non-blocking ``flock`` on ``<server-store file>.lock``, held for
the whole life of a process that opens the embedded LaunchPad through this module (the
``interfacial-rlaunch`` and ``interfacial-lpad`` commands, :func:`open_launchpad`). A second
process is refused at once with a message naming the file and the process that holds it. The
operating system releases the lock when the holder exits, however it exits (even on SIGKILL), so
there is no stale lock to clean up. With a MongoDB LaunchPad nothing here does anything: the
commands behave exactly like FireWorks' own.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fireworks import LaunchPad

#: The variable (or FW_config.yaml key) that switches FireWorks to the file-backed LaunchPad.
SERVERSTORE_VARIABLE = "MONGOMOCK_SERVERSTORE_FILE"

#: Lock file descriptors held by this process, by resolved server-store file. They stay open
#: until the process ends: mongomock-persistence writes the file at interpreter exit, after any
#: ``finally`` block of ours could run, so an earlier release would let another process in
#: before our last write.
_HELD: dict[Path, int] = {}


class EmbeddedLaunchPadBusyError(InterfacialError):
    """Another process holds the embedded LaunchPad."""


def lock_file(store_file: Path) -> Path:
    """Return the lock file that guards ``store_file`` (next to it, same name plus ``.lock``)."""
    return store_file.with_name(store_file.name + ".lock")


def embedded_store_file() -> Path | None:
    """Return the server-store file FireWorks will use, or None when it will use MongoDB.

    Imports ``fireworks.fw_config``, which is where FireWorks decides (once per process) between
    MongoDB and the file, from the environment and ``FW_config.yaml``.

    Raises
    ------
    InterfacialError
        If the embedded LaunchPad is requested but cannot work in this process: the
        ``mongomock-persistence`` package is missing, or the variable was set after FireWorks
        had already been imported with MongoDB selected.

    """
    requested = os.environ.get(SERVERSTORE_VARIABLE)
    try:
        from fireworks import fw_config
    except RuntimeError as exc:  # FireWorks' own message when mongomock-persistence is missing
        raise InterfacialError(
            f"{SERVERSTORE_VARIABLE} selects the embedded LaunchPad, which needs the "
            "mongomock-persistence package: pip install 'fireworks[mongomock]'"
        ) from exc
    configured = fw_config.MONGOMOCK_SERVERSTORE_FILE
    if requested and not configured:
        # FireWorks binds its MongoClient class at import: a LaunchPad opened now would try a
        # MongoDB server on localhost and hang until the driver's timeout.
        raise InterfacialError(
            f"{SERVERSTORE_VARIABLE} was set after FireWorks had been imported, so FireWorks "
            "still uses MongoDB; set it in the environment before starting Python"
        )
    return Path(configured).expanduser().resolve() if configured else None


def ensure_store_file(store_file: Path) -> None:
    """Create an empty server-store file if there is none (or an empty one).

    mongomock-persistence opens the file for reading before anything else and fails on a
    missing or zero-byte file; ``{}`` is an empty database server.
    """
    if not store_file.exists() or store_file.stat().st_size == 0:
        store_file.parent.mkdir(parents=True, exist_ok=True)
        store_file.write_text("{}\n", encoding="utf-8")


def hold_lock(store_file: Path, command: str = "") -> None:
    """Take the exclusive lock on ``store_file`` for the rest of this process's life.

    Parameters
    ----------
    store_file
        The (resolved) server-store file of the embedded LaunchPad.
    command
        What this process is doing, recorded in the lock file for the message another process
        gets when it is refused.

    Raises
    ------
    EmbeddedLaunchPadBusyError
        If another process holds the lock. Nothing waits: a worker that queued behind another
        would start from a copy that the first one overwrites when it exits.

    """
    if store_file in _HELD:
        return
    path = lock_file(store_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        holder = path.read_text(encoding="utf-8", errors="replace").strip() or "unknown"
        raise EmbeddedLaunchPadBusyError(
            f"the embedded LaunchPad {store_file} is in use by another process ({holder}). "
            "It is a single file that each process loads when it starts and rewrites whole "
            "when it exits, so only one process may use it at a time: wait for that process "
            "to finish, run a single worker, or use a MongoDB LaunchPad for parallel workers "
            "(docs/clusters.md)"
        ) from None
    # Record who holds it (the content is informative only: the lock is the flock itself).
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"pid {os.getpid()}: {command}\n".encode())
    _HELD[store_file] = descriptor


def guard_embedded(command: str = "", *, create: bool = False) -> Path | None:
    """Lock the embedded LaunchPad for this process if FireWorks is configured to use one.

    Parameters
    ----------
    command
        Description of this process for the lock file.
    create
        Create an empty server-store file when there is none (``lpad reset`` needs one);
        otherwise a missing file is an error that says how to create it.

    Returns
    -------
    Path or None
        The locked server-store file, or None with a MongoDB LaunchPad (nothing to guard).

    """
    store_file = embedded_store_file()
    if store_file is None:
        return None
    # mongomock-persistence reads the variable when a LaunchPad is opened and writes to the same
    # path at exit; an absolute path keeps both on one file whatever the working directory.
    os.environ[SERVERSTORE_VARIABLE] = str(store_file)
    if not create and not store_file.exists():  # checked first: a typo leaves no lock file
        raise InterfacialError(
            f"there is no embedded LaunchPad at {store_file}: create it with "
            "`interfacial-lpad -l my_launchpad.yaml reset`"
        )
    hold_lock(store_file, command)
    if create:  # only under the lock: another process may be about to write the file
        ensure_store_file(store_file)
    return store_file


def open_launchpad(launchpad_file: str | Path | None = None) -> LaunchPad:
    """Open the LaunchPad of ``launchpad_file`` (FireWorks' default file when None).

    With the embedded LaunchPad, the file is locked for this process first (and created if
    missing), so that, for example, a submission cannot be lost under a running worker.

    Raises
    ------
    EmbeddedLaunchPadBusyError
        If another process holds the embedded LaunchPad.

    """
    guard_embedded(f"open_launchpad({launchpad_file or ''})", create=True)
    from fireworks import LaunchPad

    if launchpad_file is None:
        return LaunchPad.auto_load()
    return LaunchPad.from_file(str(launchpad_file))


#: rlaunch options that take a value (so the value is not mistaken for the sub-command).
_RLAUNCH_VALUED_OPTIONS = frozenset(
    {"-l", "--launchpad_file", "-w", "--fworker_file", "-c", "--config_dir", "--loglvl"}
)


def _subcommand(argv: Sequence[str]) -> str | None:
    """Return the sub-command of an ``rlaunch`` command line (``rapidfire``, ``multi``, ...)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _RLAUNCH_VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _run_guarded(name: str, argv: Sequence[str], *, create: bool) -> int:
    """Take the guard, then hand over to FireWorks' command ``name`` in this process."""
    try:
        if name == "rlaunch" and _subcommand(argv) == "multi" and embedded_store_file() is not None:
            raise InterfacialError(
                "`rlaunch multi` cannot use the embedded LaunchPad: its manager process never "
                "writes the file back, so the whole session would be lost; use `rapidfire`"
            )
        guard_embedded(f"{name} {' '.join(argv)}".strip(), create=create)
    except InterfacialError as exc:
        print(f"interfacial-{name}: {exc}", file=sys.stderr)
        return 2
    if name == "rlaunch":
        from fireworks.scripts.rlaunch_run import rlaunch

        return int(rlaunch(list(argv)) or 0)
    from fireworks.scripts.lpad_run import lpad

    return int(lpad(list(argv)) or 0)


def rlaunch_main(argv: Sequence[str] | None = None) -> int:
    """``interfacial-rlaunch``: FireWorks' ``rlaunch``, locked when the LaunchPad is embedded."""
    return _run_guarded("rlaunch", sys.argv[1:] if argv is None else argv, create=False)


def lpad_main(argv: Sequence[str] | None = None) -> int:
    """``interfacial-lpad``: FireWorks' ``lpad``, locked when the LaunchPad is embedded.

    Every ``lpad`` command rewrites the embedded file when it exits, read-only ones included,
    so all of them take the lock. The file is created if missing, for ``lpad reset``.
    """
    return _run_guarded("lpad", sys.argv[1:] if argv is None else argv, create=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m interfacial.fireworks_embedded {rlaunch,lpad} ARGS...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"rlaunch": rlaunch_main, "lpad": lpad_main}
    if not args or args[0] not in commands:
        print("usage: python -m interfacial.fireworks_embedded {rlaunch,lpad} ARGS...")
        return 2
    return commands[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
