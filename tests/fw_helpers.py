"""Small jobs and set-up helpers for the FireWorks process tests.

This module must be importable by the ``rlaunch`` processes the tests start (they get the tests
directory on ``PYTHONPATH``), because jobflow serialises a job as a reference to its function.
It deliberately imports neither FireWorks nor jobflow's FireWorks manager at module level: the
embedded LaunchPad is switched on by an environment variable that FireWorks reads when it is
first imported, so only the subprocesses (which have that variable) may import it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from jobflow import Flow, job

#: Seconds each job sleeps: long enough for two workers to overlap, short enough for CI.
JOB_SECONDS = 1.0


@job
def square(x: int, delay: float = JOB_SECONDS) -> int:
    """Return x**2 after sleeping ``delay`` seconds (stands in for a calculation)."""
    time.sleep(delay)
    return x * x


@job
def add_one(x: int, delay: float = JOB_SECONDS) -> int:
    """Return x + 1 after sleeping ``delay`` seconds (depends on the output of another job)."""
    time.sleep(delay)
    return x + 1


def chains_flow(n_chains: int, delay: float = JOB_SECONDS) -> Flow:
    """Return ``n_chains`` independent chains square(i) -> add_one: 2 * n_chains jobs.

    The expected outputs are i**2 (square) and i**2 + 1 (add_one), each exactly once.
    """
    jobs = []
    for i in range(n_chains):
        first = square(i, delay=delay)
        first.name = f"square {i}"
        second = add_one(first.output, delay=delay)
        second.name = f"add_one {i}"
        jobs += [first, second]
    return Flow(jobs, name=f"{n_chains} chains")


def add_chains_workflow(launchpad_file: str, n_chains: int, delay: float) -> list[int]:
    """Convert :func:`chains_flow` with ``store=None`` and add it to the LaunchPad of the file.

    Opens the LaunchPad the way a submission should (through the guard, which locks an
    embedded LaunchPad). Runs in a subprocess whose environment selects the embedded LaunchPad.
    """
    from jobflow.managers.fireworks import flow_to_workflow

    from interfacial.fireworks_embedded import open_launchpad

    launchpad = open_launchpad(launchpad_file)
    workflow = flow_to_workflow(chains_flow(n_chains, delay), store=None)
    return list(launchpad.add_wf(workflow).values())


def write_embedded_config(directory: Path) -> dict[str, Path]:
    """Write an embedded LaunchPad, a worker and a jobflow.yaml under ``directory``.

    Returns the paths by role: ``store`` (the mongomock server-store file), ``launchpad``,
    ``fworker``, ``jobflow`` and ``data`` (the MontyStore directory of the JobStore).
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "store": directory / "fw_store.json",
        "launchpad": directory / "my_launchpad.yaml",
        "fworker": directory / "my_fworker.yaml",
        "jobflow": directory / "jobflow.yaml",
        "data": directory / "data",
    }
    # mongomock-persistence opens the file for reading on start-up: it must exist and hold JSON.
    paths["store"].write_text("{}")
    # Plain JSON is valid YAML: no YAML writer needed here.
    paths["launchpad"].write_text(json.dumps({"host": "localhost", "name": "fireworks"}))
    paths["fworker"].write_text(json.dumps({"name": "test worker", "category": "", "query": "{}"}))
    store = {"type": "MontyStore", "database_path": str(paths["data"]), "key": "uuid"}
    paths["jobflow"].write_text(
        json.dumps(
            {
                "JOB_STORE": {
                    "docs_store": {**store, "collection_name": "jobs"},
                    "additional_stores": {"data": {**store, "collection_name": "data"}},
                }
            }
        )
    )
    return paths


def subprocess_env(paths: dict[str, Path]) -> dict[str, str]:
    """Environment of a worker: embedded LaunchPad, JobStore file, this directory importable."""
    env = dict(os.environ)
    env["MONGOMOCK_SERVERSTORE_FILE"] = str(paths["store"])
    env["JOBFLOW_CONFIG_FILE"] = str(paths["jobflow"])
    tests_dir = str(Path(__file__).resolve().parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (tests_dir, env.get("PYTHONPATH")) if p)
    return env


#: FireWorks states of work still to do.
PENDING = {"READY", "WAITING", "RESERVED", "RUNNING"}


def run(
    env: dict[str, str],
    cwd: Path,
    *command: str,
    stdin: str | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run a command line to its end (a hung process fails the test after ``timeout`` s)."""
    return subprocess.run(
        list(command),
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def campaign_env(paths: dict[str, Path], home: Path) -> dict[str, str]:
    """Environment of `interfacial submit/build/query` and workers of one test campaign.

    Everything uses the workers' JobStore; no settings file; HOME in the test directory; one
    thread for torch and BLAS: on 2 cores shared with other processes their default thread
    pools oversubscribe the cores (CHGNet ran ~10x slower, benchmarks/bench_screening.py).
    """
    return {
        **subprocess_env(paths),
        "INTERFACIAL_USE_JOBFLOW_STORE": "true",
        "INTERFACIAL_CONFIG_FILE": str(home / "none.yaml"),
        "HOME": str(home),
        "MPLBACKEND": "Agg",
        **dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"),
    }


def read_server_store(store_file: Path) -> dict[str, list[dict[str, Any]]]:
    """Read the collections of the ``fireworks`` database from the server-store file.

    The file is mongomock-persistence's JSON dump: ``{database: {collection: {"documents":
    [[id, document], ...]}}}``. Reading it directly needs no FireWorks import.
    """
    from bson import json_util

    databases = json_util.loads(store_file.read_text())
    collections = databases.get("fireworks", {})
    return {
        name: [document for _, document in content["documents"]]
        for name, content in collections.items()
    }


def firework_summary(store_file: Path) -> dict[str, dict[str, Any]]:
    """Return, per Firework name, its state and how many launches it had."""
    collections = read_server_store(store_file)
    launches_per_fw: dict[int, int] = {}
    for launch in collections.get("launches", []):
        launches_per_fw[launch["fw_id"]] = launches_per_fw.get(launch["fw_id"], 0) + 1
    return {
        fw["name"]: {"state": fw["state"], "launches": launches_per_fw.get(fw["fw_id"], 0)}
        for fw in collections.get("fireworks", [])
    }


def die_after_job(launchpad_file: str, launch_dir: str) -> int:
    """Check out one Firework, run its job, and stop before FireWorks records the completion.

    This leaves what a worker killed at the worst moment leaves on a MongoDB LaunchPad: a
    launch persisted as RUNNING that nobody pings any more, and a job output already in the
    JobStore. (A plain ``rlaunch`` on the embedded LaunchPad that is really killed persists
    nothing; ``interfacial-rlaunch`` persists each state change, see
    the tests.) Returns the fw_id. Runs in a subprocess whose environment selects the embedded
    LaunchPad; the process exits normally so that the file is written.
    """
    from fireworks import FWorker, LaunchPad

    launchpad = LaunchPad.from_file(launchpad_file)
    firework, _launch_id = launchpad.checkout_fw(FWorker(), launch_dir)
    os.chdir(launch_dir)
    for task in firework.tasks:
        task.run_task(firework.spec)
    return int(firework.fw_id)
