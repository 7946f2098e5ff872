"""Where documents live.

Three set-ups, chosen by :class:`~interfacial.settings.InterfacialSettings`:

* embedded (default): maggma ``MontyStore`` collections (sqlite files) in ``settings.data_dir``, a
  directory the user can see and delete. Results written by one process are read by the next.
* ``store_uri``: a MongoDB URI (``mongodb://`` or ``mongodb+srv://``); large objects go to GridFS.
* ``use_jobflow_store``: the JobStore of the user's ``jobflow.yaml``, used unchanged; the derived
  collections (surfaces, materials, ...) are created next to its docs store.

Job outputs go to the JobStore (docs store ``jobs`` plus the ``data`` store for large objects).
Builders write derived documents to sibling collections returned by :func:`derived_store`.

The stores made here are maggma's, with two differences a user sees only when something is
wrong: a damaged sqlite collection, an unreachable or refusing MongoDB server and a read-only
database become one-line :class:`InterfacialError` messages that name the file or the host (the
password masked), and a MongoDB server that does not answer fails after
``settings.store_timeout`` seconds instead of pymongo's 30. Never put ``store.name`` (or
``JobStore.name``) in a message, a log line or a document: maggma builds it from the full URI,
password included.

Read-only commands (``query``, ``report``) open the stores with ``read_only=True``: no
directory is created, nothing is written (montydb's configuration files included), a database
that does not exist yet reads as empty, and a database on a read-only file system can be read.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maggma.stores import GridFSStore, MemoryStore, MongoStore, MontyStore

from interfacial.errors import InterfacialError, mask_secrets
from interfacial.settings import InterfacialSettings, get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from jobflow import JobStore
    from maggma.core import Store

#: Collections written by the builders, by purpose.
SURFACES = "surfaces"
SURFACE_MATERIALS = "surface_materials"
INTERFACES = "interfaces"
DIFFUSION = "diffusion"
ARRHENIUS = "arrhenius"
SCREENING = "screening"

#: The file montydb writes first in a repository; without it there is no database yet.
_MONTY_MARKER = ".monty.storage"


def _embedded_path(settings: InterfacialSettings) -> Path:
    """Create (if needed) and check the embedded database directory."""
    path = settings.data_dir.expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InterfacialError(
            f"cannot create the database directory {path} ({exc.strerror}); "
            "set INTERFACIAL_DATA_DIR to a writable directory"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise InterfacialError(
            f"the database directory {path} is not writable; "
            "set INTERFACIAL_DATA_DIR to a writable directory"
        )
    return path


def check_writable(settings: InterfacialSettings | None = None) -> None:
    """Fail early, before any work, when the embedded database cannot be written."""
    settings = settings or get_settings()
    if settings.store_uri is None and not settings.use_jobflow_store:
        _embedded_path(settings)


def uri_host(uri: str) -> str:
    """The host part of a MongoDB URI (``host:port``, comma-separated for a replica set)."""
    rest = uri.split("://", 1)[-1]
    rest = rest.rsplit("@", 1)[-1]  # credentials may hold '/', the host part never holds '@'
    return rest.split("/", 1)[0].split("?", 1)[0] or "localhost"


def _explain(store: Any, exc: Exception) -> InterfacialError | None:
    """Turn a database driver's exception into one line naming the file or host, or None."""
    if isinstance(store, MemoryStore):  # MontyStore too (a MemoryStore, itself a MongoStore)
        if isinstance(store, MontyStore) and isinstance(exc, sqlite3.Error):
            return _explain_sqlite(store, exc)
        return None
    if isinstance(store, MongoStore | GridFSStore):
        return _explain_mongo(store, exc)
    return None


def _explain_sqlite(store: MontyStore, exc: sqlite3.Error) -> InterfacialError:
    """One line for an sqlite error of an embedded collection: read-only, locked or damaged."""
    data_dir = Path(store.database_path)
    file = data_dir / store.database_name / f"{store.collection_name}.collection"
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return InterfacialError(
            f"the embedded database {data_dir} is read-only ({text}); make it writable or "
            "set INTERFACIAL_DATA_DIR to a writable directory"
        )
    if "locked" in text:
        return InterfacialError(
            f"the embedded database file {file} is locked by another process; wait for it "
            "to finish and try again"
        )
    return InterfacialError(
        f"the embedded database file {file} is damaged or not a database (sqlite: {text}); "
        "move it away or restore it from a backup, or delete the directory "
        f"{data_dir} to start afresh"
    )


def _explain_mongo(store: Any, exc: Exception) -> InterfacialError | None:
    """One line for a pymongo error: server unreachable, credentials refused, bad URI."""
    from pymongo import errors

    uri = getattr(store, "uri", None) or ""
    host = uri_host(uri) if uri else f"{store.host}:{store.port}"
    if isinstance(exc, errors.ServerSelectionTimeoutError | errors.ConnectionFailure):
        timeout = (store.mongoclient_kwargs or {}).get("serverSelectionTimeoutMS")
        after = f" within {timeout / 1000:g} s" if timeout else ""
        return InterfacialError(
            f"the MongoDB server {host} of store_uri does not answer{after}; check host, "
            "port and network (or raise the setting store_timeout), or unset store_uri to "
            "use the embedded database"
        )
    if isinstance(exc, errors.OperationFailure) and exc.code in {13, 18}:
        return InterfacialError(
            f"the MongoDB server {host} refused the credentials of store_uri "
            f"({'authentication failed' if exc.code == 18 else 'not authorised'}); check "
            "the user name, password and authSource of store_uri"
        )
    if isinstance(exc, errors.ConfigurationError | errors.InvalidURI):
        return InterfacialError(
            f"store_uri is not a usable MongoDB URI ({mask_secrets(str(exc))}); "
            "e.g. mongodb://user:***@host:27017/database"
        )
    return None


def _translated(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a store method; a driver exception becomes an InterfacialError (see _explain)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except InterfacialError:
            raise
        except Exception as exc:
            error = _explain(self, exc)
            if error is None:
                raise
            raise error from None

    return wrapper


def _translated_iterator(method: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Like :func:`_translated` for a generator (query): errors arise while iterating."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from method(self, *args, **kwargs)
        except InterfacialError:
            raise
        except Exception as exc:
            error = _explain(self, exc)
            if error is None:
                raise
            raise error from None

    return wrapper


_PLAIN = ("connect", "count", "distinct", "update", "remove_docs", "ensure_index", "query_one")


def _guard(cls: type) -> type:
    """Wrap the data methods of a maggma store class with the error translation."""
    for name in _PLAIN:
        if name in vars(cls) or any(name in vars(base) for base in cls.__mro__[1:]):
            setattr(cls, name, _translated(getattr(cls, name)))
    cls.query = _translated_iterator(cls.query)  # type: ignore[attr-defined]
    cls.groupby = _translated_iterator(cls.groupby)  # type: ignore[attr-defined]
    return cls


@_guard
class EmbeddedStore(MontyStore):
    """maggma's MontyStore whose sqlite errors name the collection file (one line)."""


@_guard
class MongoDBStore(MongoStore):
    """maggma's MongoStore whose connection errors name the host, password masked."""

    @property
    def name(self) -> str:
        """The name maggma gives (the URI, for a URI store) with the password masked."""
        return mask_secrets(super().name)


@_guard
class MongoDBFileStore(GridFSStore):
    """maggma's GridFSStore whose connection errors name the host, password masked."""

    @property
    def name(self) -> str:
        """The name maggma gives, with the password masked."""
        return mask_secrets(super().name)


class _ReadOnlySQLite:
    """montydb's sqlite engine, opening every collection file read-only.

    ``immutable=1`` when the file has no write-ahead log: sqlite then neither writes nor needs
    a writable directory (it would otherwise create ``-shm``/``-wal`` files and leave them
    behind). With a log present (a writer is active), plain ``mode=ro`` reads it too.
    """

    def __init__(self, engine: Any, repository: Path) -> None:
        self._engine = engine
        self._repository = repository

    def __getattr__(self, name: str) -> Any:
        # Every other operation of the engine writes (create_table, write_*, update_*, ...).
        raise InterfacialError(
            f"the embedded database {self._repository} was opened read-only ({name}); "
            "this command must not write"
        )

    def _connect(self, db_file: str, wconcern: Any = None) -> Any:
        del wconcern  # a write concern is for writers
        path = Path(db_file)
        mode = "mode=ro" if path.with_name(path.name + "-wal").exists() else "immutable=1"
        connection = sqlite3.connect(f"{path.as_uri()}?{mode}", uri=True)
        connection.text_factory = str
        return contextlib.closing(connection)

    def read_all(self, db_file: str, limit: int) -> Any:
        return type(self._engine).read_all(self, db_file, limit)

    def read_all_keys(self, db_file: str) -> Any:
        return type(self._engine).read_all_keys(self, db_file)


class ReadOnlyEmbeddedStore(EmbeddedStore):
    """An embedded collection opened for reading only: it creates and writes nothing.

    maggma's ``MontyStore.connect`` calls ``montydb.set_storage``, which creates the directory
    and rewrites ``.monty.storage`` and ``monty.storage.cfg`` every time; here the client is
    opened on the existing configuration instead, and a database that does not exist yet is an
    empty in-memory collection (nothing to read, nothing created).
    """

    def connect(self, force_reset: bool = False) -> None:
        """Open the existing database read-only, or an empty collection when there is none."""
        if self._coll is not None and not force_reset:
            return
        repository = Path(self.database_path)
        file = repository / self.database_name / f"{self.collection_name}.collection"
        if not (repository / _MONTY_MARKER).is_file() or not file.is_file():
            import mongomock

            self._coll = mongomock.MongoClient().db[self.collection_name]  # type: ignore[assignment]
            return
        from montydb import MontyClient

        try:
            client = MontyClient(str(repository), **self.client_kwargs)
        except (OSError, ValueError, KeyError) as exc:  # configparser errors are ValueErrors
            raise InterfacialError(
                f"the embedded database {repository} has an unreadable montydb configuration "
                f"({exc}); delete the directory to start afresh"
            ) from None
        storage = client._storage  # montydb has no public hook for this
        if storage.nice_name() != "sqlite":
            raise InterfacialError(
                f"the embedded database {repository} uses montydb storage "
                f"'{storage.nice_name()}', not sqlite; set INTERFACIAL_DATA_DIR to an "
                "interfacial database"
            )
        storage._conn = _ReadOnlySQLite(storage._conn, repository)
        self._coll = client[self.database_name][self.collection_name]

    def close(self) -> None:
        """Forget the collection (montydb opens one sqlite connection per operation)."""
        self._coll = None


def _mongo_kwargs(settings: InterfacialSettings) -> dict[str, Any]:
    """Client options: an unreachable MongoDB server fails after ``store_timeout`` s."""
    milliseconds = int(settings.store_timeout * 1000)
    return {"serverSelectionTimeoutMS": milliseconds, "connectTimeoutMS": milliseconds}


def _named_store(
    name: str, settings: InterfacialSettings, *, large: bool = False, read_only: bool = False
) -> Store:
    if settings.store_uri is not None:
        store_class = MongoDBFileStore if large else MongoDBStore
        return store_class(
            settings.store_database,
            name,
            uri=settings.store_uri,
            key="uuid",
            mongoclient_kwargs=_mongo_kwargs(settings),
        )
    if read_only:
        return ReadOnlyEmbeddedStore(
            name,
            database_path=str(settings.data_dir.expanduser().resolve()),
            database_name="interfacial",
            key="uuid",
        )
    return EmbeddedStore(
        name, database_path=str(_embedded_path(settings)), database_name="interfacial", key="uuid"
    )


def get_job_store(
    settings: InterfacialSettings | None = None, *, read_only: bool = False
) -> JobStore:
    """Return the (unconnected) JobStore the flows write to.

    Parameters
    ----------
    settings
        The settings (read afresh when None).
    read_only
        For commands that only read: no directory is created and nothing is written; an
        embedded database that does not exist yet reads as empty.

    """
    from jobflow import JobStore

    settings = settings or get_settings()
    if settings.use_jobflow_store:
        from jobflow import SETTINGS as JOBFLOW_SETTINGS

        return JOBFLOW_SETTINGS.JOB_STORE
    return JobStore(
        _named_store("jobs", settings, read_only=read_only),
        additional_stores={"data": _named_store("data", settings, large=True, read_only=read_only)},
    )


def sibling_store(store: Store, name: str, key: str) -> Store:
    """Return collection ``name`` in the same database as ``store`` (same kind and credentials)."""
    if isinstance(store, MontyStore):
        monty_class = type(store) if isinstance(store, EmbeddedStore) else EmbeddedStore
        return monty_class(
            name,
            database_path=store.database_path,
            database_name=store.database_name,
            storage=store.storage,
            key=key,
        )
    if isinstance(store, MongoStore):  # also the deprecated MongoURIStore, a subclass
        return MongoDBStore(
            database=store.database,
            collection_name=name,
            host=store.host,
            port=store.port,
            username=store.username,
            password=store.password,
            auth_source=store.auth_source,
            mongoclient_kwargs=store.mongoclient_kwargs,
            uri=getattr(store, "uri", None),
            key=key,
        )
    if isinstance(store, MemoryStore):
        return MemoryStore(name, key=key)
    raise InterfacialError(
        f"cannot place derived collections next to a {type(store).__name__}; "
        "use a MongoStore, MongoURIStore or MontyStore as the docs store"
    )


def derived_store(
    name: str, key: str, settings: InterfacialSettings | None = None, *, read_only: bool = False
) -> Store:
    """Return the builder output collection ``name`` next to the JobStore's docs store."""
    return sibling_store(get_job_store(settings, read_only=read_only).docs_store, name, key)


def nothing_stored(settings: InterfacialSettings | None = None) -> str | None:
    """A sentence for read-only commands when the embedded database does not exist yet."""
    settings = settings or get_settings()
    if settings.store_uri is not None or settings.use_jobflow_store:
        return None
    path = settings.data_dir.expanduser().resolve()
    if (path / _MONTY_MARKER).is_file():
        return None
    return f"no results stored yet in {path}"
