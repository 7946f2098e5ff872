"""Workers killed during the potentials stage: lost-run detection, rerun, one result per job.

The tiny chain of ``test_full_chain_fireworks.py`` (interface -> potential -> transport, one
submission) is run by real ``interfacial-rlaunch`` processes, two of which are killed with
SIGKILL while a potentials-stage Firework runs:

1. a plain worker on the embedded LaunchPad, during the reference MD. The embedded file is
   written only when a process exits, so the kill leaves it exactly as it was when that worker
   started: nothing is RUNNING, ``detect_lostruns`` finds nothing, and the next worker runs that
   session's Fireworks again (their outputs replace the first ones: same uuid and index);
2. a worker whose LaunchPad writes every state change at once, as MongoDB does
   (:func:`fw_helpers.writethrough_rlaunch`), during the first MTP fit. The kill leaves that
   Firework RUNNING, pinged when it started; FireWorks' ``detect_lostruns`` calls a RUNNING
   launch lost when its last ping is older than ``--time`` seconds, so the default (4 h) leaves
   it alone and ``--time 0 --rerun`` marks it FIZZLED and puts the Firework back to READY.

Both kills release the embedded LaunchPad's lock (the kernel drops a dead process's ``flock``).
Then the workers run to the end, ``interfacial build`` derives the results and ``interfacial
status`` reports the campaign completed. One result per job: the JobStore holds exactly one
document per (uuid, index) of the final workflow's Fireworks and none besides (no duplicated
reference MD, fit or diffusion documents), one potential and one D* per temperature.
"""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from fw_helpers import read_server_store
from test_full_chain_fireworks import (
    BIN,
    PENDING,
    TIMEOUT,
    Chain,
    assert_campaign_completed,
    campaign_status,
    rlaunch,
    run,
    run_to_the_end,
    submit_chain,
)

pytestmark = pytest.mark.slow

#: The potential's first job: built once the interface's lowest model exists.
LEARN = "learn potential Li(100)|LiCl(100)-vac on its structure"
#: A dft worker that runs the interface part and leaves the potentials stage alone.
INTERFACE_ONLY = {"name": {"$ne": LEARN}}
#: ``interfacial-rlaunch`` through the write-through LaunchPad of fw_helpers.
WRITETHROUGH = [
    sys.executable,
    "-c",
    "import sys, fw_helpers; sys.exit(fw_helpers.writethrough_rlaunch(sys.argv[1:]))",
]


def fireworks(chain: Chain) -> list[dict]:
    return read_server_store(chain.paths["store"])["fireworks"]


def states(chain: Chain) -> dict[str, str]:
    return {fw["name"]: fw["state"] for fw in fireworks(chain)}


def started(directory: Path, prefix: str) -> bool:
    """Whether a launch directory of ``directory`` holds a Firework named ``prefix...``.

    FireWorks writes FW.json into the launch directory when the Rocket starts the Firework.
    """
    for path in directory.glob("launcher_*/FW.json"):
        try:
            if json.loads(path.read_text())["name"].startswith(prefix):
                return True
        except (ValueError, KeyError):  # being written
            continue
    return False


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


def test_workers_killed_in_the_potentials_stage_leave_one_result_per_job(tmp_path):
    clock = time.perf_counter()
    chain = submit_chain(tmp_path)
    fworker, dft_dir = chain.workers["dft"]

    # The interface part, by a dft worker that leaves the potentials stage alone.
    interface_only = tmp_path / "fworker_interface.yaml"
    interface_only.write_text(
        json.dumps({"name": "dft worker", "category": "dft-q", "query": json.dumps(INTERFACE_ONLY)})
    )
    chain.workers["dft"] = (interface_only, dft_dir)
    done = run(chain.env, dft_dir, str(BIN / "interfacial-rlaunch"), *rlaunch(chain, "dft"))
    assert done.returncode == 0, done.stderr[-3000:]
    chain.workers["dft"] = (fworker, dft_dir)
    before = states(chain)
    assert before[LEARN] == "READY"
    assert before["lowest model Li(100)|LiCl(100)"] == "COMPLETED"

    # 1. A plain worker killed in the reference MD: the file is as that worker found it.
    snapshot = chain.paths["store"].read_bytes()
    worker, log = start(chain, "dft", [str(BIN / "interfacial-rlaunch")], "killed-embedded")
    kill_when(worker, log, lambda: started(dft_dir, "CHGNet reference MD"))
    assert chain.paths["store"].read_bytes() == snapshot
    assert_lock_released(chain)
    assert "Lost FireWorks: 0" in detect_lostruns(chain, "--time", "0", "--rerun")
    assert states(chain) == before

    # The reference MD, run again to the end by the next dft worker.
    done = run(chain.env, dft_dir, str(BIN / "interfacial-rlaunch"), *rlaunch(chain, "dft"))
    assert done.returncode == 0, done.stderr[-3000:]

    # 2. A fit worker killed in the first fit, its LaunchPad written as MongoDB would be.
    worker, log = start(chain, "fit", WRITETHROUGH, "killed-writethrough")

    def fit_running() -> bool:
        return any(
            fw["state"] == "RUNNING" and fw["name"].startswith("mtp fit") for fw in fireworks(chain)
        )

    kill_when(worker, log, fit_running)
    assert_lock_released(chain)
    (lost,) = [fw for fw in fireworks(chain) if fw["state"] == "RUNNING"]
    # What the killed worker finished before is kept: its training sets are not run again.
    kept = states(chain)
    assert kept["training sets Li(100)|LiCl(100)-vac"] == "COMPLETED"
    # Pinged when it started: not lost for the default 4 h, lost for --time 0.
    assert "Lost FireWorks: 0" in detect_lostruns(chain)
    assert states(chain)[lost["name"]] == "RUNNING"
    assert "Lost FireWorks: 1" in detect_lostruns(chain, "--time", "0", "--rerun")
    assert states(chain)[lost["name"]] == "READY"

    turns = run_to_the_end(chain)

    store = read_server_store(chain.paths["store"])
    final = store["fireworks"]
    assert {fw["state"] for fw in final} == {"COMPLETED"}
    # Every Firework ran once, but the lost one: its first launch stays on record, FIZZLED.
    launches = Counter(launch["fw_id"] for launch in store["launches"])
    assert launches == Counter({fw["fw_id"]: 1 + (fw["fw_id"] == lost["fw_id"]) for fw in final})
    first = min(
        (launch for launch in store["launches"] if launch["fw_id"] == lost["fw_id"]),
        key=lambda launch: launch["launch_id"],
    )
    assert first["state"] == "FIZZLED"
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
