"""Reference MD -> MTP fit -> active learning on the embedded default, end to end (short runs).

The runs are far shorter than the study's (it says so in the demo); what is checked is the
plumbing and its bookkeeping: training snapshots become the training set, validation runs at
other temperatures become validation sets, each active-learning round grades an MD run of the
fitted potential, labels what it selects with the reference calculator and refits on the
enlarged set, and every document records what happened.
"""

from __future__ import annotations

import warnings

import pytest

pytestmark = pytest.mark.slow


def test_learn_potential_end_to_end(tmp_path, monkeypatch):
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    from interfacial.flows.mtp import MotepFitMaker
    from interfacial.forcefields.flows import ForceFieldLearnPotentialMaker
    from interfacial.forcefields.md import ForceFieldReferenceMDMaker
    from interfacial.structures.library import load_structure

    monkeypatch.chdir(tmp_path)
    maker = ForceFieldLearnPotentialMaker(
        reference_md_maker=ForceFieldReferenceMDMaker(
            temperature=1000.0,
            time_step=2.0,
            ramp_steps=20,
            production_steps=120,
            snapshot_interval=2,
            validation_temperatures=[300.0, 500.0],
            validation_steps=40,
            validation_ramp_steps=10,
            vacancy_element="Li",
            vacancy_count=1,
        ),
        fit_maker=MotepFitMaker(level=6, engine_options={"max_iter": 40}, max_training=50),
        max_rounds=1,
        al_temperature=1500.0,
        al_steps=100,
        al_interval=5,
        grade_threshold=1.5,
        max_selected=3,
    )
    flow = maker.make(load_structure("Li2S"), "Li2S-vac")
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        responses = run_locally(flow, store=store, create_folders=True, ensure_success=True)
    assert responses

    store.connect()
    fits = list(store.query({"metadata.interfacial.role": "mtp_fit"}, load=True))
    first = min(fits, key=lambda d: d["output"]["n_training_available"])["output"]
    (sets,) = list(store.query({"metadata.interfacial.role": "training_sets"}))
    assert sets["output"]["n_snapshots"] == 60  # 120 production steps / interval 2
    assert first["n_training"] == first["n_training_available"] == 50  # subsampled once
    assert set(first["validation_errors"]) == {"300 K", "500 K"}
    assert first["species_order"] == ["Li", "S"]

    (learning,) = [
        d
        for d in store.query({"metadata.interfacial.role": "active_learning"})
        if isinstance(d["output"], dict) and "rounds" in d["output"]
    ]
    rounds = learning["output"]["rounds"]
    assert rounds[0]["round"] == 0
    # 100 steps / interval 5, unless the potential left its domain (MLIP's break threshold) first.
    if rounds[0]["md_ended"] == "completed":
        assert rounds[0]["n_graded"] == 20
    else:
        assert rounds[0]["md_ended"] in {"grade above break threshold", "non-finite dynamics"}
        assert 0 < rounds[0]["n_graded"] < 20
    assert rounds[0]["n_training_before"] == 50
    if rounds[0]["n_selected"]:
        # The selected configurations were labelled by CHGNet and added before the refit.
        assert len(rounds) == 2
        assert rounds[1]["n_training_before"] == 50 + rounds[0]["n_selected"]
        labels = list(store.query({"metadata.interfacial.role": "al_label"}))
        assert len(labels) == rounds[0]["n_selected"]
        assert len(fits) == 2
        # Each fit keeps the set it was offered: the refit's is the first's plus the labels.
        counts = sorted(d["output"]["training_cfg"].count("BEGIN_CFG") for d in fits)
        assert counts == [50, 50 + rounds[0]["n_selected"]]
    else:
        assert rounds[0]["converged"] is True
    assert learning["output"]["final_fit"]["potential_sha256"] == rounds[-1]["potential_sha256"]


def test_fit_mtp_from_the_store_uses_the_stored_reference_md(tmp_path):
    """`interfacial fit-mtp store:SYSTEM` fits on the newest stored reference MD and its
    validation runs (another process than the one that ran the MD).
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from interfacial.api import learn_potential
    from interfacial.settings import InterfacialSettings

    settings = InterfacialSettings(data_dir=tmp_path / "db")
    learn_potential(
        "Li2S",
        settings=settings,
        show_progress=False,
        reference={
            "ramp_steps": 10,
            "production_steps": 80,
            "snapshot_interval": 2,
            "validation_temperatures": [400.0],
            "validation_steps": 20,
            "validation_ramp_steps": 5,
        },
        fit={"level": 4, "engine_options": {"max_iter": 10}},
        max_rounds=0,
        al_steps=20,
        al_interval=10,
    )
    env = {**os.environ, "INTERFACIAL_DATA_DIR": str(tmp_path / "db"), "MPLBACKEND": "Agg"}
    cli = str(Path(sys.executable).parent / "interfacial")
    args = ["fit-mtp", "store:Li2S", "--level", "6", "--max-iter", "20", "--json"]
    result = subprocess.run([cli, *args], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads(result.stdout)
    assert doc["system"] == "Li2S"
    assert doc["n_training"] == 40  # 80 production steps / interval 2
    assert set(doc["validation_errors"]) == {"400 K"}
    # What transport grades against and extends: the newest fit's own set (not a guess).
    from interfacial.api.results import training_set

    kept = training_set("Li2S", settings)
    assert kept is not None and "newest fit" in kept["source"]
    assert doc["potential_sha256"][:12] in kept["source"]
    assert kept["cfg"].count("BEGIN_CFG") == 40
    missing = subprocess.run(
        [cli, "fit-mtp", "store:Li9Q"], capture_output=True, text=True, env=env, check=False
    )
    assert missing.returncode == 2 and "systems stored: Li2S" in missing.stderr
