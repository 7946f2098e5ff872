"""Settings: environment over YAML file over defaults; stores follow them."""

from pathlib import Path

import pytest

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


# --- bad settings: one line naming the setting and its source, never the value -----------------

SECRET = "Sup3rS3cret"


def test_mask_secrets_hides_every_password_and_nothing_else():
    from interfacial.errors import mask_secrets

    text = (
        f"a mongodb://alice:{SECRET}@db.example.org:27017/x and "
        f"mongodb+srv://bob:p%40ss{SECRET}@cluster0.example.net/?retryWrites=true; "
        "mongodb://host:27017/db, mongodb://carol@host, https://example.org/a@b"
    )
    masked = mask_secrets(text)
    assert SECRET not in masked
    assert "mongodb://alice:***@db.example.org:27017/x" in masked
    assert "mongodb+srv://bob:***@cluster0.example.net/?retryWrites=true" in masked
    # No password: unchanged.
    assert "mongodb://host:27017/db, mongodb://carol@host, https://example.org/a@b" in masked


def test_wrongly_typed_environment_setting_names_it_and_never_echoes_the_uri(monkeypatch):
    import pytest

    from interfacial.errors import InterfacialError

    monkeypatch.setenv("INTERFACIAL_STORE_URI", f"mongodb://alice:{SECRET}@db.example.org/x")
    monkeypatch.setenv("INTERFACIAL_RELAX_FMAX", "fast")
    with pytest.raises(InterfacialError) as caught:
        get_settings()
    message = str(caught.value)
    assert "relax_fmax" in message
    assert "environment variable INTERFACIAL_RELAX_FMAX" in message
    assert "a number" in message
    assert SECRET not in message
    assert "\n" not in message


def test_wrongly_typed_store_uri_in_the_file_names_the_file_not_the_value(monkeypatch, tmp_path):
    import pytest

    from interfacial.errors import InterfacialError

    config = tmp_path / "interfacial.yaml"
    config.write_text(f"store_uri: [mongodb://alice:{SECRET}@db.example.org/x]\n")
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(config))
    with pytest.raises(InterfacialError) as caught:
        get_settings()
    message = str(caught.value)
    assert "store_uri" in message and str(config) in message
    assert SECRET not in message
    config.write_text(f"store_uri: http://alice:{SECRET}@db.example.org/x\n")
    with pytest.raises(InterfacialError, match="not a mongodb:// or mongodb") as caught:
        get_settings()
    assert SECRET not in str(caught.value)


def test_settings_file_not_yaml_not_utf8_not_a_mapping_or_with_a_typo(monkeypatch, tmp_path):
    import pytest

    from interfacial.errors import InterfacialError

    config = tmp_path / "interfacial.yaml"
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(config))
    cases = {
        b'store_uri: "mongodb://alice:' + SECRET.encode() + b"@h\n": "is not valid YAML (line 2)",
        b"data_dir: \xff\xfe caf\xe9\n": "is not UTF-8",
        b"- data_dir\n- /tmp\n": "not a mapping of settings",
        b"stor_uri: mongodb://h/x\n": "unknown setting(s) stor_uri",
    }
    for content, fragment in cases.items():
        config.write_bytes(content)
        with pytest.raises(InterfacialError) as caught:
            get_settings()
        assert fragment in str(caught.value), content
        assert str(config) in str(caught.value)
        assert SECRET not in str(caught.value)


def test_an_empty_data_dir_is_refused_not_taken_as_the_working_directory(monkeypatch):
    import pytest

    from interfacial.errors import InterfacialError

    monkeypatch.setenv("INTERFACIAL_DATA_DIR", "")
    with pytest.raises(InterfacialError, match="INTERFACIAL_DATA_DIR: empty"):
        get_settings()
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", "  ")
    with pytest.raises(InterfacialError, match="data_dir"):
        get_settings()


def test_bad_setting_reaches_the_command_line_as_one_line(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from interfacial.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERFACIAL_STORE_URI", f"mongodb://alice:{SECRET}@db.example.org/x")
    monkeypatch.setenv("INTERFACIAL_STORE_TIMEOUT", "soon")
    result = CliRunner().invoke(app, ["query", "surfaces"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: setting store_timeout"), lines
    assert "INTERFACIAL_STORE_TIMEOUT" in lines[0]
    assert SECRET not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_torch_threads_is_one_line_and_writes_nothing(monkeypatch, tmp_path, value):
    from typer.testing import CliRunner

    from interfacial.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERFACIAL_TORCH_THREADS", value)
    result = CliRunner().invoke(app, ["query", "surfaces"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: setting torch_threads"), lines
    assert "INTERFACIAL_TORCH_THREADS" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_torch_threads_is_read_where_the_calculator_is_built(monkeypatch, tmp_path):
    import torch

    from interfacial.forcefields.makers import apply_torch_threads

    before = torch.get_num_threads()
    config = tmp_path / "worker.yaml"
    config.write_text("torch_threads: 1\n")
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(config))
    monkeypatch.delenv("INTERFACIAL_TORCH_THREADS", raising=False)
    try:
        torch.set_num_threads(2)
        apply_torch_threads()  # from the worker's settings file
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("INTERFACIAL_TORCH_THREADS", "2")
        apply_torch_threads()  # the environment wins over the file
        assert torch.get_num_threads() == 2
        config.write_text("{}\n")
        monkeypatch.delenv("INTERFACIAL_TORCH_THREADS")
        torch.set_num_threads(1)
        apply_torch_threads()  # unset: PyTorch's own setting is left alone
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
