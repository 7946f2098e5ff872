"""A campaign submitted to an embedded LaunchPad runs through the real FireWorks tools.

Every step is a separate process: ``interfacial submit`` adds the campaign, ``lpad get_wflows``
lists it, a worker of category ``dft`` (``interfacial-rlaunch rapidfire``) runs it, and
``interfacial build`` / ``interfacial query`` read the results from the workers' JobStore. The
campaign is small (one Li facet, LiCl (100), a ~50-atom Li(110)||LiCl(100) model) but has the
run-time fan-outs of both flows, which FireWorks turns into new Fireworks.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fw_helpers import read_server_store, subprocess_env, write_embedded_config
from fw_helpers import run as run_command

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CAMPAIGN = """\
name: fw-test
calculators: {surfaces: CHGNet, interfaces: CHGNet}
surfaces:
  - {material: Li, millers: [[1, 1, 0]], min_thickness: 6.0}
interfaces:
  - metal: Li
    compound: LiCl
    metal_miller: [1, 1, 0]
    compound_miller: [1, 0, 0]
    metal_thickness: 5.0
    compound_thickness: 5.0
    max_atoms: 60
    registries: [[0.0, 0.0]]
routing: {dft: dft-queue, md: md, fit: fit}
"""


def run(env: dict[str, str], cwd: Path, *command: str, stdin: str | None = None):
    return run_command(env, cwd, *command, stdin=stdin, timeout=1200)


def test_submitted_campaign_runs_with_the_real_fireworks_tools(tmp_path):
    paths = write_embedded_config(tmp_path)
    worker = tmp_path / "my_fworker_dft.yaml"
    worker.write_text(json.dumps({"name": "dft worker", "category": "dft-queue", "query": "{}"}))
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(CAMPAIGN)
    env = {
        **subprocess_env(paths),
        "INTERFACIAL_USE_JOBFLOW_STORE": "true",  # submit, build and query use the workers' store
        "INTERFACIAL_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "MPLBACKEND": "Agg",
    }
    launchpad = str(paths["launchpad"])

    reset = run(
        env, tmp_path, str(BIN / "interfacial-lpad"), "-l", launchpad, "reset", stdin="fireworks\n"
    )
    assert reset.returncode == 0, reset.stderr

    submitted = run(
        env, tmp_path, str(BIN / "interfacial"), "submit", str(campaign), "--launchpad", launchpad
    )
    assert submitted.returncode == 0, submitted.stderr
    assert "2 workflow(s) of campaign 'fw-test'" in submitted.stdout

    listed = run(env, tmp_path, str(BIN / "lpad"), "-l", launchpad, "get_wflows", "-d", "less")
    assert listed.returncode == 0, listed.stderr
    assert "surface energies Li" in listed.stdout
    assert "interface energetics Li(1,1,0)|LiCl(1,0,0)" in listed.stdout

    (tmp_path / "worker").mkdir()
    worked = run(
        env,
        tmp_path / "worker",
        str(BIN / "interfacial-rlaunch"),
        "-l",
        launchpad,
        "-w",
        str(worker),
        "rapidfire",
    )
    assert worked.returncode == 0, worked.stderr[-3000:]

    fireworks = read_server_store(paths["store"])["fireworks"]
    states = {fw["name"]: fw["state"] for fw in fireworks}
    assert set(states.values()) == {"COMPLETED"}, states
    # Fireworks created at run time (slab chains, model relaxations) kept the campaign's routing.
    assert len(fireworks) > 8
    assert {fw["spec"].get("_category") for fw in fireworks} == {"dft-queue"}
    assert any(fw["name"].startswith("interface relax") for fw in fireworks)

    built = run(env, tmp_path, str(BIN / "interfacial"), "build")
    assert built.returncode == 0, built.stderr
    surfaces = run(env, tmp_path, str(BIN / "interfacial"), "query", "surfaces", "--json")
    assert surfaces.returncode == 0, surfaces.stderr
    li110 = [d for d in json.loads(surfaces.stdout) if d["material"] == "Li"]
    assert li110 and all(d["miller_index"] == [1, 1, 0] for d in li110)
    assert 0.2 < li110[0]["surface_energy"] < 0.5
    interfaces = run(env, tmp_path, str(BIN / "interfacial"), "query", "interfaces", "--json")
    assert interfaces.returncode == 0, interfaces.stderr
    (doc,) = json.loads(interfaces.stdout)
    assert doc["metal"] == "Li" and doc["compound"] == "LiCl"
    assert doc["W_adhesion"] == pytest.approx(
        doc["gamma_metal"] + doc["gamma_compound"] - doc["sigma"], abs=1e-9
    )


def test_fresh_install_submits_runs_and_queries_on_the_default_embedded_launchpad(tmp_path):
    """No environment variable, no configuration file: submit, rlaunch rapidfire, query."""
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERFACIAL_", "JOBFLOW_", "FW_", "MONGOMOCK_"))
    }
    env["HOME"] = str(tmp_path)
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "name: fresh\nsurfaces:\n  - {material: Li, millers: [[1, 1, 0]], min_thickness: 6.0}\n"
    )
    submitted = run(env, tmp_path, str(BIN / "interfacial"), "submit", str(campaign))
    assert submitted.returncode == 0, submitted.stderr
    assert "1 workflow(s) of campaign 'fresh'" in submitted.stdout
    assert (tmp_path / "interfacial-data" / "fireworks-launchpad.json").is_file()

    worked = run(env, tmp_path, str(BIN / "interfacial-rlaunch"), "rapidfire")
    assert worked.returncode == 0, worked.stderr[-3000:]
    assert "rebuilt 1 surface group(s)" in worked.stderr

    surfaces = run(env, tmp_path, str(BIN / "interfacial"), "query", "surfaces", "--json")
    assert surfaces.returncode == 0, surfaces.stderr
    docs = json.loads(surfaces.stdout)
    assert docs and {d["material"] for d in docs} == {"Li"}
    assert all(d["miller_index"] == [1, 1, 0] for d in docs)
    assert 0.2 < docs[0]["surface_energy"] < 0.5


def test_the_demo_campaign_submits_with_its_potentials_and_transport_as_one_chain(tmp_path):
    """The potentials stage submits: the demo's potential and the transport on it are one
    workflow (the transport waits for the fit), beside one per surface and interface entry.
    """
    import os

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERFACIAL_", "JOBFLOW_", "FW_", "MONGOMOCK_"))
    }
    env["HOME"] = str(tmp_path)
    demo = Path(__file__).resolve().parents[1] / "workflows" / "demo.yaml"
    submitted = run(env, tmp_path, str(BIN / "interfacial"), "submit", str(demo))
    assert submitted.returncode == 0, submitted.stderr
    assert "8 workflow(s) of campaign 'demo'" in submitted.stdout
    (chain,) = [line for line in submitted.stdout.splitlines() if "added chain" in line]
    assert "potentials Li2S-vac -> transport Li2S" in chain
    assert "category 'dft, fit, md'" in chain
