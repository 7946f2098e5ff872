"""The embedded (file-backed) FireWorks LaunchPad with the real lpad / rlaunch processes.

A tiny jobflow flow (tests/fw_helpers.py: three chains square(i) -> add_one, six Fireworks of
about one second each) is converted with ``flow_to_workflow(flow, store=None)`` and run by real
worker processes whose JobStore comes from a jobflow.yaml (MontyStore files). FireWorks is only
ever imported in subprocesses: the embedded LaunchPad is chosen from the environment when
FireWorks is first imported, and this test process must not be switched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fw_helpers import firework_summary, subprocess_env, write_embedded_config

BIN = Path(sys.executable).parent
GUARDED = [sys.executable, "-m", "interfacial.fireworks_embedded"]
GUARDED_RLAUNCH = [*GUARDED, "rlaunch"]  # what `interfacial-rlaunch` runs
N_CHAINS = 3
EXPECTED = {f"square {i}": i * i for i in range(N_CHAINS)} | {
    f"add_one {i}": i * i + 1 for i in range(N_CHAINS)
}
TIMEOUT = 120  # seconds: a hung worker fails the test instead of the whole run


class Embedded:
    """One embedded LaunchPad with the flow added, and helpers to run workers against it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.paths = write_embedded_config(directory)
        self.env = subprocess_env(self.paths)
        self.launchpad = str(self.paths["launchpad"])
        self.fworker = str(self.paths["fworker"])

    def run(self, *command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(command),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.directory,
            timeout=TIMEOUT,
            check=False,
        )

    def python(self, code: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-c", f"import fw_helpers; print({code})")

    def start_worker(self, command: list[str], name: str) -> tuple[subprocess.Popen, Path]:
        """Start ``command ... rapidfire`` in its own directory, output to a log file."""
        workdir = self.directory / name
        workdir.mkdir()
        log = workdir / "worker.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [*command, "-l", self.launchpad, "-w", self.fworker, "rapidfire"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=workdir,
            )
        return process, log

    def summary(self) -> dict[str, dict[str, Any]]:
        return firework_summary(self.paths["store"])

    def outputs(self) -> list[dict[str, Any]]:
        """Job documents in the workers' JobStore (read here: no FireWorks needed)."""
        from jobflow.settings import JobflowSettings

        store = JobflowSettings(CONFIG_FILE=str(self.paths["jobflow"])).JOB_STORE
        store.connect()
        try:
            return list(
                store.query({}, properties=["name", "uuid", "index", "output", "completed_at"])
            )
        finally:
            store.close()


def wait(process: subprocess.Popen) -> int:
    try:
        return process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def checkouts(log: Path) -> int:
    """How many Fireworks a worker checked out (one 'RUNNING fw_id' line per rocket)."""
    return log.read_text().count("RUNNING fw_id")


def assert_outputs_exactly_once(docs: list[dict[str, Any]]) -> None:
    keys = Counter((d["uuid"], d["index"]) for d in docs)
    assert max(keys.values()) == 1, "a job output was stored twice"
    assert {d["name"]: d["output"] for d in docs} == EXPECTED
    assert len(docs) == len(EXPECTED)


@pytest.fixture
def embedded(tmp_path: Path) -> Embedded:
    """Reset the LaunchPad with the real command (it asks for the database name), add the flow."""
    lp = Embedded(tmp_path)
    reset = lp.run(*GUARDED, "lpad", "-l", lp.launchpad, "reset", stdin="fireworks\n")
    assert reset.returncode == 0, reset.stderr
    added = lp.python(f"fw_helpers.add_chains_workflow({lp.launchpad!r}, {N_CHAINS}, 1.0)")
    assert added.returncode == 0, added.stderr
    assert {v["state"] for v in lp.summary().values()} == {"READY", "WAITING"}
    return lp


# Quick checks of the guard itself (no jobs run).


def test_lock_file_sits_next_to_the_store(tmp_path):
    from interfacial.fireworks_embedded import lock_file

    assert lock_file(tmp_path / "fw.json") == tmp_path / "fw.json.lock"


def test_rlaunch_subcommand_is_found_after_valued_options():
    from interfacial.fireworks_embedded import _subcommand

    assert _subcommand(["-l", "multi", "-w", "w.yaml", "rapidfire", "--nlaunches", "2"]) == (
        "rapidfire"
    )
    assert _subcommand(["--loglvl", "INFO", "multi", "2"]) == "multi"
    assert _subcommand(["-s"]) is None


def test_a_second_process_is_refused_with_the_file_and_the_holder(tmp_path):
    from interfacial.fireworks_embedded import hold_lock

    store_file = tmp_path / "fw.json"
    hold_lock(store_file, "test holder")  # this test process keeps it until it exits
    hold_lock(store_file, "again")  # taking it again in the same process is a no-op
    code = (
        "import sys; from pathlib import Path; from interfacial.fireworks_embedded import "
        "hold_lock, EmbeddedLaunchPadBusyError\n"
        "try:\n    hold_lock(Path(sys.argv[1]))\n"
        "except EmbeddedLaunchPadBusyError as exc:\n    print(exc); sys.exit(3)"
    )
    other = subprocess.run(
        [sys.executable, "-c", code, str(store_file)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert other.returncode == 3
    assert str(store_file) in other.stdout
    assert f"pid {os.getpid()}: test holder" in other.stdout
    assert "MongoDB" in other.stdout


def test_variable_set_after_fireworks_was_imported_is_an_error(monkeypatch, tmp_path):
    import fireworks.fw_config

    from interfacial.errors import InterfacialError
    from interfacial.fireworks_embedded import embedded_store_file

    if fireworks.fw_config.MONGOMOCK_SERVERSTORE_FILE:  # pragma: no cover - developer set-up
        pytest.skip("this process already uses an embedded LaunchPad")
    assert embedded_store_file() is None
    monkeypatch.setenv("MONGOMOCK_SERVERSTORE_FILE", str(tmp_path / "fw.json"))
    with pytest.raises(InterfacialError, match="set after FireWorks had been imported"):
        embedded_store_file()


def test_rlaunch_multi_is_refused_on_the_embedded_launchpad(tmp_path):
    lp = Embedded(tmp_path)
    result = lp.run(*GUARDED, "rlaunch", "-l", lp.launchpad, "multi", "2")
    assert result.returncode == 2
    assert "rlaunch multi" in result.stderr and "rapidfire" in result.stderr


# Bad launchpad and store files, a LaunchPad never reset, the default: one line each.


def _fresh_env(home: Path) -> dict[str, str]:
    """A user with no configuration at all: no FireWorks, jobflow or interfacial settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INTERFACIAL_", "JOBFLOW_", "FW_", "MONGOMOCK_"))
    }
    env["HOME"] = str(home)
    return env


def _one_error_line(result: subprocess.CompletedProcess, command: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if f"{command}: error:" in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_launchpad_file_with_a_mistyped_or_missing_key_names_the_file_and_key(tmp_path):
    from interfacial.errors import InterfacialError
    from interfacial.fireworks_embedded import check_launchpad_file

    lp = Embedded(tmp_path)
    bad = tmp_path / "typo_launchpad.yaml"
    bad.write_text("hots: localhost\nname: fireworks\nuri_store: true\n")
    result = lp.run(*GUARDED, "lpad", "-l", str(bad), "get_wflows")
    line = _one_error_line(result, "interfacial-lpad")
    assert str(bad) in line and "hots" in line and "uri_store -> uri_mode" in line
    bad.write_text("name: fireworks\n")
    with pytest.raises(InterfacialError, match="has no 'host' key"):
        check_launchpad_file(bad)
    bad.write_text("host: [localhost\n")
    with pytest.raises(InterfacialError, match="is not valid YAML or JSON"):
        check_launchpad_file(bad)


def test_missing_launchpad_file_and_damaged_store_file_are_one_line(tmp_path):
    lp = Embedded(tmp_path)
    missing = tmp_path / "no_such_launchpad.yaml"
    result = lp.run(*GUARDED, "rlaunch", "-l", str(missing), "rapidfire")
    assert str(missing) in _one_error_line(result, "interfacial-rlaunch")

    lp.paths["store"].write_text('{"fireworks": {"fireworks": ')  # cut short
    result = lp.run(*GUARDED, "lpad", "-l", lp.launchpad, "get_wflows")
    line = _one_error_line(result, "interfacial-lpad")
    assert str(lp.paths["store"]) in line and "damaged" in line
    assert lp.launchpad not in line  # the YAML file is fine: not blamed


def test_a_launchpad_never_reset_is_one_line(tmp_path):
    lp = Embedded(tmp_path)  # the store file is "{}": never reset
    result = lp.run(*GUARDED, "lpad", "-l", lp.launchpad, "add_scripts", "echo hi")
    assert "never been reset" in _one_error_line(result, "interfacial-lpad")


def test_unconfigured_worker_uses_the_default_embedded_launchpad_and_says_nothing_to_run(
    tmp_path,
):
    from interfacial.fireworks_embedded import fireworks_configured

    result = subprocess.run(
        [*GUARDED, "rlaunch", "rapidfire"],
        capture_output=True,
        text=True,
        env=_fresh_env(tmp_path),
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    line = _one_error_line(result, "interfacial-rlaunch")
    assert "nothing to run" in line and "interfacial submit" in line
    assert str(tmp_path / "interfacial-data" / "fireworks-launchpad.json") in line
    assert list(tmp_path.iterdir()) == []  # no localhost MongoDB wait, nothing created

    assert fireworks_configured("my_launchpad.yaml")
    (tmp_path / "my_launchpad.yaml").write_text("host: localhost\n")
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path)
        assert fireworks_configured(None)
    finally:
        os.chdir(cwd)


# Real workers. Each test runs the six one-second jobs once or twice (about 8 s per run).


@pytest.mark.slow
def test_plain_fireworks_commands_run_the_flow_into_the_job_store(embedded):
    listed = embedded.run(str(BIN / "lpad"), "-l", embedded.launchpad, "get_wflows")
    assert listed.returncode == 0, listed.stderr
    assert f"{N_CHAINS} chains" in listed.stdout and "READY" in listed.stdout

    worker, log = embedded.start_worker([str(BIN / "rlaunch")], "worker")
    assert wait(worker) == 0, log.read_text()[-3000:]

    assert embedded.summary() == {name: {"state": "COMPLETED", "launches": 1} for name in EXPECTED}
    assert_outputs_exactly_once(embedded.outputs())
    listed = embedded.run(str(BIN / "lpad"), "-l", embedded.launchpad, "get_wflows")
    assert "COMPLETED" in listed.stdout


@pytest.mark.slow
def test_two_plain_workers_both_run_everything_and_one_record_is_lost(embedded):
    """Why the guard exists: FireWorks' own commands give no protection on the file.

    Each process loads the file when it starts and writes it back when it exits, so both check
    out every Firework, and only the launches of the last one to exit survive. (Their JobStore
    writes may also collide: in 6 of 23 measured runs some outputs were stored twice, and in 11
    of 19 a job failed in one worker while both opened the montydb database.) If this test starts to
    fail, FireWorks or mongomock-persistence changed: revisit interfacial.fireworks_embedded.
    """
    first, first_log = embedded.start_worker([str(BIN / "rlaunch")], "first")
    second, second_log = embedded.start_worker([str(BIN / "rlaunch")], "second")
    assert wait(first) == 0
    assert wait(second) == 0

    ran = checkouts(first_log) + checkouts(second_log)
    assert ran > len(EXPECTED), "some Fireworks should have been run by both workers"
    recorded = sum(v["launches"] for v in embedded.summary().values())
    assert recorded == len(EXPECTED), "only one worker's launches survive in the file"


@pytest.mark.slow
@pytest.mark.parametrize("attempt", [1, 2])
def test_guarded_workers_started_together_one_runs_the_other_is_refused(embedded, attempt):
    first, first_log = embedded.start_worker(GUARDED_RLAUNCH, "first")
    second, second_log = embedded.start_worker(GUARDED_RLAUNCH, "second")
    codes = sorted([wait(first), wait(second)])
    assert codes == [0, 2]
    winner, loser = (first_log, second_log) if first.returncode == 0 else (second_log, first_log)
    refusal = loser.read_text()
    assert f"the embedded LaunchPad {embedded.paths['store']} is in use" in refusal
    assert "only one process may use it at a time" in refusal
    assert checkouts(loser) == 0
    assert checkouts(winner) == len(EXPECTED)

    assert embedded.summary() == {name: {"state": "COMPLETED", "launches": 1} for name in EXPECTED}
    assert_outputs_exactly_once(embedded.outputs())


@pytest.mark.slow
def test_lpad_is_refused_while_a_guarded_worker_runs(embedded):
    worker, log = embedded.start_worker(GUARDED_RLAUNCH, "worker")
    deadline = time.monotonic() + TIMEOUT
    while checkouts(log) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    # lpad would rewrite the file at exit, and a submission would vanish when the worker exits:
    # both are refused instead.
    during = embedded.run(*GUARDED, "lpad", "-l", embedded.launchpad, "get_wflows")
    assert during.returncode == 2
    assert str(embedded.paths["store"]) in during.stderr
    submit = embedded.python(f"fw_helpers.add_chains_workflow({embedded.launchpad!r}, 1, 0)")
    assert submit.returncode != 0
    assert "EmbeddedLaunchPadBusyError" in submit.stderr
    assert wait(worker) == 0
    after = embedded.run(*GUARDED, "lpad", "-l", embedded.launchpad, "get_wflows")
    assert after.returncode == 0 and "COMPLETED" in after.stdout
    assert len(embedded.summary()) == len(EXPECTED)  # the refused submission added nothing


@pytest.mark.slow
def test_killed_plain_worker_leaves_the_launchpad_as_it_started(embedded):
    """FireWorks' own rlaunch writes the file only at exit: SIGKILL writes nothing.

    Nothing to detect; the next worker runs everything again, and the outputs of the killed
    session are replaced (same uuid and index), not doubled. (If this starts to fail,
    mongomock-persistence changed: revisit interfacial.fireworks_embedded.write_through.)
    """
    before = embedded.paths["store"].read_bytes()
    worker, log = embedded.start_worker([str(BIN / "rlaunch")], "killed")
    deadline = time.monotonic() + TIMEOUT
    while log.read_text().count("Starting job") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    assert wait(worker) == -signal.SIGKILL

    # Two jobs finished and wrote their outputs; the LaunchPad file never heard of it.
    first_outputs = {d["name"]: d["completed_at"] for d in embedded.outputs()}
    assert len(first_outputs) == 2
    assert embedded.paths["store"].read_bytes() == before
    time.sleep(1.1)
    detect = embedded.run(
        str(BIN / "lpad"), "-l", embedded.launchpad, "detect_lostruns", "--time", "1", "--rerun"
    )
    assert detect.returncode == 0, detect.stderr
    assert "Lost FireWorks: 0" in detect.stdout
    assert {v["launches"] for v in embedded.summary().values()} == {0}

    rerun, rerun_log = embedded.start_worker(GUARDED_RLAUNCH, "rerun")
    assert wait(rerun) == 0, rerun_log.read_text()[-3000:]
    assert checkouts(rerun_log) == len(EXPECTED)
    docs = embedded.outputs()
    assert_outputs_exactly_once(docs)
    for doc in docs:  # the two early outputs were overwritten in place, not added again
        if doc["name"] in first_outputs:
            assert doc["completed_at"] > first_outputs[doc["name"]]


@pytest.mark.slow
def test_killed_guarded_worker_keeps_what_it_finished_and_leaves_a_lost_run(embedded):
    """interfacial-rlaunch writes each state change: a kill leaves what MongoDB would.

    The Fireworks it finished stay COMPLETED, the one it ran stays RUNNING until
    ``detect_lostruns`` reruns it, the kernel released the lock, and only that one runs again.
    """
    worker, log = embedded.start_worker(GUARDED_RLAUNCH, "killed")
    deadline = time.monotonic() + TIMEOUT
    while log.read_text().count("Starting job") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    assert wait(worker) == -signal.SIGKILL

    summary = embedded.summary()
    states = Counter(v["state"] for v in summary.values())
    assert states["COMPLETED"] == 2 and states["RUNNING"] == 1, summary
    (lost,) = [name for name, v in summary.items() if v["state"] == "RUNNING"]
    finished = {d["name"]: d["completed_at"] for d in embedded.outputs()}
    assert set(finished) == {n for n, v in summary.items() if v["state"] == "COMPLETED"}

    detect = embedded.run(
        *GUARDED, "lpad", "-l", embedded.launchpad, "detect_lostruns", "--time", "0", "--rerun"
    )  # the lock is free again: the command is not refused
    assert detect.returncode == 0, detect.stderr
    assert "Lost FireWorks: 1" in detect.stdout
    assert embedded.summary()[lost]["state"] == "READY"

    rerun, rerun_log = embedded.start_worker(GUARDED_RLAUNCH, "rerun")
    assert wait(rerun) == 0, rerun_log.read_text()[-3000:]
    assert checkouts(rerun_log) == len(EXPECTED) - 2  # not the two it had finished
    summary = embedded.summary()
    assert {v["state"] for v in summary.values()} == {"COMPLETED"}
    assert {n: v["launches"] for n, v in summary.items()} == {
        n: 2 if n == lost else 1 for n in EXPECTED
    }
    docs = embedded.outputs()
    assert_outputs_exactly_once(docs)
    for doc in docs:  # the two finished before the kill were not run again
        if doc["name"] in finished:
            assert doc["completed_at"] == finished[doc["name"]]


@pytest.mark.slow
def test_lost_run_is_detected_rerun_and_its_output_not_duplicated(embedded):
    """What a killed worker leaves on a MongoDB LaunchPad: a RUNNING launch nobody pings.

    A helper process checks out a Firework, runs its job (the output reaches the JobStore) and
    stops before FireWorks records the completion, then exits normally so the file is written.
    """
    lost_dir = embedded.directory / "lost"
    lost_dir.mkdir()
    died = embedded.python(f"fw_helpers.die_after_job({embedded.launchpad!r}, {str(lost_dir)!r})")
    assert died.returncode == 0, died.stderr
    summary = embedded.summary()
    (lost,) = [name for name, v in summary.items() if v["state"] == "RUNNING"]
    assert [d["name"] for d in embedded.outputs()] == [lost]

    time.sleep(1.1)  # older than --time 1: no ping since the checkout
    detect = embedded.run(
        str(BIN / "lpad"), "-l", embedded.launchpad, "detect_lostruns", "--time", "1", "--rerun"
    )
    assert detect.returncode == 0, detect.stderr
    assert "Lost FireWorks: 1" in detect.stdout
    assert embedded.summary()[lost]["state"] == "READY"

    worker, log = embedded.start_worker(GUARDED_RLAUNCH, "worker")
    assert wait(worker) == 0, log.read_text()[-3000:]
    summary = embedded.summary()
    assert {v["state"] for v in summary.values()} == {"COMPLETED"}
    assert summary[lost]["launches"] == 2  # the lost launch stays on record, marked FIZZLED
    assert_outputs_exactly_once(embedded.outputs())
