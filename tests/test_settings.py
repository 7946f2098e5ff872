"""Settings: environment over YAML file over defaults; stores follow them."""

from pathlib import Path

from interfacial.settings import get_settings


def test_yaml_file_then_environment_take_precedence(monkeypatch, tmp_path):
    config = tmp_path / "interfacial.yaml"
    config.write_text("calculator: VASP\nlammps_cmd: /opt/lammps/bin/lmp\ndata_dir: /from/yaml\n")
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(config))
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "from-env"))
    settings = get_settings()
    assert settings.calculator == "VASP"
    assert settings.lammps_cmd == "/opt/lammps/bin/lmp"
    assert settings.data_dir == tmp_path / "from-env"


def test_embedded_store_is_a_monty_sqlite_database_in_data_dir(tmp_path):
    from maggma.stores import MontyStore

    from interfacial.stores import derived_store, get_job_store

    settings = get_settings(data_dir=tmp_path / "db")
    store = get_job_store(settings)
    assert isinstance(store.docs_store, MontyStore)
    assert Path(store.docs_store.database_path) == (tmp_path / "db").resolve()
    assert "data" in store.additional_stores
    sibling = derived_store("surfaces", "surface_id", settings)
    assert sibling.database_path == store.docs_store.database_path


def test_mongodb_uri_gives_mongo_stores_without_connecting():
    from maggma.stores import GridFSStore, MongoStore

    from interfacial.stores import derived_store, get_job_store

    uri = "mongodb://user:secret@db.example.org:27017/interfacial"
    settings = get_settings(store_uri=uri)
    store = get_job_store(settings)
    assert isinstance(store.docs_store, MongoStore)
    assert store.docs_store.uri == uri
    assert isinstance(store.additional_stores["data"], GridFSStore)
    sibling = derived_store("surfaces", "surface_id", settings)
    assert isinstance(sibling, MongoStore)
    assert (sibling.collection_name, sibling.uri, sibling.database) == (
        "surfaces",
        uri,
        "interfacial",
    )
