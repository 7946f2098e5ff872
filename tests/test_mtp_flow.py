"""The MTP fit job and `interfacial fit-mtp`: stored documents, data store, reload, bad input.

Data with a known answer (tests/mtp_data.py: a Morse pair potential on S/Li cells).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.io import write

from interfacial.errors import InterfacialError
from mtp_data import SPECIES_ORDER, configurations

pytestmark = pytest.mark.slow

CLI = [str(Path(sys.executable).parent / "interfacial")]


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "INTERFACIAL_DATA_DIR": str(data_dir),
        "INTERFACIAL_CONFIG_FILE": str(data_dir / "none.yaml"),
        "MPLBACKEND": "Agg",
    }
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("fit")
    train, held_out = configurations(48, seed=1), configurations(12, seed=2)
    write(folder / "train.extxyz", train)
    write(folder / "held_out.extxyz", held_out)
    db = folder / "db"
    result = run_cli(
        "fit-mtp",
        str(folder / "train.extxyz"),
        "--validation",
        str(folder / "held_out.extxyz"),
        "--level",
        "8",
        "--species",
        ",".join(SPECIES_ORDER),
        "--max-training",
        "40",
        "--max-iter",
        "100",
        "--json",
        data_dir=db,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {"doc": json.loads(result.stdout), "db": db, "held_out": held_out, "folder": folder}


def test_fit_document_reports_errors_and_identity(fitted):
    doc = fitted["doc"]
    assert doc["species_order"] == SPECIES_ORDER
    assert (doc["level"], doc["cutoff"], doc["engine"]) == (8, 5.0, "motep")
    assert doc["weights"] == [100.0, 10.0, 1.0]
    assert (doc["n_training"], doc["n_training_available"]) == (40, 48)
    held_out = doc["validation_errors"]["held_out"]
    assert held_out["n_configurations"] == 12
    # Measured 0.5-0.8 meV/atom and ~12 meV/A on this data; the study's targets are 10 and 30.
    assert held_out["energy_rmse"] < 3.0
    assert held_out["force_rmse"] < 30.0
    assert doc["meets_targets"] is True
    assert "potential" not in doc and "parity" not in doc  # those live in the data store


def test_stored_potential_reloads_in_a_new_process_and_predicts_the_same(fitted):
    """Load the potential from the store in a fresh interpreter; compare with the labels."""
    script = f"""
import json, sys
from interfacial.settings import InterfacialSettings
from interfacial.stores import get_job_store
from interfacial import engines
from interfacial.mtp.potential import MTPPotential
from ase.io import read
store = get_job_store(InterfacialSettings(data_dir={str(fitted["db"])!r}))
store.connect()
doc = store.query_one({{"metadata.interfacial.role": "mtp_fit"}}, load=True)
potential = doc["output"]["potential"]
if isinstance(potential, dict):
    potential = MTPPotential.from_dict(potential)
calc = engines.get("fit", potential.engine).build().calculator(potential)
out = []
for atoms in read({str(fitted["folder"] / "held_out.extxyz")!r}, index=":"):
    atoms.calc = calc
    out.append([atoms.get_potential_energy(), atoms.get_forces().tolist()])
print(json.dumps({{"sha": potential.sha256, "predictions": out}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reloaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert reloaded["sha"] == fitted["doc"]["potential_sha256"]
    energies = np.array([p[0] for p in reloaded["predictions"]])
    forces = np.concatenate([np.ravel(p[1]) for p in reloaded["predictions"]])
    n_atoms = np.array([len(a) for a in fitted["held_out"]])
    # The predictions made at the end of the fit are stored with it (parity data, data store).
    at_fit = stored_parity(fitted["db"])["held_out"]
    np.testing.assert_allclose(energies, np.array(at_fit["energy_predicted"]) * n_atoms, atol=1e-8)
    np.testing.assert_allclose(forces, at_fit["force_predicted"], atol=1e-8)


def stored_parity(db: Path) -> dict:
    from interfacial.settings import InterfacialSettings
    from interfacial.stores import get_job_store

    store = get_job_store(InterfacialSettings(data_dir=db))
    store.connect()
    try:
        doc = store.query_one({"metadata.interfacial.role": "mtp_fit"}, load=True)
    finally:
        store.close()
    return doc["output"]["parity"]


def test_bad_training_sets_are_refused_and_write_nothing(tmp_path):
    one = tmp_path / "one.extxyz"
    write(one, configurations(1, seed=3))
    result = run_cli("fit-mtp", str(one), "--level", "6", data_dir=tmp_path / "db1")
    assert result.returncode == 2
    assert "error:" in result.stderr and "2" in result.stderr
    assert not (tmp_path / "db1" / "runs").exists() or not any(
        (tmp_path / "db1" / "runs").iterdir()
    )

    cfg = tmp_path / "train.cfg"
    cfg.write_text("BEGIN_CFG\n Size\n 2\nthis is not a cfg\n")
    result = run_cli("fit-mtp", str(cfg), "--species", "Li,S", data_dir=tmp_path / "db2")
    assert result.returncode == 2 and "line" in result.stderr

    result = run_cli("fit-mtp", str(cfg), data_dir=tmp_path / "db3")
    assert result.returncode == 2 and "--species" in result.stderr

    unlabelled = tmp_path / "unlabelled.extxyz"
    frames = [a.copy() for a in configurations(3, seed=4)]  # copies drop the labels
    write(unlabelled, frames)
    result = run_cli("fit-mtp", str(unlabelled), data_dir=tmp_path / "db4")
    assert result.returncode == 2 and "error:" in result.stderr

    train = tmp_path / "t.extxyz"
    write(train, configurations(4, seed=5))
    result = run_cli("fit-mtp", str(train), "--species", "Li", data_dir=tmp_path / "db5")
    assert result.returncode == 2 and "S" in result.stderr

    result = run_cli("fit-mtp", str(train), "--engine", "quantum", data_dir=tmp_path / "db6")
    assert result.returncode == 2 and "unknown MTP engine" in result.stderr

    result = run_cli("fit-mtp", str(train), "--level", "7", data_dir=tmp_path / "db7")
    assert result.returncode == 2 and "level 7" in result.stderr

    result = run_cli("fit-mtp", str(train), "--engine", "mlp", data_dir=tmp_path / "db8")
    assert result.returncode == 2 and "mlp" in result.stderr


def test_report_draws_the_parity_plot(fitted, tmp_path):
    result = run_cli("report", "--out", str(tmp_path / "figs"), data_dir=fitted["db"])
    assert result.returncode == 0, result.stderr[-2000:]
    png = tmp_path / "figs" / "parity_train.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_store_prefix_loads_the_newest_fit_of_a_system(fitted):
    from interfacial.api import load_potential
    from interfacial.settings import get_settings

    settings = get_settings(data_dir=fitted["db"])
    potential = load_potential(f"store:{fitted['doc']['system']}", settings=settings)
    assert potential.sha256 == fitted["doc"]["potential_sha256"]
    assert list(potential.species_order) == SPECIES_ORDER
    with pytest.raises(InterfacialError, match="no fitted potential for system 'nothing'"):
        load_potential("store:nothing", settings=settings)
