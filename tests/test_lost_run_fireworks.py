"""Workers killed during the potentials stage: lost-run detection, rerun, one result per job.

The tiny chain of ``test_full_chain_fireworks.py`` (interface -> potential -> transport, one
submission, nothing in the database before) is run by real ``interfacial-rlaunch`` processes
on the embedded LaunchPad, two of which are killed with SIGKILL while a potentials-stage
Firework runs: the dft worker in the reference MD (after it finished the whole interface part
and the potential's first job in the same session), then the fit worker in the first MTP fit.

``interfacial-rlaunch`` writes the LaunchPad file at each state change of a run
(:func:`interfacial.fireworks_embedded.write_through`), so a kill leaves what it leaves on
MongoDB: what the worker finished COMPLETED, the Firework it ran RUNNING. FireWorks'
``detect_lostruns`` calls a RUNNING launch lost when its last update (checkout or ping) is
older than ``--time`` seconds: the default (4 h) leaves a fresh one alone, ``--time 0 --rerun``
marks it FIZZLED and puts the Firework back to READY. The kernel releases the embedded
LaunchPad's lock with the dead process, so these commands are not refused.

Then the workers run to the end, ``interfacial build`` derives the results and ``interfacial
status`` reports the campaign completed. One result per job: the JobStore holds exactly one
document per (uuid, index) of the final workflow's Fireworks and none besides (no duplicated
reference MD, fit or diffusion documents), one potential and one D* per temperature; the
Fireworks finished before a kill ran once.
"""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from fw_helpers import PENDING, read_server_store, run
from test_full_chain_fireworks import (
    BIN,
    TIMEOUT,
    Chain,
    assert_campaign_completed,
    campaign_status,
    rlaunch,
    run_to_the_end,
    submit_chain,
)

pytestmark = pytest.mark.slow

#: The potential's first job: built once the interface's lowest model exists.
LEARN = "learn potential Li(100)|LiCl(100)-vac on its structure"


def fireworks(chain: Chain) -> list[dict]:
    return read_server_store(chain.paths["store"])["fireworks"]


def states(chain: Chain) -> dict[str, str]:
    return {fw["name"]: fw["state"] for fw in fireworks(chain)}


def kill_when(process: subprocess.Popen, log: Path, ready) -> None:
    """SIGKILL ``process`` as soon as ``ready()`` holds (it must, before the process ends)."""
    deadline = time.monotonic() + TIMEOUT
    while not ready():
        assert process.poll() is None, f"the worker ended first: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "the awaited Firework never ran"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL


def start(chain: Chain, kind: str, command: list[str], name: str) -> tuple[subprocess.Popen, Path]:
    """Start one turn of the ``kind`` worker in the background, its output in ``name``.log."""
    log = chain.tmp_path / f"{name}.log"
    _, directory = chain.workers[kind]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, *rlaunch(chain, kind)],
            cwd=directory,
            env=chain.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def assert_lock_released(chain: Chain) -> None:
    """Nobody holds the embedded LaunchPad's lock any more (taken and dropped here)."""
    lock = chain.paths["store"].with_name(chain.paths["store"].name + ".lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if still held
        fcntl.flock(handle, fcntl.LOCK_UN)


def detect_lostruns(chain: Chain, *options: str) -> str:
    """FireWorks' ``lpad detect_lostruns`` through ``interfacial-lpad`` (it takes the lock)."""
    found = run(
        chain.env, chain.tmp_path, str(BIN / "interfacial-lpad"), "-l", chain.launchpad,
        "detect_lostruns", *options,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr[-3000:]
    return found.stdout + found.stderr


def kill_and_rerun(chain: Chain, kind: str, prefix: str) -> dict:
    """Kill the ``kind`` worker while a Firework named ``prefix...`` runs; detect, rerun it.

    Returns the lost Firework as the file held it after the kill.
    """

    def running() -> list[dict]:
        return [
            fw
            for fw in fireworks(chain)
            if fw["state"] == "RUNNING" and fw["name"].startswith(prefix)
        ]

    worker, log = start(chain, kind, [str(BIN / "interfacial-rlaunch")], f"killed-{kind}")
    kill_when(worker, log, lambda: bool(running()))
    assert_lock_released(chain)
    (lost,) = [fw for fw in fireworks(chain) if fw["state"] == "RUNNING"]
    assert lost["name"].startswith(prefix)
    # Updated when it was checked out: not lost for the default 4 h, lost for --time 0.
    assert "Lost FireWorks: 0" in detect_lostruns(chain)
    assert states(chain)[lost["name"]] == "RUNNING"
    assert "Lost FireWorks: 1" in detect_lostruns(chain, "--time", "0", "--rerun")
    assert states(chain)[lost["name"]] == "READY"
    return lost


def test_workers_killed_in_the_potentials_stage_leave_one_result_per_job(tmp_path):
    clock = time.perf_counter()
    chain = submit_chain(tmp_path)
    _, dft_dir = chain.workers["dft"]

    # 1. The dft worker runs the interface part and the potential's first job, then is killed
    # in the reference MD: what it finished is kept.
    lost = [kill_and_rerun(chain, "dft", "CHGNet reference MD")]
    kept = {name for name, state in states(chain).items() if state == "COMPLETED"}
    assert {LEARN, "lowest model Li(100)|LiCl(100)"} <= kept
    assert "interface energetics Li(1,0,0)|LiCl(1,0,0) #1" in kept

    # The reference MD, run again to the end by the next dft worker.
    done = run(chain.env, dft_dir, str(BIN / "interfacial-rlaunch"), *rlaunch(chain, "dft"))
    assert done.returncode == 0, done.stderr[-3000:]

    # 2. The fit worker, killed in the first fit after it finished the training sets.
    lost.append(kill_and_rerun(chain, "fit", "mtp fit"))
    assert states(chain)["training sets Li(100)|LiCl(100)-vac"] == "COMPLETED"
    kept |= {"training sets Li(100)|LiCl(100)-vac"}

    turns = run_to_the_end(chain)

    store = read_server_store(chain.paths["store"])
    final = store["fireworks"]
    assert {fw["state"] for fw in final} == {"COMPLETED"}
    # Every Firework ran once, but the lost ones: their first launch stays on record, FIZZLED.
    lost_ids = {fw["fw_id"] for fw in lost}
    launches = Counter(launch["fw_id"] for launch in store["launches"])
    assert launches == Counter({fw["fw_id"]: 1 + (fw["fw_id"] in lost_ids) for fw in final})
    for fw_id in lost_ids:
        first = min(
            (launch for launch in store["launches"] if launch["fw_id"] == fw_id),
            key=lambda launch: launch["launch_id"],
        )
        assert first["state"] == "FIZZLED"
    assert kept <= {fw["name"] for fw in final if fw["fw_id"] not in lost_ids}
    names = [fw["name"] for fw in final]
    assert sum(n.startswith("mtp fit") for n in names) == 2  # the fit and the round's refit
    assert sum(n.startswith("CHGNet reference MD") for n in names) == 2  # training, validation

    # One result per job: exactly one document per (uuid, index) of the workflow, none else.
    from jobflow import JobStore

    spec = json.loads(chain.paths["jobflow"].read_text())["JOB_STORE"]
    job_store = JobStore.from_dict_spec(spec)
    job_store.connect()
    docs = list(job_store.query({}, properties=["uuid", "index", "name"]))
    job_store.close()
    jobs = Counter(
        (fw["spec"]["_tasks"][0]["job"]["uuid"], fw["spec"]["_tasks"][0]["job"]["index"])
        for fw in final
    )
    stored = Counter((d["uuid"], d["index"]) for d in docs)
    assert set(jobs.values()) == {1}
    assert stored == jobs, {
        "not stored": sorted(set(jobs) - set(stored)),
        "orphans": sorted(d["name"] for d in docs if (d["uuid"], d["index"]) not in jobs),
    }

    built = run(chain.env, tmp_path, str(BIN / "interfacial"), "build")
    assert built.returncode == 0, built.stderr
    assert_campaign_completed(campaign_status(chain), len(final))
    assert not any(fw["state"] in PENDING for fw in final)
    print(
        f"lost runs: {len(final)} Fireworks, {len(docs)} job documents, {turns} worker turns "
        f"after the kills, {time.perf_counter() - clock:.0f} s"
    )
