"""Stores under bad conditions: damaged files, read-only data, unreachable MongoDB, secrets.

Every failure is one InterfacialError line that names the file or host and what to do; read-only
commands create and write nothing; a MongoDB password never appears in what we print or write.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from interfacial.errors import InterfacialError
from interfacial.settings import get_settings

SECRET = "Hunter2Secret"


def _surface(material: str, miller: list[int]) -> dict:
    return {
        "surface_id": f"{material}-{miller}",
        "material": material,
        "formula": material,
        "calculator": "CHGNet",
        "miller_index": miller,
        "termination": "t0",
        "bulk_uuid": "bulk-1",
        "surface_energy": 0.45,
        "last_updated": datetime.now(UTC),
    }


def _stored(data_dir: Path) -> None:
    """An embedded database with two Li surface documents, written the normal way."""
    from interfacial.stores import SURFACES, derived_store

    store = derived_store(SURFACES, "surface_id", get_settings(data_dir=data_dir))
    store.connect()
    store.update([_surface("Li", [1, 0, 0]), _surface("Li", [1, 1, 0])])
    store.close()


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path under ``root`` with its mode, mtime and content hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, digest)
    return found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- damaged embedded database ------------------------------------------------------------------


def test_a_damaged_collection_is_one_line_naming_the_file(tmp_path):
    from interfacial.api import query_surfaces

    data_dir = tmp_path / "db"
    _stored(data_dir)
    damaged = data_dir / "interfacial" / "surfaces.collection"
    damaged.write_bytes(b"this is not an sqlite database, it was cut by a full disk" * 20)
    with pytest.raises(InterfacialError) as caught:
        query_surfaces(settings=get_settings(data_dir=data_dir))
    message = str(caught.value)
    assert str(damaged) in message
    assert "move it away" in message and "start afresh" in message
    assert "\n" not in message

    # The writing path too (a build or a run would write to it).
    from interfacial.stores import SURFACES, derived_store

    store = derived_store(SURFACES, "surface_id", get_settings(data_dir=data_dir))
    store.connect()
    with pytest.raises(InterfacialError, match="damaged or not a database"):
        store.update([_surface("Li", [1, 1, 1])])


def test_a_damaged_collection_on_the_command_line(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from interfacial.cli import app

    data_dir = tmp_path / "db"
    _stored(data_dir)
    (data_dir / "interfacial" / "surfaces.collection").write_bytes(b"\0garbage" * 100)
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["query", "surfaces"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: the embedded database file ") and "surfaces.collection" in line


# --- read-only commands write nothing -----------------------------------------------------------


def test_queries_on_a_fresh_directory_create_nothing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from interfacial.api import query_arrhenius, query_diffusion, query_interfaces, query_surfaces
    from interfacial.cli import app
    from interfacial.stores import nothing_stored

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INTERFACIAL_DATA_DIR")  # the default, ./interfacial-data
    settings = get_settings()
    assert query_surfaces(settings=settings) == []
    assert query_interfaces(settings=settings) == []
    assert query_diffusion(settings=settings) == []
    assert query_arrhenius(settings=settings) == []
    for command in (["query", "surfaces"], ["query", "interfaces", "--json"], ["--help"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []
    assert nothing_stored(settings) == f"no results stored yet in {tmp_path / 'interfacial-data'}"


def test_a_read_only_database_is_queried_and_reported_without_any_write(tmp_path):
    from interfacial.api import query_interfaces, query_surfaces, report
    from interfacial.stores import SURFACES, derived_store, nothing_stored

    data_dir = tmp_path / "db"
    _stored(data_dir)
    settings = get_settings(data_dir=data_dir)
    assert nothing_stored(settings) is None
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = _snapshot(data_dir)
    try:
        docs = query_surfaces("Li", settings=settings)
        assert [d["miller_index"] for d in docs] == [[1, 0, 0], [1, 1, 0]]
        assert query_interfaces(settings=settings) == []
        assert report(tmp_path / "figures", settings=settings) == []
        # montydb's set_storage would rewrite its two configuration files; sqlite in WAL mode
        # would leave -shm/-wal files behind: neither happens.
        assert _snapshot(data_dir) == before
        store = derived_store(SURFACES, "surface_id", settings, read_only=True)
        store.connect()
        with pytest.raises(InterfacialError, match="opened read-only"):
            store.update([_surface("Li", [1, 1, 1])])
        assert _snapshot(data_dir) == before
    finally:
        for path in [data_dir, *data_dir.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


# --- MongoDB: fail fast, name the host, never the password --------------------------------------


def test_an_unreachable_mongodb_fails_within_seconds_naming_the_host_not_the_password():
    from interfacial.api import query_surfaces
    from interfacial.stores import get_job_store

    port = _closed_port()
    settings = get_settings(store_uri=f"mongodb://alice:{SECRET}@127.0.0.1:{port}/interfacial")
    assert get_job_store(settings).docs_store.mongoclient_kwargs["serverSelectionTimeoutMS"] == 5000
    quick = settings.model_copy(update={"store_timeout": 1.0})
    start = time.monotonic()
    with pytest.raises(InterfacialError) as caught:
        query_surfaces(settings=quick)
    elapsed = time.monotonic() - start
    assert elapsed < 5, elapsed
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "does not answer within 1 s" in message
    assert SECRET not in message and "\n" not in message


def test_the_default_timeout_fails_an_unreachable_mongodb_on_the_command_line(monkeypatch):
    from typer.testing import CliRunner

    from interfacial.cli import app

    port = _closed_port()
    monkeypatch.setenv("INTERFACIAL_STORE_URI", f"mongodb://alice:{SECRET}@127.0.0.1:{port}/x")
    start = time.monotonic()
    result = CliRunner().invoke(app, ["query", "interfaces"])
    assert time.monotonic() - start < 10
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert f"127.0.0.1:{port}" in line
    assert SECRET not in result.output


def test_no_store_name_message_or_firework_we_make_carries_the_password(tmp_path, monkeypatch):
    from interfacial.campaign import load_campaign, submit
    from interfacial.stores import derived_store, get_job_store

    uri = f"mongodb://alice:{SECRET}@db.example.org:27017/interfacial"
    settings = get_settings(store_uri=uri)
    job_store = get_job_store(settings)
    stores = [
        job_store.docs_store,
        job_store.additional_stores["data"],
        derived_store("surfaces", "surface_id", settings),
    ]
    # maggma's own name is the raw URI; ours is masked (JobStore.name is built from it).
    assert SECRET not in job_store.name
    for store in stores:
        assert SECRET not in store.name and "alice:***@db.example.org" in store.name
        assert SECRET not in repr(store) and SECRET not in str(store)
    # The stores still connect with the real URI.
    assert all(store.uri == uri for store in stores)

    campaign_file = tmp_path / "campaign.yaml"
    campaign_file.write_text("name: secret-test\nsurfaces:\n  - {material: Li, max_index: 1}\n")

    class Recorder:
        def __init__(self) -> None:
            self.workflows: list = []

        def add_wf(self, workflow) -> dict:
            self.workflows.append(workflow)
            return {}

    monkeypatch.setenv("INTERFACIAL_STORE_URI", uri)
    launchpad = Recorder()
    added = submit(load_campaign(campaign_file), launchpad, settings)
    assert len(added) == 1 and launchpad.workflows
    serialised = json.dumps([wf.to_dict() for wf in launchpad.workflows], default=str)
    assert "surface energies Li" in serialised  # the flow is there
    assert SECRET not in serialised and "db.example.org" not in serialised
    assert os.environ["INTERFACIAL_STORE_URI"] == uri  # submit reads it, does not copy it
