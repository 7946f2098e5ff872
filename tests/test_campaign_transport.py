"""The transport stage of campaign files: validation, routing to md workers, a local run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interfacial.campaign import load_campaign, submit
from interfacial.errors import InterfacialError
from mtp_data import tiny_potential, toy_cell


class RecordingLaunchPad:
    def __init__(self) -> None:
        self.workflows: list = []

    def add_wf(self, workflow) -> None:
        self.workflows.append(workflow)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A tiny motep potential as a .mtp file and a 64-atom S/Li cell as a structure file."""
    tmp = tmp_path_factory.mktemp("campaign_transport")
    potential = tiny_potential(tmp)
    mtp = potential.write(tmp / "toy.mtp")
    cell = tmp / "toy.json"
    cell.write_text(json.dumps(toy_cell().as_dict()))
    return {"mtp": mtp, "cell": cell, "tmp": tmp}


def campaign_file(files, engine: str = "motep-external", potential: str | None = None) -> Path:
    path = files["tmp"] / f"transport_{engine}.yaml"
    path.write_text(
        "name: toy-transport\n"
        "transport:\n"
        f"  - structure: {files['cell']}\n"
        f"    potential: {potential or files['mtp']}\n"
        "    species: [S, Li]\n"
        f"    md_engine: {engine}\n"
        "    label: toy\n"
        "    ramp_ps: 0.05\n"
        "    equilibration_ps: 0.05\n"
        "    production_ps: 0.3\n"
        "    dump_fs: 5\n"
        "md_temperatures: [400, 800]\n"
        "routing: {md: md-queue}\n"
    )
    return path


def test_transport_flows_go_to_md_workers_with_the_workers_lammps(files, monkeypatch):
    monkeypatch.setenv("INTERFACIAL_LAMMPS_CMD", "submitter_lmp")
    campaign = load_campaign(campaign_file(files, "mlip"))
    lpad = RecordingLaunchPad()
    (added,) = submit(campaign, lpad)
    assert added["stage"] == "transport" and added["category"] == "md-queue"
    (workflow,) = lpad.workflows
    assert len(workflow.fws) == 3  # two temperatures and the Arrhenius summary
    assert {fw.spec["_category"] for fw in workflow.fws} == {"md-queue"}
    text = json.dumps(workflow.to_dict(), default=str)
    assert "${INTERFACIAL_LAMMPS_CMD}" in text  # expanded on the worker
    assert "submitter_lmp" not in text
    assert '"work_dir": null' in text  # each worker's own INTERFACIAL_MD_DIR


def test_missing_potential_refuses_the_whole_campaign(files):
    campaign = load_campaign(campaign_file(files, potential="store:nothing-fitted"))
    lpad = RecordingLaunchPad()
    with pytest.raises(InterfacialError, match=r"transport\[0\].*no fitted potential"):
        submit(campaign, lpad)
    assert lpad.workflows == []


def test_bad_transport_fields_name_the_line(files, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\ntransport:\n  - structure: Li2S\n    potential: x.mtp\n    md_engine: gromacs\n"
    )
    with pytest.raises(InterfacialError, match=r"bad.yaml:5: transport.0.md_engine"):
        load_campaign(path)


def test_local_mlip_without_lammps_is_refused_before_any_job(files, monkeypatch, tmp_path):
    monkeypatch.setenv("INTERFACIAL_LAMMPS_CMD", "/nonexistent/lmp_mlip")
    campaign = load_campaign(campaign_file(files, "mlip"))
    with pytest.raises(InterfacialError, match="motep-external"):
        campaign.flows()


def test_run_executes_the_transport_stage_here(files, tmp_path):
    env = {**os.environ, "INTERFACIAL_DATA_DIR": str(tmp_path / "db"), "MPLBACKEND": "Agg"}
    cli = [str(Path(sys.executable).parent / "interfacial")]
    result = subprocess.run(
        [*cli, "run", str(campaign_file(files))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Tracer diffusivities (toy-transport)" in result.stdout
    query = subprocess.run(
        [*cli, "query", "diffusion", "--system", "toy", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    data = json.loads(query.stdout)
    assert sorted(d["temperature"] for d in data["diffusion"]) == [400.0, 800.0]
    assert {f["group"] for f in data["arrhenius"]} >= {"Li", "S"}
    assert (tmp_path / "db" / "md").is_dir()  # run directories in the database directory


def test_shipped_transport_campaign_validates_and_waits_for_its_inputs():
    path = Path(__file__).parents[1] / "workflows" / "li_transport.yaml"
    campaign = load_campaign(path)
    assert len(campaign.transport) == 3
    assert all(t.md_engine == "mlip" and t.vacancy_fraction == 0.011 for t in campaign.transport)
    assert campaign.md_temperatures == [300 + 100 * i for i in range(8)]
    with pytest.raises(InterfacialError, match=r"transport\[0\].*Li\(110\)\|Li2S\(110\)"):
        campaign.flows()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["interface:Li(111)|Li2S(110)"], "no Li(111)|Li2S(110) interface in the database"),
        (["interface:Li111|Li2S"], "is not interface:METAL(hkl)|COMPOUND(hkl)"),
        (["Li2S", "--time-step", "0"], "--time-step"),
        (["Li2S", "--vacancy-fraction", "0.9"], "fraction"),
    ],
)
def test_learn_potential_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    env = {**os.environ, "INTERFACIAL_DATA_DIR": str(tmp_path / "db")}
    cli = [str(Path(sys.executable).parent / "interfacial")]
    result = subprocess.run(
        [*cli, "learn-potential", *args], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error:") and message in lines[-1]
    assert not (tmp_path / "db" / "runs").exists()


@pytest.mark.slow
def test_submitted_transport_runs_on_an_md_worker(files, tmp_path):
    """submit -> interfacial-rlaunch (category md) -> build -> query, each a separate process."""
    from fw_helpers import read_server_store, subprocess_env, write_embedded_config

    paths = write_embedded_config(tmp_path)
    worker = tmp_path / "my_fworker_md.yaml"
    worker.write_text(json.dumps({"name": "md worker", "category": "md-queue", "query": "{}"}))
    md_dir = tmp_path / "scratch" / "md"
    env = {
        **subprocess_env(paths),
        "INTERFACIAL_USE_JOBFLOW_STORE": "true",
        "INTERFACIAL_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "INTERFACIAL_MD_DIR": str(md_dir),  # the worker's scratch
        "MPLBACKEND": "Agg",
    }
    bin_dir = Path(sys.executable).parent
    launchpad = str(paths["launchpad"])

    def run(*command: str, cwd: Path = tmp_path, stdin: str | None = None):
        return subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, env=env, cwd=cwd,
            timeout=600, check=False,
        )  # fmt: skip

    reset = run(str(bin_dir / "interfacial-lpad"), "-l", launchpad, "reset", stdin="fireworks\n")
    assert reset.returncode == 0, reset.stderr
    submitted = run(
        str(bin_dir / "interfacial"), "submit", str(campaign_file(files)), "--launchpad", launchpad
    )
    assert submitted.returncode == 0, submitted.stderr
    (tmp_path / "worker").mkdir()
    worked = run(
        str(bin_dir / "interfacial-rlaunch"), "-l", launchpad, "-w", str(worker), "rapidfire",
        cwd=tmp_path / "worker",
    )  # fmt: skip
    assert worked.returncode == 0, worked.stderr[-3000:]
    fireworks = read_server_store(paths["store"])["fireworks"]
    assert {fw["state"] for fw in fireworks} == {"COMPLETED"}
    assert {fw["spec"]["_category"] for fw in fireworks} == {"md-queue"}
    runs = sorted(p.name for p in md_dir.iterdir())  # one run directory per temperature
    assert len(runs) == 2 and all(name.startswith("toy-") for name in runs)

    built = run(str(bin_dir / "interfacial"), "build")
    assert built.returncode == 0, built.stderr
    assert "2 diffusion document(s)" in built.stdout
    query = run(str(bin_dir / "interfacial"), "query", "diffusion", "--system", "toy", "--json")
    data = json.loads(query.stdout)
    assert sorted(d["temperature"] for d in data["diffusion"]) == [400.0, 800.0]
    assert all(d["md"]["work_dir"].startswith(str(md_dir)) for d in data["diffusion"])
    assert data["arrhenius"]


@pytest.mark.slow
def test_the_demo_plan_cut_to_seconds_learns_a_potential_then_runs_transport_on_it(tmp_path):
    """The demo's stages with the sizes cut: the transport entry's store:Li2S-vac is the
    potential that the same campaign learns, built once it exists; with two workers the
    potential and its transport run in a second process beside the Li surfaces.
    """
    from interfacial.campaign import demo_file, run
    from interfacial.cli.render import campaign_tables
    from interfacial.settings import InterfacialSettings

    demo = load_campaign(demo_file())
    demo.surfaces, demo.interfaces = demo.surfaces[:1], []  # Li; interfaces: their own tests
    (potential,) = demo.potentials
    potential.reference = potential.reference.model_copy(
        update={
            "ramp_steps": 10,
            "production_steps": 80,
            "snapshot_interval": 2,
            "validation_temperatures": [400.0],
            "validation_steps": 20,
            "validation_ramp_steps": 5,
        }
    )
    # Fitted well enough to hold 47 atoms together for 0.14 ps at 300-400 K (level 4 with 10
    # iterations lost atoms at 400 K).
    potential.fit = potential.fit.model_copy(
        update={"level": 6, "engine_options": {"max_iter": 60}}
    )
    potential.max_rounds, potential.al_steps, potential.al_interval = 0, 20, 10
    (transport,) = demo.transport
    demo.transport = [
        transport.model_copy(
            update={
                # A potential fitted in seconds holds its atoms only briefly and when cool.
                "time_step": 0.5,
                "ramp_ps": 0.02,
                "equilibration_ps": 0.02,
                "production_ps": 0.1,
                "dump_fs": 2.5,
                "supercell_atoms": 48,
                # Learning on the transport cell has its own tests (test_transport_learning):
                # here production grades against the potential this campaign learnt.
                "learn_rounds": 0,
            }
        )
    ]
    demo.md_temperatures = [300.0, 400.0]
    lines: list[str] = []
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    result = run(demo, settings, show_progress=False, say=lines.append, workers=2)

    assert lines[0].startswith("2 independent parts side by side")
    assert "[1/3] surfaces: Li" in lines
    # the second part's lines come from its own process, prefixed with its name
    assert "(potentials Li2S-vac +1) [2/3] potentials: Li2S-vac" in lines
    assert "(potentials Li2S-vac +1) [3/3] transport: Li2S" in lines
    assert {d["formula"] for d in result.surfaces} == {"Li"}
    (learned,) = result.potentials
    assert learned["final_fit"]["system"] == "Li2S-vac"
    assert sorted(d["temperature"] for d in result.diffusion) == [300.0, 400.0]
    assert {d["system"] for d in result.diffusion} == {"Li2S-vac"}
    # The frames were graded against the training set of the potential this campaign learnt.
    assert all(d["extrapolation"]["n_training"] == 40 for d in result.diffusion)
    sha = learned["final_fit"]["potential_sha256"]
    assert {d["potential_sha256"] for d in result.diffusion} == {sha}
    assert {f["group"] for f in result.arrhenius} >= {"Li", "S"}
    titles = {k: k for k in ("surfaces", "interfaces", "diffusion", "arrhenius")}
    campaign_tables(result, titles)  # renders without a store
