"""`interfacial status`: a submitted campaign's Fireworks per stage and entry, errors, results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interfacial.campaign.status import count_states, error_line, workflow_metadata

BIN = Path(sys.executable).parent


def test_states_are_counted_per_column():
    states = ["WAITING", "READY", "READY", "RUNNING", "RESERVED", "COMPLETED", "FIZZLED"]
    assert count_states([*states, "DEFUSED", "PAUSED"]) == {
        "waiting": 1, "ready": 2, "running": 2, "completed": 1, "fizzled": 1, "other": 2,
    }  # fmt: skip
    assert count_states([]) == dict.fromkeys(
        ("waiting", "ready", "running", "completed", "fizzled", "other"), 0
    )


def test_error_line_is_the_last_line_of_the_stored_traceback():
    traceback = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
        "interfacial.errors.InterfacialError: the LAMMPS executable lmp was not found\n\n"
    )
    launch = {"action": {"stored_data": {"_message": "runtime error during task",
                                         "_exception": {"_stacktrace": traceback}}}}  # fmt: skip
    assert error_line(launch) == (
        "interfacial.errors.InterfacialError: the LAMMPS executable lmp was not found"
    )
    assert error_line({"action": {"stored_data": {"_message": "walltime"}}}) == "walltime"
    assert error_line({"action": None}).startswith("no error recorded")
    assert error_line(None).startswith("no error recorded")


def test_submitted_workflows_record_campaign_stage_entry_and_result_keys(monkeypatch, tmp_path):
    from interfacial.campaign import load_campaign
    from interfacial.campaign.fireworks import add_flows, submission_flows

    class Recording:
        def __init__(self) -> None:
            self.workflows: list = []

        def add_wf(self, workflow):
            self.workflows.append(workflow)

    path = tmp_path / "c.yaml"
    path.write_text(
        "name: meta\nsurfaces:\n  - {material: Li, millers: [[1, 1, 0]], min_thickness: 6.0}\n"
        "interfaces:\n  - {metal: Li, compound: LiCl, metal_miller: [1, 1, 0],"
        " compound_miller: [1, 0, 0], max_atoms: 60, registries: [[0.0, 0.0]]}\n"
    )
    campaign = load_campaign(path)
    flows = submission_flows(campaign)
    lpad = Recording()
    added = add_flows(campaign, flows, lpad)
    assert [a["entry"] for a in added] == ["Li", "Li(1,1,0)|LiCl(1,0,0)"]
    surfaces, interfaces = (w.metadata for w in lpad.workflows)
    # The surface entry's results are found by the uuid of its own bulk relaxation.
    bulk = next(j for j, _ in flows[0][1].iterflow() if j.name == "bulk relax Li")
    assert surfaces == {
        "campaign": "meta", "stage": "surfaces", "entry": "Li",
        "results": {"bulk_uuid": bulk.uuid, "material": "Li"},
    }  # fmt: skip
    metal_bulk = next(j for j, _ in flows[1][1].iterflow() if j.name == "bulk relax Li")
    assert interfaces["results"] == {
        "metal_bulk_uuid": metal_bulk.uuid,
        "interface_key": "Li(1,1,0)|LiCl(1,0,0)",
    }
    assert metal_bulk.uuid != bulk.uuid
    assert workflow_metadata("meta", "surfaces", flows[0][1]) == surfaces


@pytest.mark.parametrize("vacancies", [False, True])
def test_a_chain_records_each_part_and_its_status_adds_up_their_results(
    tmp_path, monkeypatch, vacancies
):
    """Interfaces -> potentials -> transport in one workflow: each part keeps its own keys.

    The potential and the transport are built at run time (on the interface's lowest model),
    so no job of the submitted chain names their systems: the chain's parts do, named as the
    transport maker names its documents (``-vac`` when it seeds vacancies).
    """
    from interfacial.campaign import load_campaign
    from interfacial.campaign.fireworks import submit
    from interfacial.campaign.status import _RESULTS, stored_results
    from test_campaign_chain import CHAIN, RecordingLaunchPad

    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "db"))
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(tmp_path / "none.yaml"))
    path = tmp_path / "chain.yaml"
    text = CHAIN.replace("production_ps: 1.0}", "production_ps: 1.0, vacancy_count: 1}")
    assert text != CHAIN
    path.write_text(text if vacancies else CHAIN)
    lpad = RecordingLaunchPad()
    submit(load_campaign(path), lpad)
    (workflow,) = lpad.workflows
    assert workflow.metadata["stage"] == "chain"
    parts = workflow.metadata["results"]["parts"]
    assert [p["stage"] for p in parts] == ["interfaces", "potentials", "transport"]
    metal_bulk = next(fw for fw in workflow.fws if fw.name == "bulk relax Li").tasks[0]["job"]
    assert parts[0]["results"] == {
        "metal_bulk_uuid": metal_bulk.uuid,
        "interface_key": "Li(1,0,0)|LiCl(1,0,0)",
    }
    assert parts[1]["results"] == {"system": "Li(100)|LiCl(100)-vac"}
    transport = "Li(100)|LiCl(100)-vac" if vacancies else "Li(100)|LiCl(100)"
    assert parts[2]["results"] == {"system": transport}

    # The status of the chain is the sum of its parts', each looked up by its own keys.
    asked = []

    def counting(what: str, n: int):
        def count(keys, settings):
            asked.append((what, keys))
            return {what: n, "documents": n}

        return count

    for stage, what, n in (("interfaces", "models", 3), ("potentials", "potential", 1),
                           ("transport", "diffusion", 2)):  # fmt: skip
        key = _RESULTS[stage][0]
        monkeypatch.setitem(_RESULTS, stage, (key, counting(what, n)))
    found = stored_results("chain", workflow.metadata["results"], settings=None)
    assert found == {"models": 3, "potential": 1, "diffusion": 2, "documents": 6}
    assert asked == [
        ("models", parts[0]["results"]),
        ("potential", parts[1]["results"]),
        ("diffusion", parts[2]["results"]),
    ]


@pytest.mark.slow
def test_status_before_and_after_workers_a_fizzle_and_its_rerun(tmp_path):
    """submit -> status -> dft worker -> md worker that fails -> status -> rerun -> md worker."""
    from fw_helpers import subprocess_env, write_embedded_config
    from lammps_wrapper import lammps_wrapper
    from mtp_data import tiny_potential, toy_cell

    mtp = tiny_potential(tmp_path / "fit").write(tmp_path / "toy.mtp")
    cell = tmp_path / "toy.json"
    cell.write_text(json.dumps(toy_cell().as_dict()))
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(
        "name: status-test\n"
        "surfaces:\n  - {material: Li, millers: [[1, 1, 0]], min_thickness: 6.0}\n"
        "transport:\n"
        f"  - {{structure: {cell}, potential: {mtp}, species: [S, Li], md_engine: mlip,\n"
        "      label: toy, ramp_ps: 0.02, equilibration_ps: 0.02, production_ps: 0.2,\n"
        "      dump_fs: 5}\n"
        "md_temperatures: [400, 800]\n"
        "routing: {dft: dft-queue, md: md-queue}\n"
    )
    paths = write_embedded_config(tmp_path / "fw")
    launchpad = str(paths["launchpad"])
    workers = {}
    for category in ("dft-queue", "md-queue"):
        workers[category] = tmp_path / f"{category}.yaml"
        worker = {"name": category, "category": category, "query": "{}"}
        workers[category].write_text(json.dumps(worker))
    (tmp_path / "bin").mkdir()
    calls = tmp_path / "lmp-calls.txt"
    broken = tmp_path / "broken.yaml"
    broken.write_text("lammps_cmd: /nonexistent/lmp-mlip\nmpi_cmd: ''\n")
    fixed = tmp_path / "fixed.yaml"
    wrapper = lammps_wrapper(tmp_path / "bin" / "lmp-mlip", calls)
    fixed.write_text(f"lammps_cmd: {wrapper}\nmpi_cmd: ''\nmd_dir: {tmp_path / 'md'}\n")
    env = {
        **subprocess_env(paths),
        "INTERFACIAL_USE_JOBFLOW_STORE": "true",
        "INTERFACIAL_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "MPLBACKEND": "Agg",
    }
    for name in ("INTERFACIAL_LAMMPS_CMD", "INTERFACIAL_MPI_CMD", "INTERFACIAL_MD_DIR"):
        env.pop(name, None)

    def run(*command: str, config: Path | None = None, stdin: str | None = None):
        done = subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, cwd=tmp_path,
            env={**env, "INTERFACIAL_CONFIG_FILE": str(config)} if config else env,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def status(*options: str) -> dict:
        shown = run(str(BIN / "interfacial"), "status", "status-test", "--launchpad", launchpad,
                    "--json", *options)  # fmt: skip
        data = json.loads(shown.stdout)
        assert data["campaign"] == "status-test"
        return {e["stage"]: e for e in data["entries"]} | {"rerun": data["rerun"]}

    def rlaunch(category: str, config: Path | None = None) -> None:
        run(str(BIN / "interfacial-rlaunch"), "-l", launchpad, "-w", str(workers[category]),
            "rapidfire", config=config)  # fmt: skip

    run(str(BIN / "interfacial-lpad"), "-l", launchpad, "reset", stdin="fireworks\n")
    run(str(BIN / "interfacial"), "submit", str(campaign), "--launchpad", launchpad)

    # Before any worker: the first job of each workflow ready, the rest waiting, nothing stored.
    before = status()
    assert before["surfaces"]["entry"] == "Li" and before["transport"]["entry"] == "toy"
    assert before["surfaces"]["counts"] | {"waiting": 0} == {
        "waiting": 0, "ready": 1, "running": 0, "completed": 0, "fizzled": 0, "other": 0,
    }  # fmt: skip
    assert before["surfaces"]["counts"]["waiting"] == 2  # slabs and their fan-out wait for bulk
    assert before["transport"]["counts"]["ready"] == 2  # one MD per temperature
    assert before["transport"]["counts"]["waiting"] == 1  # the Arrhenius summary
    assert before["surfaces"]["results"] == {"surfaces": 0}
    assert before["transport"]["results"] == {"diffusion": 0, "arrhenius": 0}

    # A dft worker in its own process: the surfaces entry completes and its results are stored.
    rlaunch("dft-queue")
    run(str(BIN / "interfacial"), "build")  # the workers' own jobflow.yaml: derive here
    after_dft = status()
    surfaces = after_dft["surfaces"]
    assert surfaces["total"] > 3  # the slab fan-out added Fireworks at run time
    assert surfaces["counts"]["completed"] == surfaces["total"]
    assert surfaces["results"]["surfaces"] >= 1
    assert after_dft["transport"]["counts"]["ready"] == 2  # untouched by the dft worker

    # An md worker whose LAMMPS does not exist: both MD Fireworks fizzle, with the job's error.
    rlaunch("md-queue", broken)
    fizzled = status()["transport"]
    assert fizzled["counts"]["fizzled"] == 2 and fizzled["counts"]["waiting"] == 1
    assert len(fizzled["fizzled"]) == 2
    for fw in fizzled["fizzled"]:
        assert fw["error"].startswith("interfacial.errors.InterfacialError: the LAMMPS executable")
        assert "/nonexistent/lmp-mlip" in fw["error"] and "lammps_cmd" in fw["error"]
    table = run(str(BIN / "interfacial"), "status", "status-test", "--launchpad", launchpad)
    assert "fizzled fw" in table.stdout and "/nonexistent/lmp-mlip" in table.stdout

    # --rerun-fizzled: FireWorks' rerun puts both back to READY.
    rerun = status("--rerun-fizzled")
    assert sorted(r["fw_id"] for r in rerun["rerun"]) == sorted(
        fw["fw_id"] for fw in fizzled["fizzled"]
    )
    assert rerun["transport"]["counts"]["ready"] == 2
    assert rerun["transport"]["counts"]["fizzled"] == 0 and rerun["transport"]["fizzled"] == []

    # With the worker's settings fixed, the reruns complete and every stage is done.
    rlaunch("md-queue", fixed)
    run(str(BIN / "interfacial"), "build")
    done = status()
    for stage in ("surfaces", "transport"):
        assert done[stage]["counts"]["completed"] == done[stage]["total"], done[stage]
    assert done["transport"]["results"]["diffusion"] == 2  # one per temperature
    assert done["transport"]["results"]["arrhenius"] >= 1  # one per group and component
    assert calls.read_text().count("-in ") >= 4
