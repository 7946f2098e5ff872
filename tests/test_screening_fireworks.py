"""A ``screen:`` campaign runs through the real FireWorks tools, one Firework per relaxation.

Every step is a separate process, as a user runs them: ``interfacial-lpad reset``,
``interfacial submit`` (nothing stored beforehand: the screen's surfaces are computed by the
workflow), two ``interfacial-rlaunch ... rapidfire`` workers of the ``dft`` category started
at the same time, then ``interfacial build`` and ``interfacial query screening --json``. The
screen is tiny (LiCl against Li, Li(110) and Li(100) against LiCl(100), thin tiers, one
candidate refined) but has every run-time fan-out of the funnel (slabs, both tiers' model
relaxations), which FireWorks turns into new Fireworks.

The embedded LaunchPad is one JSON file that each process loads at start and rewrites at exit
(:mod:`interfacial.fireworks_embedded`): ``interfacial-rlaunch`` holds an exclusive lock on it
for the life of the process and refuses a second one at once (exit status 2, one line naming
the file and the holder), so two workers on it never run together. Here the two workers start
together (one is refused), and then take turns, each turn a real ``interfacial-rlaunch``
process running at most ``SHIFT`` Fireworks: the Fireworks of one screen spread over both
workers, none is run twice, and the file keeps every launch. With a MongoDB LaunchPad the same
two workers would run at the same time (docs/clusters.md).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fw_helpers import PENDING, campaign_env, read_server_store, run, write_embedded_config

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
CAMPAIGN = """\
name: screen-fw
calculators: {surfaces: CHGNet, interfaces: CHGNet}
screen:
  - electrolyte: LiCl
    metal: Li
    metal_millers: [[1, 1, 0], [1, 0, 0]]
    compound_millers: [[1, 0, 0]]
    n_refine: 1
    prescreen: {metal_thickness: 4.0, compound_thickness: 4.0, max_atoms: 60}
    refine:
      metal_thickness: 5.0
      compound_thickness: 5.0
      registries: [[0.0, 0.0], [0.5, 0.5]]
      gaps: [2.0]
      max_atoms: 80
routing: {dft: dft-queue, md: md, fit: fit}
"""
CATEGORY = "dft-queue"
WORKERS = ("worker A", "worker B")
#: Fireworks per turn of a worker (rapidfire --nlaunches): a few turns per screen.
SHIFT = 12
TIMEOUT = 900  # seconds: a hung process fails the test instead of the whole run
BUSY = "is in use by another process"


def pending(store_file: Path) -> int:
    """Fireworks not finished yet, as the LaunchPad file says (no FireWorks import)."""
    fireworks = read_server_store(store_file).get("fireworks", [])
    return sum(fw["state"] in PENDING for fw in fireworks)


def wait_for_lock(store_file: Path) -> None:
    """Block until no process holds the embedded LaunchPad (take its lock, let it go)."""
    from interfacial.fireworks_embedded import lock_file

    descriptor = os.open(lock_file(store_file), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
    finally:
        os.close(descriptor)  # closing releases the lock


class Turns:
    """Two workers alternate: one that just finished a turn waits until the other had one."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.condition = threading.Condition()
        self.last: str | None = None
        self.active = set(names)

    def wait(self, name: str) -> None:
        with self.condition:
            self.condition.wait_for(
                lambda: self.last != name or self.active == {name}, timeout=TIMEOUT
            )

    def done(self, name: str) -> None:
        with self.condition:
            self.last = name
            self.condition.notify_all()

    def leave(self, name: str) -> None:
        with self.condition:
            self.active.discard(name)
            self.condition.notify_all()


class Worker(threading.Thread):
    """One worker: ``interfacial-rlaunch -w <its fworker> rapidfire`` processes, turn by turn.

    Each process (a turn) runs at most ``SHIFT`` Fireworks (``--max_loops 1 --sleep 1``: it
    stops instead of waiting for more). A process refused because the other worker holds the
    LaunchPad is recorded and started again once the lock is free. The worker stops when the
    LaunchPad file has nothing left to run, or when a process fails.
    """

    def __init__(
        self, name: str, fworker: Path, directory: Path, env: dict[str, str], paths: dict[str, Path]
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.fworker, self.directory, self.env, self.paths = fworker, directory, env, paths
        self.go = threading.Event()
        self.turns: Turns | None = None
        self.processes: list[dict[str, Any]] = []  # {'code', 'log', 'refused', 'checkouts'}

    def run(self) -> None:
        assert self.turns is not None
        self.go.wait(TIMEOUT)
        try:
            while pending(self.paths["store"]):
                n = len(self.processes)
                log = self.directory / f"process{n}.log"
                with log.open("w") as out:
                    process = subprocess.Popen(
                        [
                            str(BIN / "interfacial-rlaunch"),
                            "-l",
                            str(self.paths["launchpad"]),
                            "-w",
                            str(self.fworker),
                            "rapidfire",
                            "--nlaunches",
                            str(SHIFT),
                            "--max_loops",
                            "1",
                            "--sleep",
                            "1",
                        ],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        env=self.env,
                        cwd=self.directory,
                    )
                    code = process.wait(TIMEOUT)
                text = log.read_text()
                refused = code == 2 and BUSY in text
                self.processes.append(
                    {
                        "code": code,
                        "log": text,
                        "refused": refused,
                        "checkouts": text.count("RUNNING fw_id"),
                    }
                )
                if refused:
                    wait_for_lock(self.paths["store"])
                    continue
                if code != 0 or self.processes[-1]["checkouts"] == 0:
                    return  # a failure, or nothing it could run: the test reports it
                self.turns.done(self.name)
                self.turns.wait(self.name)
        finally:
            self.turns.leave(self.name)


def recomputed_w(result: dict[str, Any]) -> float:
    """Eq. 4 from the tier result's own gammas and sigma (J/m^2)."""
    return result["gamma_metal"] + result["gamma_compound"] - result["sigma"]


def test_screen_campaign_runs_on_two_fireworks_workers(tmp_path):
    started = time.perf_counter()
    paths = write_embedded_config(tmp_path)
    env = campaign_env(paths, tmp_path)
    campaign = tmp_path / "campaign.yaml"
    campaign.write_text(CAMPAIGN)
    launchpad = str(paths["launchpad"])

    reset = run(
        env, tmp_path, str(BIN / "interfacial-lpad"), "-l", launchpad, "reset", stdin="fireworks\n"
    )
    assert reset.returncode == 0, reset.stderr
    # Nothing stored beforehand: the JobStore (the workers' MontyStore files) does not exist.
    assert not paths["data"].exists()

    submitted = run(
        env, tmp_path, str(BIN / "interfacial"), "submit", str(campaign), "--launchpad", launchpad
    )
    assert submitted.returncode == 0, submitted.stderr
    assert "1 workflow(s) of campaign 'screen-fw'" in submitted.stdout
    submitted_names = {fw["name"] for fw in read_server_store(paths["store"])["fireworks"]}
    # The surfaces of both materials are part of the workflow (none could be reused).
    assert {"bulk relax Li", "bulk relax LiCl"} <= {n.split(" (")[0] for n in submitted_names}

    workers = []
    for name in WORKERS:
        directory = tmp_path / name.replace(" ", "_")
        directory.mkdir()
        fworker = tmp_path / f"{name.replace(' ', '_')}.yaml"
        fworker.write_text(json.dumps({"name": name, "category": CATEGORY, "query": "{}"}))
        workers.append(Worker(name, fworker, directory, env, paths))
    turns = Turns(WORKERS)
    for worker in workers:
        worker.turns = turns
        worker.start()
    for worker in workers:  # both start their first process at the same moment
        worker.go.set()
    for worker in workers:
        worker.join(TIMEOUT * 2)
        assert not worker.is_alive(), f"{worker.name} did not finish"
    worked = time.perf_counter()

    processes = [p for w in workers for p in w.processes]
    for p in processes:
        assert p["code"] == 0 or p["refused"], p["log"][-3000:]
    # The first processes started together: the lock let exactly one in, the other was refused
    # at once, naming the file, having run nothing.
    first = [w.processes[0] for w in workers]
    assert sorted(p["refused"] for p in first) == [False, True]
    refusals = [p for p in processes if p["refused"]]
    for p in refusals:
        assert str(paths["store"]) in p["log"] and p["checkouts"] == 0
        assert "only one process may use it at a time" in p["log"]

    store = read_server_store(paths["store"])
    fireworks = store["fireworks"]
    states = {fw["name"]: fw["state"] for fw in fireworks}
    assert set(states.values()) == {"COMPLETED"}, states
    # Fireworks created at run time (slabs, both tiers' models) kept the campaign's routing.
    assert len(fireworks) > len(submitted_names)
    assert {fw["spec"].get("_category") for fw in fireworks} == {CATEGORY}
    # Every Firework ran exactly once, and the file kept every launch of both workers.
    launches = store["launches"]
    assert Counter(launch["fw_id"] for launch in launches) == Counter(
        {fw["fw_id"]: 1 for fw in fireworks}
    )
    ran_by = Counter(launch["fworker"]["name"] for launch in launches)
    assert set(ran_by) == set(WORKERS), ran_by
    assert sum(p["checkouts"] for p in processes) == len(fireworks)

    built = run(env, tmp_path, str(BIN / "interfacial"), "build")
    assert built.returncode == 0, built.stderr
    queried = run(env, tmp_path, str(BIN / "interfacial"), "query", "screening", "--json")
    assert queried.returncode == 0, queried.stderr
    (doc,) = json.loads(queried.stdout)
    assert doc["electrolyte"] == "LiCl" and doc["metal"] == "Li"
    assert not any(f["reused"] for f in doc["facets"])  # surfaces computed by this workflow

    candidates = doc["candidates"]
    assert len(candidates) >= 2
    assert all(c["prescreen"] is not None and not c["failed"] for c in candidates)
    refined = [c for c in candidates if c["refine"] is not None]
    assert len(refined) == 1  # n_refine 1, one product
    # The refined one is the pre-screen's best.
    assert refined[0]["prescreen"]["W_adhesion"] == max(
        c["prescreen"]["W_adhesion"] for c in candidates
    )
    for c in candidates:
        for tier in ("prescreen", "refine"):
            result = c[tier]
            if result is None:
                continue
            assert result["tier"] == tier and result["interface_id"].endswith(f"/{tier}")
            assert result["W_adhesion"] == pytest.approx(recomputed_w(result), abs=1e-9)
            # Every model relaxation of the tier is its own Firework, run once.
            relaxations = [
                fw
                for fw in fireworks
                if fw["name"].startswith(f"interface relax {c['candidate_id']} {tier} ")
            ]
            assert len(relaxations) == result["n_models"] >= 1
            assert all(len(fw["spec"]["_tasks"]) == 1 for fw in relaxations)
    # The refine tier has more models than the pre-screen (two registries against one).
    assert refined[0]["refine"]["n_models"] > refined[0]["prescreen"]["n_models"]
    print(
        f"screen on two workers: {len(fireworks)} Fireworks ({dict(ran_by)}), "
        f"{len(processes)} worker processes ({len(refusals)} refused); workers "
        f"{worked - started:.0f} s, whole test {time.perf_counter() - started:.0f} s"
    )
