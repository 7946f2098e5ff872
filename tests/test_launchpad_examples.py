"""Every file in launchpad_examples/ is read by the loader FireWorks or jobflow really uses.

No MongoDB server exists in CI. pymongo connects lazily, so the MongoDB LaunchPad can be built
for real and its attributes checked without a server; a mongodb+srv:// address, however, is
resolved through DNS when the client is created, so for the Atlas file the driver class is
replaced by a recorder that shows exactly what FireWorks hands to it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "launchpad_examples"
ALL_FILES = sorted(EXAMPLES.rglob("*.yaml"))
PLACEHOLDER_PASSWORDS = {"CHANGE_ME"}
PLACEHOLDER_HOSTS = ("mongodb.example.org", "YOUR_CLUSTER.mongodb.net", "localhost")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text())


class RecordingClient:
    """Stands in for pymongo.MongoClient: records its arguments, talks to nothing."""

    calls: ClassVar[list[tuple[tuple, dict]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        RecordingClient.calls.append((args, kwargs))

    def __getitem__(self, name: str) -> Any:
        import mongomock

        return mongomock.MongoClient()[name]


@pytest.fixture
def recording_client(monkeypatch: pytest.MonkeyPatch) -> type[RecordingClient]:
    import fireworks.core.launchpad

    RecordingClient.calls = []
    monkeypatch.setattr(fireworks.core.launchpad, "MongoClient", RecordingClient)
    # GridFS insists on a real pymongo Database; the fallback store is not under test here.
    monkeypatch.setattr(fireworks.core.launchpad, "GRIDFS_FALLBACK_COLLECTION", None)
    return RecordingClient


def test_the_expected_files_are_there():
    names = {str(p.relative_to(EXAMPLES)) for p in ALL_FILES}
    assert names == {
        "my_launchpad.yaml",
        "my_launchpad_atlas.yaml",
        "jobflow.yaml",
        "my_fworker_dft.yaml",
        "my_fworker_md.yaml",
        "my_fworker_fit.yaml",
        "my_qadapter_slurm.yaml",
        "my_qadapter_pbs.yaml",
        "embedded/my_launchpad.yaml",
        "embedded/jobflow.yaml",
    }


def test_mongodb_launchpad_loads_without_connecting():
    from fireworks import LaunchPad

    launchpad = LaunchPad.from_file(str(EXAMPLES / "my_launchpad.yaml"))
    try:
        assert launchpad.host == "mongodb.example.org"
        assert launchpad.port == 27017
        assert launchpad.name == "YOUR_DATABASE"
        assert launchpad.username == "YOUR_USERNAME"
        assert launchpad.password == "CHANGE_ME"
        assert launchpad.authsource == "admin"
        assert launchpad.uri_mode is False
        assert launchpad.strm_lvl == "INFO"
        # Built for real, yet no server was reached: pymongo only connects on first use.
        assert launchpad.connection.nodes == frozenset()
        assert launchpad.db.name == "YOUR_DATABASE"
    finally:
        launchpad.connection.close()


def test_open_launchpad_leaves_a_mongodb_launchpad_alone(tmp_path):
    """The guard only acts on the embedded LaunchPad: no lock for MongoDB."""
    from interfacial.fireworks_embedded import open_launchpad

    launchpad = open_launchpad(EXAMPLES / "my_launchpad.yaml")
    try:
        assert (launchpad.host, launchpad.name) == ("mongodb.example.org", "YOUR_DATABASE")
    finally:
        launchpad.connection.close()
    assert not list(EXAMPLES.rglob("*.lock"))


def test_mongodb_launchpad_passes_credentials_as_separate_arguments(recording_client):
    from fireworks import LaunchPad

    LaunchPad.from_file(str(EXAMPLES / "my_launchpad.yaml"))
    ((args, kwargs),) = recording_client.calls
    assert args == ("mongodb.example.org", 27017)
    assert kwargs["username"] == "YOUR_USERNAME"
    assert kwargs["authSource"] == "admin"


def test_atlas_launchpad_hands_the_uri_to_the_driver_unchanged(recording_client):
    from fireworks import LaunchPad

    launchpad = LaunchPad.from_file(str(EXAMPLES / "my_launchpad_atlas.yaml"))
    assert launchpad.uri_mode is True
    assert launchpad.name == "YOUR_DATABASE"
    ((args, kwargs),) = recording_client.calls
    # uri_mode honoured: the URI is the only positional argument, no port or credentials added.
    assert args == (load("my_launchpad_atlas.yaml")["host"],)
    assert args[0].startswith("mongodb+srv://YOUR_USERNAME:CHANGE_ME@YOUR_CLUSTER.mongodb.net/")
    assert kwargs == {}
    assert launchpad.db.name == "YOUR_DATABASE"


def test_the_keys_from_jobflows_docs_are_ignored_and_absent_here(recording_client):
    """uri_store / Istrm_lvl look plausible and do nothing: FireWorks reads neither."""
    from fireworks import LaunchPad

    launchpad = LaunchPad.from_dict(
        {"host": "mongodb://h/db", "name": "db", "uri_store": True, "Istrm_lvl": "ERROR"}
    )
    assert launchpad.uri_mode is False
    assert launchpad.strm_lvl != "ERROR"
    for path in ALL_FILES:
        keys = _all_keys(yaml.safe_load(path.read_text()))
        assert not keys & {"uri_store", "Istrm_lvl"}, path


@pytest.mark.parametrize("category", ["dft", "md", "fit"])
def test_fworker_per_category(category):
    from fireworks import FWorker

    settings_fields = _settings_fields()
    worker = FWorker.from_file(str(EXAMPLES / f"my_fworker_{category}.yaml"))
    assert worker.category == category
    assert worker.query["spec._category"] == category
    commands = {key for key in worker.env if key.endswith("_cmd")}
    assert commands, "each worker documents the commands its jobs use"
    assert commands <= settings_fields


@pytest.mark.parametrize(
    ("name", "q_type", "directive"),
    [
        ("my_qadapter_slurm.yaml", "SLURM", "#SBATCH --partition=YOUR_PARTITION"),
        ("my_qadapter_pbs.yaml", "PBS", "#PBS -q YOUR_QUEUE"),
    ],
)
def test_qadapter_renders_a_script_with_the_exports_and_the_rocket(
    name, q_type, directive, tmp_path
):
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter
    from fireworks.utilities.fw_serializers import load_object_from_file

    adapter = CommonAdapter.from_file(str(EXAMPLES / name))
    # qlaunch itself loads the file through _fw_name; both routes must give the same adapter.
    assert isinstance(load_object_from_file(str(EXAMPLES / name)), CommonAdapter)
    assert adapter.q_type == q_type
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        script = adapter.get_script_str(str(tmp_path))
    # FireWorks warns about keys its template does not know: there must be none.
    assert not [w for w in caught if "not present in template" in str(w.message)]
    lines = script.splitlines()
    assert directive in lines
    assert "$$" not in script
    assert "rlaunch -c /path/to/fw_config/dft singleshot" in lines
    for variable in (
        "JOBFLOW_CONFIG_FILE",
        "PMG_VASP_PSP_DIR",
        "INTERFACIAL_VASP_CMD",
        "INTERFACIAL_LAMMPS_CMD",
        "INTERFACIAL_MLP_CMD",
        "INTERFACIAL_MPI_CMD",
    ):
        assert any(line.startswith(f"export {variable}=") for line in lines), variable
    # The exports come before the rocket, and the rocket runs in the launch directory.
    rocket = lines.index("rlaunch -c /path/to/fw_config/dft singleshot")
    assert lines[rocket - 1] == f"cd {tmp_path}"
    assert max(i for i, line in enumerate(lines) if line.startswith("export ")) < rocket


@pytest.mark.parametrize("name", ["my_qadapter_slurm.yaml", "my_qadapter_pbs.yaml"])
def test_qadapter_exports_are_the_settings_the_jobs_read(name, monkeypatch):
    """INTERFACIAL_* exports name real settings fields and reach them through the environment."""
    from interfacial.settings import get_settings

    exports = {}
    for line in load(name)["pre_rocket"].splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            key, value = words[1].split("=", 1)
            exports[key] = value
    ours = {k: v for k, v in exports.items() if k.startswith("INTERFACIAL_")}
    assert {k.removeprefix("INTERFACIAL_").lower() for k in ours} == {
        "vasp_cmd",
        "lammps_cmd",
        "mlp_cmd",
        "mpi_cmd",
        "md_dir",
    }
    for key, value in ours.items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    for key, value in ours.items():
        assert str(getattr(settings, key.removeprefix("INTERFACIAL_").lower())) == value


def test_mongodb_jobflow_yaml_gives_mongo_docs_and_gridfs_data():
    from jobflow import JobStore
    from jobflow.settings import JobflowSettings
    from maggma.stores import GridFSStore, MongoStore
    from monty.serialization import loadfn

    # The loader workers use (JOBFLOW_CONFIG_FILE -> JobflowSettings), not connected.
    store = JobflowSettings(CONFIG_FILE=str(EXAMPLES / "jobflow.yaml")).JOB_STORE
    docs, data = store.docs_store, store.additional_stores["data"]
    assert type(docs) is MongoStore
    assert (docs.host, docs.port, docs.database) == ("mongodb.example.org", 27017, "YOUR_DATABASE")
    assert (docs.collection_name, docs.key, docs.auth_source) == ("jobs", "uuid", "admin")
    assert type(data) is GridFSStore
    assert (data.collection_name, data.compression) == ("data", True)
    # JobStore.from_file wants the JOB_STORE section itself, not a whole jobflow.yaml.
    spec = loadfn(EXAMPLES / "jobflow.yaml")["JOB_STORE"]
    assert JobStore.from_dict_spec(spec).docs_store.database == "YOUR_DATABASE"


def test_embedded_jobflow_yaml_stores_and_reads_back(tmp_path, monkeypatch):
    """The embedded JobStore really writes; the interfacial commands read the same database."""
    from jobflow import Flow, run_locally
    from jobflow.settings import JobflowSettings

    from fw_helpers import square
    from interfacial.settings import get_settings
    from interfacial.stores import get_job_store

    text = (EXAMPLES / "embedded" / "jobflow.yaml").read_text()
    assert text.count("/path/to/interfacial-data") == 2
    config = tmp_path / "jobflow.yaml"
    config.write_text(text.replace("/path/to/interfacial-data", str(tmp_path / "data")))

    store = JobflowSettings(CONFIG_FILE=str(config)).JOB_STORE
    job = square(7, delay=0)
    monkeypatch.chdir(tmp_path)
    run_locally(Flow([job]), store=store, root_dir=tmp_path / "runs", log=False)

    store.connect()
    assert store.get_output(job.uuid) == 49
    store.close()
    ours = get_job_store(get_settings(data_dir=tmp_path / "data"))
    ours.connect()
    try:
        assert ours.query_one({"uuid": job.uuid})["output"] == 49
    finally:
        ours.close()


def test_embedded_launchpad_is_a_file_in_a_fresh_process(tmp_path):
    """Loaded by the real loader in a process where the variable was set before the import."""
    store_file = tmp_path / "fw_launchpad.json"
    store_file.write_text("{}")
    code = (
        "from fireworks import LaunchPad; import sys;"
        "lp = LaunchPad.from_file(sys.argv[1]);"
        "lp.reset('', require_password=False);"
        "print(type(lp.connection).__module__, lp.name, lp.host)"
    )
    env = {**os.environ, "MONGOMOCK_SERVERSTORE_FILE": str(store_file)}
    result = subprocess.run(
        [sys.executable, "-c", code, str(EXAMPLES / "embedded" / "my_launchpad.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    module, name, host = result.stdout.splitlines()[-1].split()
    assert module.startswith("mongomock")
    assert (name, host) == ("fireworks", "localhost")
    # Written back when the process exited: the reset created FireWorks' id counters.
    assert "fw_id_assigner" in store_file.read_text()


def test_no_example_holds_a_real_looking_secret():
    token = re.compile(r"[A-Za-z0-9+/_\-]{24,}")
    uri_password = re.compile(r"://[^:/@\s]+:([^@\s]+)@")
    for path in ALL_FILES:
        text = path.read_text()
        for key, value in _all_items(yaml.safe_load(text)):
            lowered = key.lower()
            if any(word in lowered for word in ("password", "secret", "token", "api_key")):
                assert value in PLACEHOLDER_PASSWORDS, (path, key)
            if lowered in {"host", "uri"} and isinstance(value, str):
                assert any(h in value for h in PLACEHOLDER_HOSTS), (path, key, value)
        for match in uri_password.finditer(text):
            assert match.group(1) in PLACEHOLDER_PASSWORDS, (path, match.group(0))
        for candidate in token.findall(text):
            # Long runs of letters AND digits look like generated keys; paths and names do not.
            looks_generated = re.search(r"\d", candidate) and re.search(r"[A-Za-z]", candidate)
            assert not looks_generated, (path, candidate)


def _settings_fields() -> set[str]:
    from interfacial.settings import InterfacialSettings

    return set(InterfacialSettings.model_fields)


def _all_items(node: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair of a nested YAML document."""
    items: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            items.append((str(key), value))
            items += _all_items(value)
    elif isinstance(node, list):
        for value in node:
            items += _all_items(value)
    return items


def _all_keys(node: Any) -> set[str]:
    return {key for key, _ in _all_items(node)}
