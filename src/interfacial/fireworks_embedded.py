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
  that worker started, so everything it finished runs again, and jobs it created at run time
  leave their outputs behind as orphans;
* ``rlaunch multi`` keeps the LaunchPad in a manager process that never writes the file back.

The guard here is an exclusive, non-blocking ``flock`` on ``<server-store file>.lock``, held for
the whole life of a process that opens the embedded LaunchPad through this module (the
``interfacial-rlaunch`` and ``interfacial-lpad`` commands, :func:`open_launchpad`). A second
process is refused at once with a message naming the file and the process that holds it. The
operating system releases the lock when the holder exits, however it exits (even on SIGKILL), so
there is no stale lock to clean up. A guarded worker also writes the file at each state change
of a run (checked out, completed or fizzled: :func:`write_through`), as MongoDB keeps each
change, and always atomically (a temporary file renamed over it): a killed worker leaves what
it finished recorded and its last Firework RUNNING, which FireWorks' ``detect_lostruns`` finds.
With a MongoDB LaunchPad nothing here does anything: the commands behave exactly like FireWorks'
own.

The embedded LaunchPad is also the default: when nothing configures FireWorks (no ``-l`` /
``--launchpad``, no ``FW_CONFIG_FILE``, no ``FW_config.yaml`` or ``my_launchpad.yaml`` in the
working directory or ``~/.fireworks``), ``interfacial submit``, ``interfacial-rlaunch`` and
``interfacial-lpad`` use :func:`default_store_file` beside the embedded database, created and
initialised on first use; a worker whose jobflow has no configuration of its own writes to the
interfacial JobStore and rebuilds the derived collections when it is done, so ``interfacial
query`` shows what it ran. Bad launchpad files, a damaged store file, a LaunchPad never reset
and an unreachable server are one line each, never a traceback.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fireworks import LaunchPad

#: The variable (or FW_config.yaml key) that switches FireWorks to the file-backed LaunchPad.
SERVERSTORE_VARIABLE = "MONGOMOCK_SERVERSTORE_FILE"

#: Name of the default embedded LaunchPad file, in the data directory.
DEFAULT_STORE_NAME = "fireworks-launchpad.json"

#: Keys LaunchPad.from_dict reads; anything else in a launchpad file is ignored by FireWorks.
LAUNCHPAD_KEYS = frozenset(
    {
        "host",
        "port",
        "name",
        "username",
        "password",
        "logdir",
        "strm_lvl",
        "user_indices",
        "wf_user_indices",
        "authsource",
        "uri_mode",
        "mongoclient_kwargs",
    }
)

#: Keys jobflow's documentation shows but FireWorks ignores, with the real ones.
_MISNAMED = {"uri_store": "uri_mode", "Istrm_lvl": "strm_lvl", "database": "name", "db": "name"}

#: Lock file descriptors held by this process, by resolved server-store file. They stay open
#: until the process ends: mongomock-persistence writes the file at interpreter exit, after any
#: ``finally`` block of ours could run, so an earlier release would let another process in
#: before our last write.
_HELD: dict[Path, int] = {}


#: LaunchPad methods after which a guarded worker writes the embedded file: a run checked out
#: (RUNNING), its launch directory, its end (COMPLETED or FIZZLED, with the Fireworks it adds).
#: Pings are left out: while a worker holds the lock nobody else can look for lost runs.
WRITE_THROUGH_METHODS = ("checkout_fw", "change_launch_dir", "complete_launch")


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


def default_store_file() -> Path:
    """The default embedded LaunchPad: a JSON file beside the embedded database."""
    from interfacial.settings import get_settings

    return get_settings().data_dir.expanduser().resolve() / DEFAULT_STORE_NAME


def fireworks_configured(launchpad_file: str | Path | None = None) -> bool:
    """Whether the user configured FireWorks (a launchpad file, FW_config.yaml, the variable).

    Looks where ``fireworks.fw_config`` looks, without importing it (importing decides between
    MongoDB and the file, once per process).
    """
    if launchpad_file is not None:
        return True
    if os.environ.get(SERVERSTORE_VARIABLE) or os.environ.get("FW_CONFIG_FILE"):
        return True
    places = [Path.cwd(), Path("~/.fireworks").expanduser()]
    names = ("FW_config.yaml", "my_launchpad.yaml")
    return any((place / name).exists() for place in places for name in names)


def select_default(launchpad_file: str | Path | None = None) -> Path | None:
    """Point FireWorks to the default embedded LaunchPad when nothing else is configured.

    Must run before FireWorks is imported. Returns the default file when it was selected.
    """
    if fireworks_configured(launchpad_file) or "fireworks.fw_config" in sys.modules:
        return None
    store_file = default_store_file()
    os.environ[SERVERSTORE_VARIABLE] = str(store_file)
    return store_file


def check_launchpad_file(path: str | Path) -> None:
    """Check a launchpad file the way FireWorks will read it: exists, parses, known keys.

    Raises
    ------
    InterfacialError
        Naming the file and what is wrong with it (FireWorks' own message for a missing key is
        only ``'host'``).

    """
    from monty.serialization import loadfn

    path = Path(path).expanduser()
    if not path.is_file():
        raise InterfacialError(
            f"the launchpad file {path} does not exist; give the path of your "
            "my_launchpad.yaml, or leave it out to use the embedded LaunchPad"
        )
    try:
        content = loadfn(path)
    except Exception as exc:  # monty raises the YAML or JSON parser's error
        raise InterfacialError(
            f"the launchpad file {path} is not valid YAML or JSON ({type(exc).__name__}); "
            "fix it, e.g. `host: localhost` and `name: fireworks` on two lines"
        ) from None
    if not isinstance(content, dict):
        raise InterfacialError(
            f"the launchpad file {path} is not a mapping of keys; write e.g. "
            "`host: localhost` and `name: fireworks` on two lines"
        )
    unknown = sorted(str(key) for key in content if key not in LAUNCHPAD_KEYS)
    if unknown:
        hints = [f"{key} -> {_MISNAMED[key]}" for key in unknown if key in _MISNAMED]
        raise InterfacialError(
            f"the launchpad file {path} has unknown key(s) {', '.join(unknown)}"
            + (f" ({'; '.join(hints)})" if hints else "")
            + f"; known keys: {', '.join(sorted(LAUNCHPAD_KEYS))}"
        )
    if "host" not in content:
        raise InterfacialError(
            f"the launchpad file {path} has no 'host' key; add e.g. `host: localhost` (or a "
            "mongodb:// URI with `uri_mode: true`)"
        )


def check_store_file(store_file: Path) -> None:
    """Check that the embedded LaunchPad's JSON file can be loaded (names it if not)."""
    from bson import json_util

    if not store_file.exists() or store_file.stat().st_size == 0:
        return
    try:
        content = json_util.loads(store_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InterfacialError(
            f"the embedded LaunchPad file {store_file} is damaged ({type(exc).__name__}); "
            "restore it from a backup or move it away (a new, empty LaunchPad is then created)"
        ) from None
    if not isinstance(content, dict):
        raise InterfacialError(
            f"the embedded LaunchPad file {store_file} is not a LaunchPad; move it away"
        )


def _persist_now(launchpad: LaunchPad) -> None:
    """Write an embedded LaunchPad's file now, and not again at exit (one writer per process).

    mongomock-persistence writes each client's copy at exit, in reverse order of creation: a
    LaunchPad opened here only to initialise the file would otherwise overwrite, at exit, the
    work of the one FireWorks opens after it.
    """
    finalizer = getattr(getattr(launchpad.connection, "_store", None), "_finalizer", None)
    if finalizer is not None:
        finalizer()


def write_store_atomically(server_store: Any) -> None:
    """Write mongomock-persistence's server store to its file, atomically.

    mongomock-persistence rewrites the file in place (``open(..., 'w')``): a process killed
    while writing would leave a truncated file. A temporary file renamed over it (``os.replace``
    is atomic on POSIX) leaves either the old file or the new one.
    """
    from bson import json_util

    target = Path(server_store._filename)
    temporary = target.with_name(target.name + ".writing")
    temporary.write_text(json_util.dumps(server_store.to_dict()), encoding="utf-8")
    os.replace(temporary, target)


def atomic_store_writes() -> None:
    """Make every embedded LaunchPad of this process write its file atomically (at exit too).

    Must run before a LaunchPad is opened: mongomock-persistence binds the method that writes
    the file at exit when the server store is created.
    """
    import mongomock_persistence  # noqa: F401  (patches mongomock's ServerStore)
    from mongomock.store import ServerStore

    ServerStore._to_file = write_store_atomically  # type: ignore[attr-defined]


def write_through() -> None:
    """Make this process's LaunchPads write the embedded file after each state change of a run.

    Wraps the methods of :data:`WRITE_THROUGH_METHODS`: after each returns, the whole store is
    written (atomically) to the file, as MongoDB would have kept the change. A worker killed
    mid-run (SIGKILL, out of memory, walltime) then leaves the Fireworks it finished COMPLETED
    and the one it ran RUNNING, for ``detect_lostruns``, instead of the LaunchPad as it was
    when the worker started. Cost: one write of the file per checkout and completion (about
    50 ms for a 2 MB file).
    """
    import functools

    from fireworks import LaunchPad

    def persisting(method: Any) -> Any:
        @functools.wraps(method)
        def wrapper(self: LaunchPad, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            server_store = getattr(self.connection, "_store", None)
            if getattr(server_store, "_filename", None):
                write_store_atomically(server_store)
            return result

        wrapper.write_through = True  # type: ignore[attr-defined]
        return wrapper

    for name in WRITE_THROUGH_METHODS:
        method = getattr(LaunchPad, name)
        if not getattr(method, "write_through", False):
            setattr(LaunchPad, name, persisting(method))


def initialise(launchpad: LaunchPad, where: str) -> None:
    """Reset a LaunchPad that has never been reset, if it is empty; refuse otherwise.

    Raises
    ------
    InterfacialError
        If the LaunchPad holds Fireworks but no id counter (never reset, yet written to).

    """
    if launchpad.fw_id_assigner.find_one() is not None:
        return
    if launchpad.fireworks.find_one() is not None or embedded_store_file() is None:
        raise InterfacialError(
            f"the LaunchPad of {where} has never been reset; run `interfacial-lpad "
            f"{'' if where.startswith('the embedded') else '-l FILE '}reset` once (it erases "
            "that LaunchPad)"
        )
    launchpad.reset("", require_password=False)


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
    atomic_store_writes()
    if create:  # only under the lock: another process may be about to write the file
        ensure_store_file(store_file)
    return store_file


def open_launchpad(launchpad_file: str | Path | None = None) -> LaunchPad:
    """Open the LaunchPad of ``launchpad_file`` (FireWorks' configuration, or the default).

    With no file and no FireWorks configuration, the default embedded LaunchPad
    (:func:`default_store_file`) is used, created and initialised if needed. With the embedded
    LaunchPad, the file is locked for this process first, so that, for example, a submission
    cannot be lost under a running worker.

    Raises
    ------
    EmbeddedLaunchPadBusyError
        If another process holds the embedded LaunchPad.
    InterfacialError
        If the launchpad file or the embedded store file is bad (one line naming it).

    """
    default = select_default(launchpad_file)
    if launchpad_file is not None:
        check_launchpad_file(launchpad_file)
    store_file = guard_embedded(f"open_launchpad({launchpad_file or ''})", create=True)
    if store_file is not None:
        check_store_file(store_file)
    from fireworks import LaunchPad

    if launchpad_file is None:
        launchpad = LaunchPad.auto_load()
    else:
        launchpad = LaunchPad.from_file(str(launchpad_file))
    if store_file is not None:
        where = f"the embedded LaunchPad {store_file}" if default else str(launchpad_file)
        initialise(launchpad, where)
    return launchpad


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


def _launchpad_option(argv: Sequence[str]) -> str | None:
    """The ``-l`` / ``--launchpad_file`` value of an rlaunch or lpad command line."""
    for i, arg in enumerate(argv):
        if arg in {"-l", "--launchpad_file"} and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--launchpad_file="):
            return arg.split("=", 1)[1]
    return None


def _jobflow_configured() -> bool:
    """Whether jobflow has a JobStore of the user's (else it keeps outputs in memory)."""
    if os.environ.get("JOBFLOW_CONFIG_FILE") or os.environ.get("JOBFLOW_JOB_STORE"):
        return True
    return Path("~/.jobflow.yaml").expanduser().exists()


def _use_interfacial_store() -> bool:
    """Give jobflow the interfacial JobStore when it has none of the user's."""
    if _jobflow_configured():
        return False
    from jobflow import SETTINGS as JOBFLOW_SETTINGS

    from interfacial.stores import get_job_store

    JOBFLOW_SETTINGS.JOB_STORE = get_job_store()
    return True


def _prepare(name: str, argv: Sequence[str]) -> bool:
    """Select, check and lock the LaunchPad; True when jobflow got the interfacial store."""
    given = _launchpad_option(argv)
    default = select_default(given)
    if given is not None:
        check_launchpad_file(given)
    if name == "rlaunch" and _subcommand(argv) == "multi" and embedded_store_file() is not None:
        raise InterfacialError(
            "`rlaunch multi` cannot use the embedded LaunchPad: its manager process never "
            "writes the file back, so the whole session would be lost; use `rapidfire`"
        )
    if default is not None and name == "rlaunch" and not default.exists():
        raise InterfacialError(
            f"nothing to run: there is no embedded LaunchPad at {default} yet; add work with "
            "`interfacial submit CAMPAIGN` (or configure a MongoDB LaunchPad, -l FILE)"
        )
    if given is None and default is None:
        from fireworks import fw_config

        if fw_config.LAUNCHPAD_LOC:
            check_launchpad_file(fw_config.LAUNCHPAD_LOC)
    store_file = guard_embedded(f"{name} {' '.join(argv)}".strip(), create=name == "lpad")
    if store_file is not None:
        check_store_file(store_file)
        if name == "rlaunch":
            write_through()
        if default is not None:  # ours: initialise it now, then let FireWorks open it
            from fireworks import LaunchPad

            launchpad = LaunchPad()
            initialise(launchpad, f"the embedded LaunchPad {store_file}")
            _persist_now(launchpad)
    return name == "rlaunch" and _use_interfacial_store()


def _explain(name: str, exc: Exception) -> str | None:
    """One line for what FireWorks raises on a bad LaunchPad; None for anything else."""
    from pymongo import errors

    from interfacial.errors import mask_secrets

    text = mask_secrets(" ".join(str(exc).split()))
    if isinstance(exc, ValueError) and "Could not get next FW id" in text:
        return (
            "the LaunchPad has never been reset; run `interfacial-lpad [-l FILE] reset` once "
            "(it erases that LaunchPad)"
        )
    if isinstance(exc, errors.ServerSelectionTimeoutError | errors.ConnectionFailure):
        return (
            f"the LaunchPad's MongoDB server does not answer ({text[:200]}); check host, port "
            "and credentials of the launchpad file"
        )
    if isinstance(exc, errors.OperationFailure):
        return f"the LaunchPad's MongoDB server refused the operation ({text[:200]})"
    if isinstance(exc, FileNotFoundError):
        return f"{text}; check the path given to {name}"
    return None


def _run_guarded(name: str, argv: Sequence[str], *, create: bool) -> int:
    """Take the guard, then hand over to FireWorks' command ``name`` in this process."""
    del create  # lpad creates the embedded file, rlaunch does not (see _prepare)
    try:
        ours = _prepare(name, argv)
        if name == "rlaunch":
            from fireworks.scripts.rlaunch_run import rlaunch

            from interfacial.commands import worker_environment

            # Jobs of other packages (atomate2's VASP) read only the environment: give them
            # this worker's settings, its settings file included.
            with worker_environment():
                status = int(rlaunch(list(argv)) or 0)
        else:
            from fireworks.scripts.lpad_run import lpad

            status = int(lpad(list(argv)) or 0)
        if ours and status == 0:
            from interfacial.api import build

            counts = build()
            print(
                f"interfacial-{name}: rebuilt {counts['surfaces']} surface group(s), "
                f"{counts['interfaces']} interface group(s), {counts['diffusion']} diffusion "
                f"and {counts['arrhenius']} Arrhenius document(s); `interfacial query ...`",
                file=sys.stderr,
            )
    except InterfacialError as exc:
        from interfacial.errors import mask_secrets

        print(f"interfacial-{name}: error: {mask_secrets(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:
        line = _explain(name, exc)
        if line is None:
            raise
        print(f"interfacial-{name}: error: {line}", file=sys.stderr)
        return 2
    return status


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
