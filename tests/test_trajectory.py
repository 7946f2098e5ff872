"""Streaming trajectory readers and trajectory MSDs, checked against synthetic walks we write."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms

from interfacial.analysis.diffusivity import fit_window_default
from interfacial.analysis.msd import COMPONENT_DIMENSION
from interfacial.diffusion import check_fit_window, trajectory_msd
from interfacial.errors import InterfacialError
from interfacial.trajectory import (
    Frame,
    count_frames,
    default_groups,
    guess_format,
    iter_frames,
    measured_temperature,
    parse_group,
)

# A triclinic LAMMPS box: edge lengths, tilts and origin (A) chosen by hand.
LX, LY, LZ = 8.0, 9.0, 10.0
XY, XZ, YZ = 1.5, -0.8, 0.6
ORIGIN = np.array([-1.0, 0.5, 2.0])
CELL = np.array([[LX, 0.0, 0.0], [XY, LY, 0.0], [XZ, YZ, LZ]])
SYMBOLS = ("Li",) * 6 + ("S",) * 3 + ("P",)
SPECIES = ("Li", "P", "S")  # LAMMPS type 1, 2, 3
TYPES = np.array([SPECIES.index(s) + 1 for s in SYMBOLS])
DT_FS = 2.0  # MD time step (fs)
STRIDE = 50  # MD steps between dumped frames
FRAME_PS = DT_FS * STRIDE / 1000.0  # 0.1 ps between frames


def walk(
    rng: np.random.Generator,
    n_atoms: int,
    n_frames: int,
    d_xyz: tuple[float, float, float],
    dt_ps: float = FRAME_PS,
) -> np.ndarray:
    """Unwrapped Gaussian walk (n_frames, n_atoms, 3) in A; step variance 2 D dt per axis."""
    start = ORIGIN + rng.uniform(0.0, 1.0, size=(n_atoms, 3)) @ CELL
    steps = rng.normal(size=(n_frames - 1, n_atoms, 3)) * np.sqrt(2.0 * np.array(d_xyz) * dt_ps)
    return np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])


def split_periodic(unwrapped: np.ndarray, cell: np.ndarray = CELL) -> tuple[np.ndarray, ...]:
    """Wrapped Cartesian, wrapped fractional and integer image flags of unwrapped positions."""
    frac = (unwrapped - ORIGIN) @ np.linalg.inv(cell)
    images = np.floor(frac)
    wrapped_frac = frac - images
    return ORIGIN + wrapped_frac @ cell, wrapped_frac, images.astype(int)


def num(value: float) -> str:
    """Shortest text that reads back as the same double."""
    return repr(float(value))


def bounding_box(cell: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Axis-aligned bounding box of the 8 cell corners, rows (lo, hi) for x, y, z (A)."""
    corners = np.array([origin + np.array(c) @ cell for c in product((0, 1), repeat=3)])
    return np.column_stack([corners.min(axis=0), corners.max(axis=0)])


def write_dump(
    path: Path,
    traj: np.ndarray,
    steps: Sequence[int],
    columns: str,
    *,
    rng: np.random.Generator,
    cell: np.ndarray = CELL,
    triclinic: bool = True,
    symbols: Sequence[str] = SYMBOLS,
    types: np.ndarray = TYPES,
) -> None:
    """A LAMMPS dump custom text file, atoms in a shuffled order every frame."""
    names = columns.split()
    lines: list[str] = []
    for step, unwrapped in zip(steps, traj, strict=True):
        wrapped, wrapped_frac, images = split_periodic(unwrapped, cell)
        unwrapped_frac = (unwrapped - ORIGIN) @ np.linalg.inv(cell)
        n = len(unwrapped)
        lines += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(n)]
        if triclinic:
            box = bounding_box(cell, ORIGIN)
            tilts = (cell[1, 0], cell[2, 0], cell[2, 1])
            lines.append("ITEM: BOX BOUNDS xy xz yz pp pp pp")
            lines += [
                f"{num(lo)} {num(hi)} {num(t)}" for (lo, hi), t in zip(box, tilts, strict=True)
            ]
        else:
            lines.append("ITEM: BOX BOUNDS pp pp pp")
            lines += [f"{num(ORIGIN[k])} {num(ORIGIN[k] + cell[k, k])}" for k in range(3)]
        lines.append("ITEM: ATOMS " + columns)
        values = {
            "id": [str(i + 1) for i in range(n)],
            "type": [str(t) for t in types],
            "element": list(symbols),
        }
        for k, axis in enumerate("xyz"):
            values[axis] = [num(v) for v in wrapped[:, k]]
            values[axis + "u"] = [num(v) for v in unwrapped[:, k]]
            values[axis + "s"] = [num(v) for v in wrapped_frac[:, k]]
            values[axis + "su"] = [num(v) for v in unwrapped_frac[:, k]]
            values["i" + axis] = [str(v) for v in images[:, k]]
        for i in rng.permutation(n):
            lines.append(" ".join(values[c][i] for c in names))
    path.write_text("\n".join(lines) + "\n")


def write_xdatcar(
    path: Path, frac: np.ndarray, cells: np.ndarray, *, variable_cell: bool = False
) -> None:
    """A VASP 5 XDATCAR of fractional coordinates (atoms grouped by element as VASP does)."""
    elements = ["Li", "S", "P"]
    counts = [SYMBOLS.count(e) for e in elements]

    def header(cell: np.ndarray) -> list[str]:
        return [
            "synthetic walk",
            "    1.0",
            *("  ".join(num(v) for v in row) for row in cell),
            "   " + "   ".join(elements),
            "   " + "   ".join(str(c) for c in counts),
        ]

    lines = header(cells[0])
    for k, (f, cell) in enumerate(zip(frac, cells, strict=True)):
        if variable_cell and k > 0:
            lines += header(cell)
        lines.append(f"Direct configuration= {k + 1:5d}")
        lines += ["  ".join(num(v) for v in row) for row in f]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def traj(rng: np.random.Generator) -> np.ndarray:
    # D = 2 A^2/ps: 0.63 A per frame and axis, so atoms cross the 8-10 A cell several times.
    return walk(rng, len(SYMBOLS), 60, (2.0, 2.0, 2.0))


def steps_of(n: int, first: int = 0) -> list[int]:
    return [first + STRIDE * k for k in range(n)]


# ------------------------------------------------------------------------------ LAMMPS dumps


@pytest.mark.parametrize(
    ("columns", "unwrapped"),
    [
        ("id type x y z", False),
        ("id element x y z ix iy iz", True),
        ("id type xs ys zs", False),
        ("id type xs ys zs ix iy iz", True),
        ("id type xu yu zu", True),
        ("id element xsu ysu zsu", True),
    ],
)
def test_lammps_triclinic_dump_round_trip(
    tmp_path: Path, rng: np.random.Generator, traj: np.ndarray, columns: str, unwrapped: bool
) -> None:
    path = tmp_path / "md.dump"
    write_dump(path, traj, steps_of(len(traj), first=1000), columns, rng=rng)
    frames = list(iter_frames(path, time_step_fs=DT_FS, species_order=SPECIES))
    assert len(frames) == len(traj) == count_frames(path)
    for k, (frame, expected) in enumerate(zip(frames, traj, strict=True)):
        assert frame.unwrapped is unwrapped
        np.testing.assert_allclose(frame.cell, CELL, atol=1e-8)
        want = expected if unwrapped else split_periodic(expected)[0]
        np.testing.assert_allclose(frame.positions, want, atol=1e-8)
        assert frame.time == pytest.approx((1000 + STRIDE * k) * DT_FS / 1000.0, abs=1e-12)
        assert frame.symbols == SYMBOLS
        assert frame.ids is not None
        np.testing.assert_array_equal(frame.ids, np.arange(1, len(SYMBOLS) + 1))


def test_lammps_orthogonal_box(tmp_path: Path, rng: np.random.Generator) -> None:
    cell = np.diag([LX, LY, LZ])
    traj = walk(rng, len(SYMBOLS), 5, (1.0, 1.0, 1.0))
    path = tmp_path / "dump.md"
    write_dump(path, traj, steps_of(5), "id type xs ys zs", rng=rng, cell=cell, triclinic=False)
    for frame, expected in zip(
        iter_frames(path, time_step_fs=1.0, species_order=SPECIES), traj, strict=True
    ):
        np.testing.assert_allclose(frame.cell, cell, atol=1e-12)
        np.testing.assert_allclose(frame.positions, split_periodic(expected, cell)[0], atol=1e-8)


def test_lammps_segments_read_as_one_run(
    tmp_path: Path, rng: np.random.Generator, traj: np.ndarray
) -> None:
    steps = steps_of(len(traj))
    # Segment 2 restarts from frame 30, which both dumps contain.
    first, second = tmp_path / "seg1.lammpstrj", tmp_path / "seg2.lammpstrj"
    write_dump(first, traj[:31], steps[:31], "id element x y z ix iy iz", rng=rng)
    write_dump(second, traj[30:], steps[30:], "id element x y z ix iy iz", rng=rng)
    frames = list(iter_frames([first, second], time_step_fs=DT_FS))
    assert len(frames) == len(traj) == count_frames([first, second])
    times = np.array([f.time for f in frames])
    np.testing.assert_allclose(times, np.array(steps) * DT_FS / 1000.0, atol=1e-12)
    np.testing.assert_allclose(np.array([f.positions for f in frames]), traj, atol=1e-8)


# ------------------------------------------------------------------------- ASE and XDATCAR


@pytest.mark.parametrize("name", ["md.traj", "md.extxyz"])
def test_ase_formats_round_trip(tmp_path: Path, traj: np.ndarray, name: str) -> None:
    wrapped = [split_periodic(t)[0] for t in traj]
    images = [Atoms(SYMBOLS, positions=w, cell=CELL, pbc=True) for w in wrapped]
    path = tmp_path / name
    ase.io.write(path, images)
    frames = list(iter_frames(path, time_step_fs=100.0))
    assert len(frames) == len(traj) == count_frames(path)
    for k, (frame, w) in enumerate(zip(frames, wrapped, strict=True)):
        assert not frame.unwrapped
        assert frame.symbols == SYMBOLS
        assert frame.time == pytest.approx(0.1 * k, abs=1e-12)
        np.testing.assert_allclose(frame.positions, w, atol=1e-8)
        np.testing.assert_allclose(frame.cell, CELL, atol=1e-8)


def test_ase_time_from_info(tmp_path: Path, traj: np.ndarray) -> None:
    images = []
    for k, t in enumerate(traj[:4]):
        atoms = Atoms(SYMBOLS, positions=t, cell=CELL, pbc=True)
        atoms.info["time"] = 5.0 + 0.25 * k
        images.append(atoms)
    path = tmp_path / "md.extxyz"
    ase.io.write(path, images)
    assert [f.time for f in iter_frames(path)] == pytest.approx([5.0, 5.25, 5.5, 5.75])


@pytest.mark.parametrize("variable_cell", [False, True])
def test_xdatcar_round_trip(tmp_path: Path, traj: np.ndarray, variable_cell: bool) -> None:
    n = 12
    # Group atoms by element as in a POSCAR: Li, S, P is already the order of SYMBOLS.
    cells = np.array([CELL * (1.0 + 0.01 * np.sin(k) * variable_cell) for k in range(n)])
    frac = np.array(
        [(t - ORIGIN) @ np.linalg.inv(c) % 1.0 for t, c in zip(traj, cells, strict=False)]
    )
    path = tmp_path / "XDATCAR"
    write_xdatcar(path, frac, cells, variable_cell=variable_cell)
    frames = list(iter_frames(path, time_step_fs=10.0))
    assert len(frames) == n == count_frames(path)
    for k, frame in enumerate(frames):
        assert frame.symbols == SYMBOLS
        assert frame.time == pytest.approx(0.01 * k, abs=1e-12)
        np.testing.assert_allclose(frame.cell, cells[k], atol=1e-8)
        np.testing.assert_allclose(frame.positions, frac[k] @ cells[k], atol=1e-8)


def test_format_guessing() -> None:
    assert guess_format("run/md.dump") == "lammps"
    assert guess_format("dump.li") == "lammps"
    assert guess_format("a.lammpstrj") == "lammps"
    assert guess_format("md.traj") == "traj"
    assert guess_format("XDATCAR_900K") == "xdatcar"
    assert guess_format("md.xyz") == "extxyz"


# ------------------------------------------------------------------------------------- MSD


def direct_msd(
    unwrapped: np.ndarray,
    group: Sequence[int],
    max_lag: int,
    every: int = 1,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """All-in-memory MSD per axis (n_lags, 3), COM drift removed (all atoms, equal weights)."""
    if weights is None:
        weights = np.full(unwrapped.shape[1], 1.0 / unwrapped.shape[1])
    com = np.einsum("i,tij->tj", weights, unwrapped)
    n = len(unwrapped)
    out = np.zeros((max_lag + 1, 3))
    for lag in range(max_lag + 1):
        origins = np.arange(0, n - lag, every)
        disp = unwrapped[origins + lag] - unwrapped[origins]
        disp -= (com[origins + lag] - com[origins])[:, None, :]
        out[lag] = (disp[:, group, :] ** 2).mean(axis=(0, 1))
    return out


@pytest.mark.parametrize(
    ("origin_interval", "columns"), [(1, "id type x y z"), (3, "id type xs ys zs")]
)
def test_trajectory_msd_equals_direct_computation(
    tmp_path: Path,
    rng: np.random.Generator,
    traj: np.ndarray,
    origin_interval: int,
    columns: str,
) -> None:
    path = tmp_path / "md.dump"
    write_dump(path, traj, steps_of(len(traj)), columns, rng=rng)
    groups = default_groups(SYMBOLS)
    max_lag = 25
    result = trajectory_msd(
        iter_frames(path, time_step_fs=DT_FS, species_order=SPECIES),
        groups,
        max_lag=max_lag,
        origin_interval=origin_interval,
    )
    assert result.n_frames == len(traj)
    np.testing.assert_allclose(result.lag_times, FRAME_PS * np.arange(max_lag + 1), atol=1e-12)
    for name, group in groups.items():
        want = direct_msd(traj, group, max_lag, every=origin_interval)
        got = result.msd[name]
        np.testing.assert_allclose(got["x"], want[:, 0], atol=1e-10)
        np.testing.assert_allclose(got["in-plane"], want[:, :2].sum(axis=1), atol=1e-10)
        np.testing.assert_allclose(got["out-of-plane"], want[:, 2], atol=1e-10)
        np.testing.assert_allclose(got["total"], want.sum(axis=1), atol=1e-10)


def test_trajectory_msd_of_a_few_atoms_with_mass_weighted_drift(traj: np.ndarray) -> None:
    # Groups that leave atoms out, unsorted indices, drift from the heavy framework atoms only.
    frames = [
        Frame(split_periodic(t)[0], CELL, 0.1 * k, SYMBOLS, None, False) for k, t in enumerate(traj)
    ]
    masses = np.array([6.94] * 6 + [32.06] * 3 + [30.97])
    drift = [6, 7, 8, 9]
    groups = {"two Li": [4, 1], "P": [9], "Li and S": [0, 8, 2]}
    result = trajectory_msd(
        frames, groups, max_lag=20, origin_interval=2, masses=masses, drift_atoms=drift
    )
    weights = np.zeros(len(SYMBOLS))
    weights[drift] = masses[drift] / masses[drift].sum()
    for name, group in groups.items():
        want = direct_msd(traj, group, 20, every=2, weights=weights)
        np.testing.assert_allclose(result.msd[name]["total"], want.sum(axis=1), atol=1e-10)
        np.testing.assert_allclose(result.msd[name]["z"], want[:, 2], atol=1e-10)


def test_trajectory_msd_refuses_mixed_wrapping(traj: np.ndarray) -> None:
    frames = [Frame(t, CELL, 0.1 * k, SYMBOLS, None, k < 3) for k, t in enumerate(traj[:6])]
    with pytest.raises(InterfacialError, match="frame 3: coordinates switch"):
        trajectory_msd(frames, {"Li": [0]}, progress=True)


def test_lammps_general_triclinic_box(tmp_path: Path) -> None:
    a, b, c = [5.0, 0.0, 0.0], [1.0, 6.0, 0.0], [0.5, -0.5, 7.0]
    origin = [0.1, 0.2, 0.3]
    lines = []
    for step in (0, 10):
        lines += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", "2"]
        lines.append("ITEM: BOX BOUNDS abc origin pp pp pp")
        lines += [" ".join(map(str, [*v, o])) for v, o in zip((a, b, c), origin, strict=True)]
        lines += ["ITEM: ATOMS id element xs ys zs", "2 S 0.5 0.5 0.5", "1 Li 0 0 0"]
    path = tmp_path / "general.dump"
    path.write_text("\n".join(lines) + "\n")
    frame = next(iter_frames(path, time_step_fs=1.0))
    np.testing.assert_allclose(frame.cell, [a, b, c])
    np.testing.assert_allclose(frame.positions[0], origin)
    np.testing.assert_allclose(frame.positions[1], np.add(origin, 0.5 * np.sum([a, b, c], axis=0)))
    assert frame.symbols == ("Li", "S")


def test_default_max_lag_from_a_first_pass_over_the_files(
    tmp_path: Path, rng: np.random.Generator, traj: np.ndarray
) -> None:
    path = tmp_path / "md.dump"
    write_dump(path, traj, steps_of(len(traj)), "id type x y z", rng=rng)
    reader = iter_frames(path, time_step_fs=DT_FS, species_order=SPECIES)
    result = trajectory_msd(reader, {"Li": [0, 1, 2]}, progress=True)
    assert result.n_frames == len(traj)
    assert result.lag_times.size == len(traj) // 2 + 1
    assert measured_temperature(path) is None  # a dump holds no velocities we can read


def test_setup_errors_come_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(InterfacialError, match="not found"):
        iter_frames(tmp_path / "missing.dump", time_step_fs=1.0)


def test_measured_temperature_from_ase_momenta(tmp_path: Path, traj: np.ndarray) -> None:
    rng = np.random.default_rng(11)
    masses = np.array([6.94] * 6 + [32.06] * 3 + [30.97])  # amu
    images, temps = [], []
    for t in traj[:5]:
        atoms = Atoms(SYMBOLS, positions=t, cell=CELL, pbc=True, masses=masses)
        momenta = rng.normal(size=(len(SYMBOLS), 3)) * np.sqrt(masses)[:, None] * 0.05
        atoms.set_momenta(momenta)
        images.append(atoms)
        kinetic = float(np.sum(momenta**2 / (2.0 * masses[:, None])))  # eV in ASE units
        temps.append(2.0 * kinetic / ((3 * len(SYMBOLS) - 3) * 8.617333262e-5))
    path = tmp_path / "md.traj"
    ase.io.write(path, images)
    assert measured_temperature(path) == pytest.approx(np.mean(temps), rel=1e-10)
    still = tmp_path / "still.extxyz"
    ase.io.write(still, [Atoms(SYMBOLS, positions=t, cell=CELL, pbc=True) for t in traj[:2]])
    assert measured_temperature(still) is None


def test_default_max_lag_is_half_the_frames(traj: np.ndarray) -> None:
    frames = [Frame(t, CELL, 0.1 * k, SYMBOLS, None, True) for k, t in enumerate(traj)]
    result = trajectory_msd(frames, {"Li": [0, 1, 2]})
    assert result.lag_times.size == len(traj) // 2 + 1


def test_anisotropic_walk_recovers_d_in_and_out_of_plane(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    d_in, d_out = 0.5, 0.1  # A^2/ps
    n_atoms, n_frames = 64, 1500
    traj = walk(rng, n_atoms, n_frames, (d_in, d_in, d_out))
    symbols = ["Li"] * n_atoms
    path = tmp_path / "aniso.dump"
    write_dump(
        path,
        traj,
        steps_of(n_frames),
        "id type x y z",
        rng=rng,
        symbols=symbols,
        types=np.ones(n_atoms, dtype=int),
    )
    result = trajectory_msd(
        iter_frames(path, time_step_fs=DT_FS, species_order=["Li"]),
        {"Li": list(range(n_atoms))},
        max_lag=count_frames(path) // 2,
        origin_interval=5,
    )
    run_time = (n_frames - 1) * FRAME_PS
    window = check_fit_window(fit_window_default(result.lag_times, run_time), result.lag_times)
    assert window == pytest.approx((0.1 * run_time, 0.5 * run_time), rel=1e-3)
    com = 1.0 - 1.0 / n_atoms  # the removed centre of mass lowers the MSD by 1 - 1/N
    d_total = (2 * d_in + d_out) / 3
    for component, d_true in (("in-plane", d_in), ("out-of-plane", d_out), ("total", d_total)):
        fit = result.diffusivity("Li", component, window)
        assert fit.dimension == COMPONENT_DIMENSION[component]
        expected = d_true * com * 1e-4  # cm^2/s
        assert abs(fit.D - expected) < 3.5 * fit.sigma_D, (component, fit.D, expected)
        assert fit.sigma_D < 0.3 * expected


# ------------------------------------------------------------------------- groups, windows


def test_default_groups_by_species_and_region() -> None:
    symbols = ["Li", "Li", "S", "Li", "P", "Li"]
    regions = ["compound", "compound", "compound", "metal", "compound", "metal"]
    assert default_groups(symbols) == {"Li": [0, 1, 3, 5], "S": [2], "P": [4]}
    groups = default_groups(symbols, regions)
    assert groups["Li compound"] == [0, 1]
    assert groups["Li metal"] == [3, 5]
    assert groups["S"] == [2]


def test_parse_group_grammar() -> None:
    symbols = ["Li", "Li", "S", "Li", "P", "Li"]
    regions = ["compound", "compound", "compound", "metal", "compound", "metal"]
    assert parse_group("a=Li", symbols) == ("a", [0, 1, 3, 5])
    assert parse_group("b = S,P", symbols) == ("b", [2, 4])
    assert parse_group("c=region:metal&Li", symbols, regions) == ("c", [3, 5])
    assert parse_group("d=region:compound&Li", symbols, regions) == ("d", [0, 1])
    assert parse_group("e=1-3,6", symbols) == ("e", [0, 1, 2, 5])
    assert parse_group("f=11-12", symbols, ids=[10, 11, 12, 13, 14, 15]) == ("f", [1, 2])
    assert parse_group("g=1-4&Li", symbols) == ("g", [0, 1, 3])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Li", "NAME=SELECTION"),
        ("=Li", "NAME=SELECTION"),
        ("a=Xx", "neither an element"),
        ("a=Na", "no Na atoms"),
        ("a=region:metal", "needs the region"),
        ("a=7-8", "does not exist"),
        ("a=3-1", "reversed"),
        ("a=S&P", "selects no atoms"),
    ],
)
def test_parse_group_errors(spec: str, message: str) -> None:
    with pytest.raises(InterfacialError, match=message):
        parse_group(spec, ["Li", "Li", "S", "Li", "P", "Li"])


def test_parse_group_unknown_region() -> None:
    with pytest.raises(InterfacialError, match="unknown region 'anode'"):
        parse_group("a=region:anode", ["Li", "S"], ["metal", "compound"])


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ((2.0, 1.0), "empty or reversed"),
        ((1.0, 50.0), "only reaches"),
        ((1.0, 1.25), "holds 3 MSD points"),
        ((-1.0, 2.0), "negative"),
    ],
)
def test_check_fit_window_errors(window: tuple[float, float], message: str) -> None:
    lag_times = 0.1 * np.arange(101)  # 0 .. 10 ps
    with pytest.raises(InterfacialError, match=message):
        check_fit_window(window, lag_times)
    assert check_fit_window((1.0, 9.0), lag_times) == (1.0, 9.0)


def test_fit_window_default_follows_short_max_lag() -> None:
    lag_times = 0.1 * np.arange(51)  # MSD to 5 ps of a 100 ps run
    assert fit_window_default(lag_times, 100.0) == pytest.approx((1.0, 5.0))


# ------------------------------------------------------------------------------- bad input


def dump_text(
    frames: Sequence[tuple[int, Sequence[tuple[int, int, float]]]],
    box: str = "0 10\n0 10\n0 10",
) -> str:
    """Dump text of (step, [(id, type, x), ...]) frames, y = z = 1."""
    out = []
    for step, atoms in frames:
        out += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(len(atoms))]
        out += ["ITEM: BOX BOUNDS pp pp pp", box, "ITEM: ATOMS id type x y z"]
        out += [f"{i} {t} {x} 1 1" for i, t, x in atoms]
    return "\n".join(out) + "\n"


GOOD = [(1, 1, 1.0), (2, 2, 2.0)]


@pytest.mark.parametrize(
    ("frames", "box", "message"),
    [
        ([(0, GOOD)], "0 10\n0 10\n0 10", "at least 2"),
        ([(0, GOOD), (10, [*GOOD, (3, 1, 3.0)])], "0 10\n0 10\n0 10", "3 atoms but the first"),
        ([(0, GOOD), (10, GOOD)], "0 10\n0 10\n0 0", "degenerate cell"),
        ([(0, GOOD), (10, [(1, 2, 1.0), (2, 2, 2.0)])], "0 10\n0 10\n0 10", "symbols must not"),
        ([(0, GOOD), (10, [(1, 1, 1.0), (5, 2, 2.0)])], "0 10\n0 10\n0 10", "atom ids differ"),
        ([(10, GOOD), (10, GOOD)], "0 10\n0 10\n0 10", "does not increase"),
        ([(10, GOOD), (5, GOOD)], "0 10\n0 10\n0 10", "does not increase"),
        ([(0, GOOD), (10, [(1, 1, 1.0), (2, 3, 2.0)])], "0 10\n0 10\n0 10", "outside species"),
    ],
)
def test_bad_lammps_dumps(tmp_path: Path, frames: list, box: str, message: str) -> None:
    path = tmp_path / "bad.dump"
    path.write_text(dump_text(frames, box))
    with pytest.raises(InterfacialError, match=message) as info:
        list(iter_frames(path, time_step_fs=1.0, species_order=["Li", "S"]))
    assert str(path) in str(info.value)


def test_error_names_file_and_frame(tmp_path: Path) -> None:
    path = tmp_path / "bad.dump"
    path.write_text(dump_text([(0, GOOD), (10, GOOD), (20, [(1, 1, 1.0)])]))
    with pytest.raises(InterfacialError, match=r"bad\.dump, step 20: 1 atoms"):
        list(iter_frames(path, time_step_fs=1.0, species_order=["Li", "S"]))


def test_lammps_needs_time_step_and_species_order(tmp_path: Path) -> None:
    path = tmp_path / "md.dump"
    path.write_text(dump_text([(0, GOOD), (10, GOOD)]))
    with pytest.raises(InterfacialError, match="time_step_fs"):
        list(iter_frames(path, species_order=["Li", "S"]))
    with pytest.raises(InterfacialError, match="species_order"):
        list(iter_frames(path, time_step_fs=1.0))


def test_truncated_dump(tmp_path: Path) -> None:
    path = tmp_path / "md.dump"
    text = dump_text([(0, GOOD), (10, GOOD)])
    path.write_text(text[: text.rindex("2 2 2.0")])
    with pytest.raises(InterfacialError, match="truncated"):
        list(iter_frames(path, time_step_fs=1.0, species_order=["Li", "S"]))


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "md.unknown"  # (.bin is a LAMMPS binary dump, .data a LAMMPS data file)
    path.write_text("x")
    with pytest.raises(InterfacialError, match="cannot tell the trajectory format"):
        list(iter_frames(path, time_step_fs=1.0))
    with pytest.raises(InterfacialError, match="unknown trajectory format 'pdb'"):
        list(iter_frames(path, fmt="pdb", time_step_fs=1.0))
    with pytest.raises(InterfacialError, match="not found"):
        list(iter_frames(tmp_path / "missing.dump", time_step_fs=1.0))


def test_missing_cell_in_extxyz(tmp_path: Path) -> None:
    path = tmp_path / "nocell.extxyz"
    ase.io.write(path, [Atoms("Li2", positions=[[0, 0, 0], [1, 1, 1]])] * 2)
    with pytest.raises(InterfacialError, match=r"nocell\.extxyz, frame 1: missing or degenerate"):
        list(iter_frames(path, time_step_fs=1.0))


def test_ase_without_time(tmp_path: Path) -> None:
    path = tmp_path / "md.traj"
    ase.io.write(path, [Atoms("Li2", positions=[[0, 0, 0], [1, 1, 1]], cell=[5, 5, 5])] * 2)
    with pytest.raises(InterfacialError, match="time_step_fs"):
        list(iter_frames(path))


def test_xdatcar_needs_time_step(tmp_path: Path) -> None:
    path = tmp_path / "XDATCAR"
    write_xdatcar(path, np.zeros((2, len(SYMBOLS), 3)), np.array([CELL, CELL]))
    with pytest.raises(InterfacialError, match="time_step_fs"):
        list(iter_frames(path))


def test_trajectory_msd_bad_groups_and_frames(traj: np.ndarray) -> None:
    frames = [Frame(t, CELL, 0.1 * k, SYMBOLS, None, True) for k, t in enumerate(traj)]
    with pytest.raises(InterfacialError, match="group 'Li metal' has no atoms"):
        trajectory_msd(frames, {"Li": [0, 1], "Li metal": []})
    with pytest.raises(InterfacialError, match=r"group 'far'.*10 atoms"):
        trajectory_msd(frames, {"far": [3, 10]})
    with pytest.raises(InterfacialError, match="max_lag is needed"):
        trajectory_msd(iter(frames), {"Li": [0, 1]})
    with pytest.raises(InterfacialError, match="group 'Li' has no atoms"):
        trajectory_msd(frames, {"Li": []})
    with pytest.raises(InterfacialError, match="at least 2"):
        trajectory_msd(frames[:1], {"Li": [0, 1]})
    backwards = [frames[0], frames[2], frames[1]]
    with pytest.raises(InterfacialError, match="frame 2: times must increase"):
        trajectory_msd(backwards, {"Li": [0, 1]}, max_lag=1)
