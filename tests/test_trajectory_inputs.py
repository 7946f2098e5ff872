"""Trajectory inputs people have: compressed files, vasprun.xml MD runs, any ASE format, segments.

Oracles: the uncompressed file (a compressed copy must give the same frames), pymatgen's
``Vasprun`` (an independent vasprun.xml parser), the coordinates the synthetic files were
written from, and the gunzipped public XDATCAR.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import shutil
import tempfile
import warnings
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from typer.testing import CliRunner

from interfacial.cli import app
from interfacial.errors import InterfacialError
from interfacial.trajectory import count_frames, guess_format, iter_frames
from interfacial.trajectory.vasprun import TruncatedTrajectoryWarning
from vasp_files import random_md, vasprun_text

PUBLIC_XDATCAR = Path("/work/pubdata/Li6PS5Cl_50p_run1_XDATCAR.gz")
SYMBOLS = ("Li", "Li", "Li", "S", "S")
COMPRESSORS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def xdatcar_text(frac: np.ndarray, cell: np.ndarray) -> str:
    """VASP 5 XDATCAR (constant cell) of fractional coordinates; SYMBOLS grouped by element."""
    lines = ["synthetic", "1.0", *(" ".join(f"{v:.10f}" for v in row) for row in cell)]
    lines += ["Li S", "3 2"]
    for k, f in enumerate(frac):
        lines.append(f"Direct configuration= {k + 1:5d}")
        lines += [" ".join(f"{v:.10f}" for v in row) for row in f]
    return "\n".join(lines) + "\n"


def frames_equal(a: list, b: list) -> None:
    assert len(a) == len(b)
    for fa, fb in zip(a, b, strict=True):
        assert fa.symbols == fb.symbols
        assert fa.time == fb.time
        np.testing.assert_array_equal(fa.positions, fb.positions)
        np.testing.assert_array_equal(fa.cell, fb.cell)


def compress(path: Path, suffix: str) -> Path:
    out = path.with_name(path.name + "." + suffix)
    out.write_bytes(COMPRESSORS[suffix](path.read_bytes()))
    return out


# ------------------------------------------------------------------------------ compression


def test_format_guessed_under_the_compression_suffix() -> None:
    assert guess_format("run/XDATCAR.gz") == "xdatcar"
    assert guess_format("dump.lammpstrj.bz2") == "lammps"
    assert guess_format("md.traj.xz") == "traj"
    assert guess_format("md.extxyz.gz") == "extxyz"
    assert guess_format("vasprun.xml.gz") == "vasprun"
    assert guess_format("vasprun_02.xml") == "vasprun"


def test_vasprun_recognised_by_content(tmp_path: Path) -> None:
    frac, cells = random_md(3, SYMBOLS)
    path = tmp_path / "md_run3.xml"
    path.write_text(vasprun_text(frac, cells, SYMBOLS))
    assert guess_format(path) == "vasprun"
    (tmp_path / "other.xml").write_text("<config><a/></config>")
    with pytest.raises(InterfacialError, match="cannot tell the trajectory format"):
        guess_format(tmp_path / "other.xml")


@pytest.mark.parametrize("suffix", ["gz", "bz2", "xz"])
@pytest.mark.parametrize("name", ["XDATCAR", "md.extxyz", "md.traj", "dump.md"])
def test_compressed_file_gives_the_frames_of_the_plain_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, suffix: str
) -> None:
    frac, cells = random_md(8, SYMBOLS)
    plain = tmp_path / name
    if name == "XDATCAR":
        plain.write_text(xdatcar_text(frac, cells[0]))
    elif name == "dump.md":
        rows = []
        for k, f in enumerate(frac):
            rows += ["ITEM: TIMESTEP", str(10 * k), "ITEM: NUMBER OF ATOMS", str(len(SYMBOLS))]
            rows += [
                "ITEM: BOX BOUNDS pp pp pp",
                "0 7",
                "0 8",
                "0 9",
                "ITEM: ATOMS id element x y z",
            ]
            rows += [
                f"{i + 1} {s} {x} {y} {z}"
                for i, (s, (x, y, z)) in enumerate(zip(SYMBOLS, f @ cells[k], strict=True))
            ]
        plain.write_text("\n".join(rows) + "\n")
    else:
        ase.io.write(
            plain,
            [
                Atoms(SYMBOLS, scaled_positions=f, cell=c, pbc=True)
                for f, c in zip(frac, cells, strict=True)
            ],
        )
    packed = compress(plain, suffix)
    # The temporary copy a binary .traj needs must not outlive the read.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    expected = list(iter_frames(plain, time_step_fs=10.0))
    got = list(iter_frames(packed, time_step_fs=10.0))
    frames_equal(got, expected)
    assert count_frames(packed) == count_frames(plain) == len(frac)
    np.testing.assert_allclose(got[3].positions, frac[3] @ cells[3], atol=1e-8)
    assert list(scratch.iterdir()) == []


def test_temporary_copy_is_removed_when_reading_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frac, cells = random_md(5, SYMBOLS)
    plain = tmp_path / "md.traj"
    ase.io.write(
        plain,
        [
            Atoms(SYMBOLS, scaled_positions=f, cell=c, pbc=True)
            for f, c in zip(frac, cells, strict=True)
        ],
    )
    packed = compress(plain, "xz")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    reader = iter_frames(packed, time_step_fs=1.0)
    next(reader)
    assert len(list(scratch.iterdir())) == 1  # the copy exists while reading
    del reader
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("XDATCAR.gz", lambda b: b[: len(b) // 2], "truncated gzip archive"),
        ("XDATCAR.xz", lambda b: b[: len(b) // 2], "truncated xz archive"),
        ("XDATCAR.bz2", lambda b: b[:20] + b"\x00" * 50 + b[70:], "bzip2 archive"),
        ("XDATCAR.gz", lambda b: b"plain text, not gzip", "gzip archive"),
        ("md.traj.gz", lambda b: b[: len(b) // 2], "truncated gzip archive"),
    ],
)
def test_damaged_archive_is_one_clear_error(
    tmp_path: Path, name: str, damage: object, message: str
) -> None:
    frac, cells = random_md(30, SYMBOLS)
    if name.startswith("XDATCAR"):
        data = xdatcar_text(frac, cells[0]).encode()
    else:
        ase.io.write(
            tmp_path / "md.traj",
            [
                Atoms(SYMBOLS, scaled_positions=f, cell=c, pbc=True)
                for f, c in zip(frac, cells, strict=True)
            ],
        )
        data = (tmp_path / "md.traj").read_bytes()
    suffix = name.rsplit(".", 1)[1]
    path = tmp_path / name
    path.write_bytes(damage(COMPRESSORS[suffix](data)))  # type: ignore[operator]
    with pytest.raises(InterfacialError, match=message) as info:
        list(iter_frames(path, time_step_fs=1.0))
    assert str(path) in str(info.value)


@pytest.mark.skipif(not PUBLIC_XDATCAR.is_file(), reason="public AIMD data not present")
def test_public_xdatcar_gz_equals_its_gunzipped_copy(tmp_path: Path) -> None:
    plain = tmp_path / "XDATCAR"
    with gzip.open(PUBLIC_XDATCAR, "rb") as src, plain.open("wb") as out:
        shutil.copyfileobj(src, out)
    packed = list(iter_frames(PUBLIC_XDATCAR, time_step_fs=100.0))
    frames_equal(packed, list(iter_frames(plain, time_step_fs=100.0)))
    # The published run: 416 atoms (Li6PS5Cl, 192 Li), 140 frames 100 fs apart.
    assert len(packed) == 140 == count_frames(PUBLIC_XDATCAR)
    assert len(packed[0].symbols) == 416 and packed[0].symbols.count("Li") == 192
    assert packed[-1].time == pytest.approx(13.9)


@pytest.mark.skipif(not PUBLIC_XDATCAR.is_file(), reason="public AIMD data not present")
def test_public_xdatcar_gz_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "data"))
    plain = tmp_path / "XDATCAR"
    with gzip.open(PUBLIC_XDATCAR, "rb") as src, plain.open("wb") as out:
        shutil.copyfileobj(src, out)
    runner = CliRunner()
    docs = []
    for path in (PUBLIC_XDATCAR, plain):
        result = runner.invoke(
            app, ["diffusion", str(path), "-T", "500", "--time-step", "100", "--json"]
        )
        assert result.exit_code == 0, result.output
        docs.append(json.loads(result.stdout))
    gz, ref = docs
    assert gz["system"] == "Li6PS5Cl_50p_run1_XDATCAR"  # named without the .gz
    assert gz["n_atoms"] == 416
    assert gz["diffusivities"] == ref["diffusivities"]
    li = [d for d in gz["diffusivities"] if d["group"] == "Li" and d["component"] == "total"]
    # Superionic Li at 500 K: D* of order 1e-5 cm^2/s (Morgan, Chem. Mater. 2021); the
    # framework S moves far less.
    s = [d for d in gz["diffusivities"] if d["group"] == "S" and d["component"] == "total"]
    assert 1e-6 < li[0]["D"] < 1e-4
    assert s[0]["D"] < li[0]["D"] / 5


# ------------------------------------------------------------------------------ vasprun.xml


def test_vasprun_frames_match_pymatgen(tmp_path: Path) -> None:
    from pymatgen.io.vasp import Vasprun

    frac, cells = random_md(7, SYMBOLS)
    cells = cells * (1.0 + 0.01 * np.arange(7))[:, None, None]  # a cell that changes (NpT)
    path = tmp_path / "vasprun.xml"
    path.write_text(vasprun_text(frac, cells, SYMBOLS, potim=2.0, nblock=10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    frames = list(iter_frames(path))  # no time step: the file has POTIM
    assert len(frames) == len(reference.ionic_steps) == 7 == count_frames(path)
    for k, (frame, step) in enumerate(zip(frames, reference.ionic_steps, strict=True)):
        structure = step["structure"]
        assert frame.symbols == tuple(s.specie.symbol for s in structure) == SYMBOLS
        np.testing.assert_allclose(frame.cell, structure.lattice.matrix, atol=1e-12)
        np.testing.assert_allclose(frame.positions, structure.cart_coords, atol=1e-10)
        np.testing.assert_allclose(frame.positions, frac[k] @ cells[k], atol=1e-6)
        # vasprun.xml stores every step (NBLOCK thins XDATCAR only): POTIM apart.
        assert frame.time == pytest.approx(k * 2.0 / 1000.0, abs=1e-12)


def test_vasprun_machine_learned_run_stores_every_ml_outblock_step(tmp_path: Path) -> None:
    frac, cells = random_md(4, SYMBOLS)
    path = tmp_path / "vasprun.xml"
    path.write_text(vasprun_text(frac, cells, SYMBOLS, potim=1.5, ml_outblock=10))
    times = [f.time for f in iter_frames(path)]
    assert times == pytest.approx([0.0, 0.015, 0.030, 0.045])


def test_vasprun_compressed_and_given_time_step(tmp_path: Path) -> None:
    frac, cells = random_md(5, SYMBOLS)
    plain = tmp_path / "vasprun.xml"
    plain.write_text(vasprun_text(frac, cells, SYMBOLS, potim=2.0))
    packed = compress(plain, "gz")
    frames_equal(list(iter_frames(packed)), list(iter_frames(plain, time_step_fs=2.0)))
    with pytest.raises(InterfacialError, match=r"time step 100 fs .* contradicts .* 2 fs"):
        iter_frames(packed, time_step_fs=100.0)


def test_truncated_vasprun_gives_its_complete_steps(tmp_path: Path) -> None:
    frac, cells = random_md(9, SYMBOLS)
    full = vasprun_text(frac, cells, SYMBOLS)
    # Killed while writing step 7: the file ends inside its <calculation>.
    cut = full.index('<varray name="forces"', full.index("<calculation>", 0) + 1)
    for _ in range(6):
        cut = full.index('<varray name="forces"', cut + 1)
    path = tmp_path / "vasprun.xml"
    path.write_text(full[:cut])
    with pytest.warns(TruncatedTrajectoryWarning, match="ends inside ionic step 7.*6 complete"):
        frames = list(iter_frames(path))
    assert len(frames) == 6 == count_frames(path)
    for k, frame in enumerate(frames):
        np.testing.assert_allclose(frame.positions, frac[k] @ cells[k], atol=1e-6)
    # A run killed between steps (no closing tags) loses nothing.
    whole_steps = tmp_path / "vasprun_b.xml"
    whole_steps.write_text(vasprun_text(frac, cells, SYMBOLS, complete=False))
    with pytest.warns(TruncatedTrajectoryWarning):
        assert len(list(iter_frames(whole_steps))) == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lambda t: t[: t.index("<calculation>")], "no MD steps"),
        (lambda t: t.replace('name="IBRION">     0', 'name="IBRION">     2'), "IBRION = 2"),
        (lambda t: "<html>not vasp</html>", "not a vasprun"),
        (lambda t: "\x00\x01 binary", "not a readable vasprun"),
    ],
)
def test_bad_vasprun(tmp_path: Path, text: object, message: str) -> None:
    frac, cells = random_md(3, SYMBOLS)
    path = tmp_path / "vasprun.xml"
    path.write_text(text(vasprun_text(frac, cells, SYMBOLS)))  # type: ignore[operator]
    with pytest.raises(InterfacialError, match=message) as info:
        list(iter_frames(path))
    assert str(path) in str(info.value)


def test_vasprun_memory_does_not_grow_with_the_run(tmp_path: Path) -> None:
    """Each step's element is dropped once read: tracemalloc's peak stays that of a few steps."""
    import tracemalloc

    symbols = ("Li",) * 60 + ("S",) * 40
    peaks, sizes = [], []
    for n in (20, 200):
        frac, cells = random_md(n, symbols)
        path = tmp_path / f"vasprun_{n}.xml"
        path.write_text(vasprun_text(frac, cells, symbols))
        sizes.append(path.stat().st_size)
        list(iter_frames(path))  # imports and caches outside the measurement
        tracemalloc.start()
        for _ in iter_frames(path):
            pass
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # 10x the steps (a 10x larger file): the peak stays that of a few steps (ASE's vasp-xml
    # reader, which keeps every step, peaks at 5x the file size here).
    assert peaks[1] < 1.5 * peaks[0], peaks
    assert peaks[1] < sizes[1] / 4, (peaks, sizes)


# ------------------------------------------------------------------------------ segments


@pytest.mark.parametrize("kind", ["xdatcar", "vasprun"])
@pytest.mark.parametrize("repeat", [True, False])
def test_segments_read_as_one_run(tmp_path: Path, kind: str, repeat: bool) -> None:
    frac, cells = random_md(12, SYMBOLS)
    # A restart from frame 6: with repeat, segment 2 writes its starting frame again.
    parts = [
        (frac[:7], cells[:7]),
        (frac[6:] if repeat else frac[7:], cells[6:] if repeat else cells[7:]),
    ]
    paths = []
    for k, (f, c) in enumerate(parts):
        if kind == "xdatcar":
            path = tmp_path / f"XDATCAR_{k}"
            path.write_text(xdatcar_text(f, c[0]))
        else:
            path = tmp_path / f"vasprun_{k}.xml.gz"
            path.write_bytes(gzip.compress(vasprun_text(f, c, SYMBOLS, potim=5.0).encode()))
        paths.append(path)
    frames = list(iter_frames(paths, time_step_fs=None if kind == "vasprun" else 5.0))
    assert len(frames) == 12
    np.testing.assert_allclose([f.time for f in frames], 0.005 * np.arange(12), atol=1e-12)
    for k, frame in enumerate(frames):
        np.testing.assert_allclose(frame.positions, frac[k] @ cells[k], atol=1e-6)


def test_vasprun_segments_need_one_time_step(tmp_path: Path) -> None:
    frac, cells = random_md(4, SYMBOLS)
    a, b = tmp_path / "vasprun_1.xml", tmp_path / "vasprun_2.xml"
    a.write_text(vasprun_text(frac, cells, SYMBOLS, potim=2.0))
    b.write_text(vasprun_text(frac, cells, SYMBOLS, potim=1.0))
    with pytest.raises(InterfacialError, match="same POTIM"):
        iter_frames([a, b])


def test_mixed_formats_are_refused(tmp_path: Path) -> None:
    frac, cells = random_md(4, SYMBOLS)
    (tmp_path / "XDATCAR").write_text(xdatcar_text(frac, cells[0]))
    (tmp_path / "vasprun.xml").write_text(vasprun_text(frac, cells, SYMBOLS))
    with pytest.raises(InterfacialError, match="one format"):
        iter_frames([tmp_path / "vasprun.xml", tmp_path / "XDATCAR"], time_step_fs=2.0)


# ------------------------------------------------------------------------------ ASE formats


def test_any_ase_format_and_ase_guess(tmp_path: Path) -> None:
    frac, cells = random_md(5, SYMBOLS)
    images = [
        Atoms(SYMBOLS, scaled_positions=f, cell=c, pbc=True)
        for f, c in zip(frac, cells, strict=True)
    ]
    xsf = tmp_path / "anim.xsf"
    ase.io.write(xsf, images)
    frames = list(iter_frames(xsf, fmt="ase:xsf", time_step_fs=50.0))
    assert len(frames) == 5 == count_frames(xsf, fmt="ase:xsf")
    assert frames[4].time == pytest.approx(0.2)
    np.testing.assert_allclose(frames[2].positions, frac[2] @ cells[2], atol=1e-6)
    packed = compress(xsf, "bz2")
    frames_equal(list(iter_frames(packed, fmt="ase:xsf", time_step_fs=50.0)), frames)
    with pytest.raises(InterfacialError, match="--time-step"):
        iter_frames(xsf, fmt="ase:xsf")
    with pytest.raises(InterfacialError, match="no reader named 'nosuch'"):
        iter_frames(xsf, fmt="ase:nosuch", time_step_fs=1.0)
    # A name that tells nothing: ASE recognises a .traj by its content.
    traj = tmp_path / "run.frames"
    ase.io.write(traj, images, format="traj")
    assert guess_format(traj) == "traj"
    dump = tmp_path / "frames.out"
    dump.write_text(
        "ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS pp pp pp\n"
        "0 5\n0 5\n0 5\nITEM: ATOMS id element x y z\n1 Li 0 0 0\n"
    )
    assert guess_format(dump) == "lammps"  # read by our own dump reader


def test_ase_info_time_and_a_contradicting_time_step(tmp_path: Path) -> None:
    frac, cells = random_md(4, SYMBOLS)
    images = []
    for k, (f, c) in enumerate(zip(frac, cells, strict=True)):
        atoms = Atoms(SYMBOLS, scaled_positions=f, cell=c, pbc=True)
        atoms.info["time"] = 0.25 * k  # ps
        images.append(atoms)
    ase.io.write(tmp_path / "md.extxyz", images)
    path = compress(tmp_path / "md.extxyz", "gz")
    assert [f.time for f in iter_frames(path)] == pytest.approx([0, 0.25, 0.5, 0.75])
    assert [f.time for f in iter_frames(path, time_step_fs=250.0)] == pytest.approx(
        [0, 0.25, 0.5, 0.75]
    )
    with pytest.raises(InterfacialError, match=r"time step 100 fs .* contradicts .* 250 fs"):
        iter_frames(path, time_step_fs=100.0)


def test_vasprun_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No --time-step for a vasprun.xml.gz; a truncated one runs and says so in one note."""
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "data"))
    frac, cells = random_md(60, SYMBOLS, step_a=0.2)
    full = vasprun_text(frac, cells, SYMBOLS, potim=2.0)
    packed = tmp_path / "vasprun.xml.gz"
    packed.write_bytes(gzip.compress(full.encode()))
    cut = tmp_path / "vasprun_killed.xml"
    cut.write_text(full[: full.index("<calculation>", len(full) // 2) + 40])
    runner = CliRunner()
    result = runner.invoke(app, ["diffusion", str(packed), "-T", "600", "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["system"] == "vasprun"
    result = runner.invoke(app, ["diffusion", str(cut), "-T", "600", "--json"])
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "vasprun_killed.xml ends inside ionic step" in notes[0]
    n_complete = full[: full.index("<calculation>", len(full) // 2)].count("</calculation>")
    assert f"read its {n_complete} complete steps" in notes[0]
