"""The whole chain in one submission, through real FireWorks workers of three categories.

``interfacial submit`` adds a campaign with an interface, a potential learnt on that interface's
lowest relaxed model and transport MD on that model with that potential, with nothing in the
database beforehand. Workers of the ``dft``, ``fit`` and ``md`` categories
(``interfacial-rlaunch -w <fworker> rapidfire``, each a separate process) take turns until
nothing is left: the embedded LaunchPad is one file, locked by one process at a time (see
``test_screening_fireworks.py``). Then ``interfacial build`` and ``interfacial query
diffusion``.

Kept tiny: a ~40-atom Li(100)||LiCl(100) model, 240 steps of CHGNet reference MD, a level-2
motep fit, one active-learning round that labels (its threshold is low on purpose), transport
at 300 and 400 K for 2 ps with motep forces in LAMMPS (``motep-external``).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from fw_helpers import PENDING, campaign_env, read_server_store, run, write_embedded_config

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ROUTING = {"dft": "dft-q", "fit": "fit-q", "md": "md-q"}
CAMPAIGN = """\
name: chain-fw
calculators: {surfaces: CHGNet, interfaces: CHGNet}
interfaces:
  - metal: Li
    compound: LiCl
    metal_miller: [1, 0, 0]
    compound_miller: [1, 0, 0]
    metal_thickness: 4.0
    compound_thickness: 4.0
    max_atoms: 40
    registries: [[0.0, 0.0]]
    gaps: [2.0]
potentials:
  - structure: "interface:Li(100)|LiCl(100)"
    calculator: CHGNet
    reference:
      temperature: 800
      time_step: 2
      ramp_steps: 20
      production_steps: 200
      snapshot_interval: 4
      validation_temperatures: [400]
      validation_steps: 40
      validation_ramp_steps: 10
      vacancy_element: Li
      vacancy_count: 1
    fit: {engine: motep, level: 2, engine_options: {max_iter: 50}}
    max_rounds: 1
    al_temperature: 1200
    al_steps: 40
    al_interval: 4
    al_time_step: 1
    grade_threshold: 1.01
    max_selected: 2
transport:
  - structure: "interface:Li(100)|LiCl(100)"
    potential: "store:Li(100)|LiCl(100)-vac"
    md_engine: motep-external
    time_step: 1.0
    ramp_ps: 0.2
    equilibration_ps: 0.2
    production_ps: 2.0
    dump_fs: 20
    segment_ps: 2.0
md_temperatures: [300, 400]
routing: {dft: dft-q, fit: fit-q, md: md-q}
"""
TIMEOUT = 900  # seconds per process: a hung one fails the test instead of the whole run


def expected_category(fw: dict) -> str | None:
    """The category a Firework's kind needs (None: jobflow's store_inputs, its parent's)."""
    from interfacial.routing import ROLE_KIND
    from interfacial.schemas.roles import Role

    job = fw["spec"]["_tasks"][0]["job"]
    role = ((job.get("metadata") or {}).get("interfacial") or {}).get("role")
    if role is not None and Role(role) in ROLE_KIND:
        return ROUTING[ROLE_KIND[Role(role)]]
    name = fw["name"]
    if name == "store_inputs":
        return None
    if name.startswith("transport md"):  # builds the ladder once the model exists
        return ROUTING["md"]
    if name.startswith("add labels"):  # part of a refit
        return ROUTING["fit"]
    return ROUTING["dft"]  # surfaces, interfaces, the model picker, the potential's builder


def assert_campaign_completed(status: dict, n_fireworks: int) -> None:
    """Every Firework of every entry completed, and each part's results stored.

    The one entry is the chain (interfaces -> potentials -> transport): its results add up the
    interface models of the interface, the potential and the diffusion documents (two
    temperatures) with their Arrhenius fit.
    """
    assert status["campaign"] == "chain-fw"
    (entry,) = status["entries"]
    assert entry["stage"] == "chain"
    assert entry["counts"] == {
        "waiting": 0, "ready": 0, "running": 0, "completed": n_fireworks, "fizzled": 0, "other": 0,
    }  # fmt: skip
    assert entry["fizzled"] == []
    results = entry["results"]
    assert results["interface models"] >= 1
    assert results["potential"] == 1
    assert results["diffusion"] == 2  # 300 and 400 K
    assert results["arrhenius"] >= 1  # one per group and component


@dataclass
class Chain:
    """A submitted chain campaign on an embedded LaunchPad, and its three workers."""

    tmp_path: Path
    paths: dict[str, Path]
    env: dict[str, str]
    campaign: Path
    launchpad: str
    #: kind -> (fworker file, launch directory)
    workers: dict[str, tuple[Path, Path]]


def submit_chain(tmp_path: Path, text: str = CAMPAIGN) -> Chain:
    """Reset an embedded LaunchPad, submit ``text`` with `interfacial submit`, write workers."""
    paths = write_embedded_config(tmp_path)
    env = campaign_env(paths, tmp_path)
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(text)
    launchpad = str(paths["launchpad"])
    reset = run(
        env, tmp_path, str(BIN / "interfacial-lpad"), "-l", launchpad, "reset", stdin="fireworks\n"
    )
    assert reset.returncode == 0, reset.stderr
    assert not paths["data"].exists()  # nothing in the database beforehand

    submitted = run(
        env, tmp_path, str(BIN / "interfacial"), "submit", str(campaign), "--launchpad", launchpad
    )
    assert submitted.returncode == 0, submitted.stderr
    assert "1 workflow(s) of campaign 'chain-fw'" in submitted.stdout
    assert not paths["data"].exists()  # submitting read and wrote nothing there

    workers = {}
    for kind, category in ROUTING.items():
        directory = tmp_path / f"worker_{kind}"
        directory.mkdir()
        fworker = tmp_path / f"fworker_{kind}.yaml"
        fworker.write_text(
            json.dumps({"name": f"{kind} worker", "category": category, "query": "{}"})
        )
        workers[kind] = (fworker, directory)
    return Chain(tmp_path, paths, env, campaign, launchpad, workers)


def rlaunch(chain: Chain, kind: str) -> list[str]:
    """The command line of one turn of the ``kind`` worker: rapidfire until nothing is ready."""
    fworker, _ = chain.workers[kind]
    return [
        "-l", chain.launchpad, "-w", str(fworker), "rapidfire", "--max_loops", "1", "--sleep", "1",
    ]  # fmt: skip


def run_to_the_end(chain: Chain) -> int:
    """Give the workers turns until no Firework is pending; return the number of turns.

    Each worker runs what its category has ready, then hands over; a round of turns that
    launches nothing while work is pending would mean a Firework nobody can run.
    """
    turns = 0
    while True:
        fireworks = read_server_store(chain.paths["store"])["fireworks"]
        if not any(fw["state"] in PENDING for fw in fireworks):
            return turns
        launched = 0
        for kind, (_, directory) in chain.workers.items():
            worked = run(
                chain.env, directory, str(BIN / "interfacial-rlaunch"), *rlaunch(chain, kind)
            )
            assert worked.returncode == 0, f"{kind}: {worked.stderr[-3000:]}"
            launched += worked.stdout.count("RUNNING fw_id") + worked.stderr.count("RUNNING fw_id")
            turns += 1
        states = Counter(fw["state"] for fw in read_server_store(chain.paths["store"])["fireworks"])
        assert launched or not (set(states) & PENDING), f"stuck: {states}"
        assert states.get("FIZZLED", 0) == 0, states


def campaign_status(chain: Chain) -> dict:
    """`interfacial status CAMPAIGN --launchpad ... --json`, run as a separate process."""
    state = run(
        chain.env, chain.tmp_path, str(BIN / "interfacial"), "status", str(chain.campaign),
        "--launchpad", chain.launchpad, "--json",
    )  # fmt: skip
    assert state.returncode == 0, state.stderr
    return json.loads(state.stdout)


def test_one_submission_runs_interface_potential_and_transport_on_three_workers(tmp_path):
    started = time.perf_counter()
    chain = submit_chain(tmp_path)
    paths, env = chain.paths, chain.env
    turns = run_to_the_end(chain)

    store = read_server_store(paths["store"])
    fireworks = store["fireworks"]
    assert {fw["state"] for fw in fireworks} == {"COMPLETED"}
    for fw in fireworks:  # every kind on its queue, jobs created at run time included
        expected = expected_category(fw)
        category = fw["spec"].get("_category")
        assert category == expected or (expected is None and category in ROUTING.values()), (
            fw["name"],
            category,
        )
    names = [fw["name"] for fw in fireworks]
    labels = [n for n in names if n.startswith("label 0 step")]
    fits = [n for n in names if n.startswith("mtp fit")]
    assert labels and len(fits) == 2, names  # one round labelled and refitted
    assert any(n.startswith("CHGNet reference MD") for n in names)
    # Each category's worker ran its Fireworks, and every Firework ran once.
    ran_by = Counter(launch["fworker"]["name"] for launch in store["launches"])
    assert set(ran_by) == {"dft worker", "fit worker", "md worker"}, ran_by
    assert Counter(launch["fw_id"] for launch in store["launches"]) == Counter(
        {fw["fw_id"]: 1 for fw in fireworks}
    )

    built = run(env, tmp_path, str(BIN / "interfacial"), "build")
    assert built.returncode == 0, built.stderr
    queried = run(env, tmp_path, str(BIN / "interfacial"), "query", "diffusion", "--json")
    assert queried.returncode == 0, queried.stderr
    docs = json.loads(queried.stdout)["diffusion"]
    assert {d["system"] for d in docs} == {"Li(100)|LiCl(100)"}
    assert sorted({d["temperature"] for d in docs}) == [300.0, 400.0]
    # The transport ran with the potential the active-learning round refitted (read from the
    # workers' JobStore: the MontyStore files of their jobflow.yaml).
    from jobflow import JobStore

    job_store = JobStore.from_dict_spec(json.loads(paths["jobflow"].read_text())["JOB_STORE"])
    job_store.connect()
    finals = [
        d["output"]
        for d in job_store.query({"metadata.interfacial.role": "active_learning"})
        if isinstance(d.get("output"), dict) and d["output"].get("final_fit")
    ]
    job_store.close()
    assert finals
    rounds = finals[-1]["rounds"]
    assert len(rounds) == 2 and rounds[0]["n_selected"] >= 1  # round 0 labelled, then a refit
    assert {d["potential_sha256"] for d in docs} == {finals[-1]["final_fit"]["potential_sha256"]}
    assert rounds[1]["potential_sha256"] != rounds[0]["potential_sha256"]
    # `interfacial status` (a real process, like the workers) sees every stage completed, and
    # the chain's parts' results in the database: interface models, the potential, D*.
    assert_campaign_completed(campaign_status(chain), len(fireworks))
    print(
        f"full chain: {len(fireworks)} Fireworks ({dict(ran_by)}) in {turns} worker turns, "
        f"{time.perf_counter() - started:.0f} s"
    )
