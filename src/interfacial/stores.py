"""Where documents live.

Three set-ups, chosen by :class:`~interfacial.settings.InterfacialSettings`:

* embedded (default): maggma ``MontyStore`` collections (sqlite files) in ``settings.data_dir``, a
  directory the user can see and delete. Results written by one process are read by the next.
* ``store_uri``: a MongoDB URI (``mongodb://`` or ``mongodb+srv://``); large objects go to GridFS.
* ``use_jobflow_store``: the JobStore of the user's ``jobflow.yaml``, used unchanged; the derived
  collections (surfaces, materials, ...) are created next to its docs store.

Job outputs go to the JobStore (docs store ``jobs`` plus the ``data`` store for large objects).
Builders write derived documents to sibling collections returned by :func:`derived_store`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings

if TYPE_CHECKING:
    from jobflow import JobStore
    from maggma.core import Store

#: Collections written by the builders, by purpose.
SURFACES = "surfaces"
SURFACE_MATERIALS = "surface_materials"
INTERFACES = "interfaces"
DIFFUSION = "diffusion"
ARRHENIUS = "arrhenius"


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


def _named_store(name: str, settings: InterfacialSettings, *, large: bool = False) -> Store:
    from maggma.stores import GridFSStore, MongoStore, MontyStore

    if settings.store_uri is not None:
        store_class = GridFSStore if large else MongoStore
        return store_class(settings.store_database, name, uri=settings.store_uri, key="uuid")
    return MontyStore(
        name, database_path=str(_embedded_path(settings)), database_name="interfacial", key="uuid"
    )


def get_job_store(settings: InterfacialSettings | None = None) -> JobStore:
    """Return the (unconnected) JobStore the flows write to."""
    from jobflow import JobStore

    settings = settings or get_settings()
    if settings.use_jobflow_store:
        from jobflow import SETTINGS as JOBFLOW_SETTINGS

        return JOBFLOW_SETTINGS.JOB_STORE
    return JobStore(
        _named_store("jobs", settings),
        additional_stores={"data": _named_store("data", settings, large=True)},
    )


def sibling_store(store: Store, name: str, key: str) -> Store:
    """Return collection ``name`` in the same database as ``store`` (same kind and credentials)."""
    from maggma.stores import MemoryStore, MongoStore, MontyStore

    if isinstance(store, MontyStore):
        return MontyStore(
            name,
            database_path=store.database_path,
            database_name=store.database_name,
            storage=store.storage,
            key=key,
        )
    if isinstance(store, MongoStore):  # also the deprecated MongoURIStore, a subclass
        return MongoStore(
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


def derived_store(name: str, key: str, settings: InterfacialSettings | None = None) -> Store:
    """Return the builder output collection ``name`` next to the JobStore's docs store."""
    return sibling_store(get_job_store(settings).docs_store, name, key)
