"""Submitted jobs use the worker's own settings: environment variable > settings file > default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interfacial.commands import (
    WORKER_SETTINGS,
    expand_command,
    require_executable,
    resolve_worker_settings,
    worker_environment,
    worker_placeholder,
)
from interfacial.errors import InterfacialError

VARIABLES = [f"INTERFACIAL_{name.upper()}" for name in WORKER_SETTINGS]


@pytest.fixture
def worker_file(monkeypatch, tmp_path) -> Path:
    """A worker configured only through its settings file (none of its variables set)."""
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    config = tmp_path / "worker.yaml"
    config.write_text(
        "lammps_cmd: /opt/lammps-mlip/bin/lmp -sf omp\n"
        "mlp_cmd: $HOME/bin/mlp\n"
        "vasp_cmd: srun vasp_gam\n"
        f"md_dir: {tmp_path / 'scratch'}\n"
    )
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(config))
    return config


def test_placeholders_resolve_from_the_settings_file(worker_file, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", "/home/worker")
    assert expand_command("${INTERFACIAL_LAMMPS_CMD} -in a.in", "LAMMPS") == [
        "/opt/lammps-mlip/bin/lmp", "-sf", "omp", "-in", "a.in",
    ]  # fmt: skip
    # A setting's value may hold an environment variable of the worker's own.
    assert expand_command("$INTERFACIAL_MLP_CMD train", "mlp") == ["/home/worker/bin/mlp", "train"]
    # Not in the file: the default of the setting.
    assert expand_command(worker_placeholder("mpi_cmd") + " -np 4", "MPI") == [
        "mpirun", "-np", "4",
    ]  # fmt: skip
    assert resolve_worker_settings("${INTERFACIAL_MD_DIR}/x") == f"{tmp_path / 'scratch'}/x"
    # Variables that are not worker settings are left to the environment.
    assert resolve_worker_settings("${INTERFACIAL_DATA_DIR} $INTERFACIAL_MPI_CMDX") == (
        "${INTERFACIAL_DATA_DIR} $INTERFACIAL_MPI_CMDX"
    )


def test_the_environment_wins_over_the_settings_file(worker_file, monkeypatch):
    monkeypatch.setenv("INTERFACIAL_LAMMPS_CMD", "lmp_from_env")
    assert expand_command("${INTERFACIAL_LAMMPS_CMD}", "LAMMPS") == ["lmp_from_env"]
    assert expand_command("${INTERFACIAL_VASP_CMD}", "VASP") == ["srun", "vasp_gam"]


def test_unset_optional_setting_and_unknown_variable(monkeypatch):
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv("NO_SUCH_VARIABLE", raising=False)
    assert resolve_worker_settings("${INTERFACIAL_MD_DIR}") == ""
    with pytest.raises(InterfacialError, match=r"unset environment variable.*NO_SUCH_VARIABLE"):
        expand_command("${NO_SUCH_VARIABLE}/lmp", "the LAMMPS command")
    with pytest.raises(ValueError, match="not a worker setting"):
        worker_placeholder("data_dir")


def test_missing_executable_names_the_setting_and_both_places(worker_file):
    argv = expand_command("${INTERFACIAL_LAMMPS_CMD}", "the LAMMPS command")
    with pytest.raises(InterfacialError) as info:
        require_executable(argv, "the LAMMPS executable", "lammps_cmd")
    message = str(info.value)
    assert "\n" not in message
    assert "/opt/lammps-mlip/bin/lmp -sf omp was not found on PATH" in message
    assert f"set lammps_cmd in the settings file {worker_file}" in message
    assert "the environment variable INTERFACIAL_LAMMPS_CMD" in message


def test_worker_environment_exports_the_file_and_restores(worker_file, monkeypatch, tmp_path):
    monkeypatch.setenv("INTERFACIAL_MPI_CMD", "srun")  # set by the qadapter: it stays
    environ = dict(os.environ)
    with worker_environment(environ) as added:
        assert environ["INTERFACIAL_LAMMPS_CMD"] == "/opt/lammps-mlip/bin/lmp -sf omp"
        assert environ["INTERFACIAL_VASP_CMD"] == "srun vasp_gam"
        assert environ["INTERFACIAL_MD_DIR"] == str(tmp_path / "scratch")
        assert environ["INTERFACIAL_MPI_CMD"] == "srun"
        assert "INTERFACIAL_MPI_CMD" not in added
    assert environ == dict(os.environ)


def test_atomate2_runs_the_vasp_command_of_the_worker_settings_file(worker_file, tmp_path):
    """atomate2 expands only environment variables; the worker environment fills them in."""
    from atomate2.vasp.run import JobType, run_vasp

    from interfacial.campaign import WORKER_VASP_CMD

    record = tmp_path / "vasp-called"
    fake = tmp_path / "my_vasp"
    fake.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    fake.chmod(0o755)
    worker_file.write_text(f"vasp_cmd: {fake} --from-settings-file\n")
    os.chdir(tmp_path)
    run_vasp(JobType.DIRECT, vasp_cmd=WORKER_VASP_CMD)
    assert not record.exists()  # without the worker's settings in its environment
    with worker_environment():
        run_vasp(JobType.DIRECT, vasp_cmd=WORKER_VASP_CMD)
    assert record.read_text() == "--from-settings-file\n"
    assert "INTERFACIAL_VASP_CMD" not in os.environ


def test_worker_configured_only_by_its_settings_file_runs_a_submitted_transport_job(tmp_path):
    """interfacial submit -> interfacial-rlaunch whose LAMMPS is named only in its YAML file."""
    from fw_helpers import read_server_store, subprocess_env, write_embedded_config
    from lammps_wrapper import lammps_wrapper
    from mtp_data import tiny_potential, toy_cell

    mtp = tiny_potential(tmp_path / "fit").write(tmp_path / "toy.mtp")
    cell = tmp_path / "toy.json"
    cell.write_text(json.dumps(toy_cell().as_dict()))
    campaign = tmp_path / "transport.yaml"
    campaign.write_text(
        "name: worker-settings\n"
        "transport:\n"
        f"  - {{structure: {cell}, potential: {mtp}, species: [S, Li], md_engine: mlip,\n"
        "      label: toy, ramp_ps: 0.02, equilibration_ps: 0.02, production_ps: 0.2,\n"
        "      dump_fs: 5}\n"
        "md_temperatures: [400, 800]\n"
        "routing: {md: md-queue}\n"
    )
    paths = write_embedded_config(tmp_path / "fw")
    worker = tmp_path / "my_fworker_md.yaml"
    worker.write_text(json.dumps({"name": "md worker", "category": "md-queue", "query": "{}"}))
    calls = tmp_path / "lmp-calls.txt"
    (tmp_path / "bin").mkdir()
    wrapper = lammps_wrapper(tmp_path / "bin" / "lmp-mlip", calls)
    md_dir = tmp_path / "worker-scratch"
    worker_yaml = tmp_path / "worker-settings.yaml"
    worker_yaml.write_text(f"lammps_cmd: {wrapper}\nmpi_cmd: ''\nmd_dir: {md_dir}\n")
    base = {**subprocess_env(paths), "INTERFACIAL_USE_JOBFLOW_STORE": "true", "MPLBACKEND": "Agg"}
    for variable in VARIABLES:
        base.pop(variable, None)
    submitter = {
        **base,
        "INTERFACIAL_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "INTERFACIAL_LAMMPS_CMD": "submitter_lmp",
    }
    worker_env = {**base, "INTERFACIAL_CONFIG_FILE": str(worker_yaml)}
    bin_dir = Path(sys.executable).parent
    launchpad = str(paths["launchpad"])

    def run(env, *command: str, stdin: str | None = None):
        return subprocess.run(
            list(command), input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=600, check=False,
        )  # fmt: skip

    reset = run(submitter, str(bin_dir / "interfacial-lpad"), "-l", launchpad, "reset",
                stdin="fireworks\n")  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    submitted = run(submitter, str(bin_dir / "interfacial"), "submit", str(campaign),
                    "--launchpad", launchpad)  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    worked = run(worker_env, str(bin_dir / "interfacial-rlaunch"), "-l", launchpad, "-w",
                 str(worker), "rapidfire")  # fmt: skip
    assert worked.returncode == 0, worked.stderr[-3000:]
    fireworks = read_server_store(paths["store"])["fireworks"]
    assert {fw["state"] for fw in fireworks} == {"COMPLETED"}
    # Every LAMMPS segment of both temperatures ran through the settings file's wrapper, in the
    # settings file's scratch directory.
    lines = calls.read_text().splitlines()
    runs = sorted(p.name for p in md_dir.iterdir())
    assert len(runs) == 2 and all(name.startswith("toy-") for name in runs)
    assert len(lines) >= 4 and all(line.startswith(f"-in {md_dir}/toy-") for line in lines)
    assert {line.split()[1].split("/")[-2] for line in lines} == set(runs)
    assert "submitter_lmp" not in paths["store"].read_text()
