"""``interfacial diffusion`` end to end on synthetic trajectories with known diffusivities.

The walks are written here by hand: Gaussian random walks (LAMMPS text dumps ``id type xu yu
zu``, ASE ``.traj`` with momenta, XDATCAR) whose per-axis D* we choose, plus a drift of every
atom that the analysis must remove. Errors must come out as one ``error:`` line, exit code 2,
and leave the database as it was.

Units: positions A, times ps, D in A^2/ps inside this file (1 A^2/ps = 1e-4 cm^2/s), cm^2/s in
the documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ase.io
import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from interfacial.cli import app

runner = CliRunner()

# Box (A) of the walks, orthogonal: the interface normal is z.
BOX = np.array([11.0, 12.0, 14.0])
N_S, N_LI = 32, 128  # LAMMPS type 1 = S (ids 1..32), type 2 = Li (ids 33..160)
N_ATOMS = N_S + N_LI
SPECIES = "S,Li"
TIME_STEP_FS = 2.0  # MD time step (fs)
STRIDE = 50  # MD steps between dumped frames: 0.1 ps
FRAME_PS = TIME_STEP_FS * STRIDE / 1000.0
N_FRAMES = 401  # 40 ps
DRIFT = np.array([0.05, -0.03, 0.02])  # A/ps, every atom: removed with the centre of mass
# D (A^2/ps) per axis (x, y, z) at 600 K: Li fast in the plane, slower across; S slow.
D600 = {"Li": np.array([0.10, 0.10, 0.025]), "S": np.array([0.01, 0.01, 0.01])}
EA_MEV = 250.0  # Arrhenius activation energy of every D (meV)
KB_MEV = 8.617333262e-2  # meV/K
A2PS_TO_CM2S = 1e-4


def true_d(element: str, temperature: float) -> np.ndarray:
    """Per-axis D (A^2/ps) of an element at a temperature (K), Arrhenius from 600 K."""
    return D600[element] * np.exp(-EA_MEV / KB_MEV * (1.0 / temperature - 1.0 / 600.0))


def expected_d(element: str, temperature: float) -> np.ndarray:
    """Per-axis D (A^2/ps) the analysis should find once the centre of mass is held fixed.

    For independent walkers, x_i - X_com has variance growing as
    ``2 t [D_i (1 - 2/N) + sum_j D_j / N^2]`` (equal weights, all atoms define the drift).
    """
    total = N_S * true_d("S", temperature) + N_LI * true_d("Li", temperature)
    return true_d(element, temperature) * (1.0 - 2.0 / N_ATOMS) + total / N_ATOMS**2


def component(d_xyz: np.ndarray, name: str) -> float:
    """D (A^2/ps) of a component from the per-axis ones."""
    axes = {"in-plane": [0, 1], "out-of-plane": [2], "total": [0, 1, 2]}[name]
    return float(np.mean(d_xyz[axes]))


def walk(temperature: float, seed: int, n_frames: int = N_FRAMES) -> np.ndarray:
    """Unwrapped positions (n_frames, N_ATOMS, 3) in A, atoms in id order (S then Li)."""
    rng = np.random.default_rng(seed)
    d = np.repeat([true_d("S", temperature), true_d("Li", temperature)], [N_S, N_LI], axis=0)
    start = rng.uniform(0.0, 1.0, size=(N_ATOMS, 3)) * BOX
    steps = rng.normal(size=(n_frames - 1, N_ATOMS, 3)) * np.sqrt(2.0 * d * FRAME_PS)
    steps += DRIFT * FRAME_PS
    return np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])


def dump_text(
    frames: np.ndarray,
    *,
    types: np.ndarray | None = None,
    box: np.ndarray = BOX,
    seed: int = 0,
    first_step: int = 0,
) -> str:
    """LAMMPS ``dump custom id type xu yu zu`` text; atom lines shuffled as LAMMPS may do."""
    rng = np.random.default_rng(seed)
    n = frames.shape[1]
    types = np.array([1] * N_S + [2] * N_LI) if types is None else types
    ids = np.arange(1, n + 1)
    out: list[str] = []
    for k, positions in enumerate(frames):
        out += [
            "ITEM: TIMESTEP",
            str(first_step + k * STRIDE),
            "ITEM: NUMBER OF ATOMS",
            str(n),
            "ITEM: BOX BOUNDS pp pp pp",
            f"0.0 {box[0]}",
            f"0.0 {box[1]}",
            f"0.0 {box[2]}",
            "ITEM: ATOMS id type xu yu zu",
        ]
        order = rng.permutation(n)
        out += [
            f"{ids[i]} {types[i]} {positions[i, 0]:.6f} {positions[i, 1]:.6f} {positions[i, 2]:.6f}"
            for i in order
        ]
    return "\n".join(out) + "\n"


def write_walk(path: Path, temperature: float, seed: int) -> Path:
    path.write_text(dump_text(walk(temperature, seed), seed=seed))
    return path


def cli(*args: str) -> Any:
    """Run the command line in-process (settings isolated by conftest)."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def json_out(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def record(doc: dict[str, Any], group: str, comp: str) -> dict[str, Any]:
    matches = [r for r in doc["diffusivities"] if r["group"] == group and r["component"] == comp]
    assert len(matches) == 1, f"no single record for {group} {comp}"
    return matches[0]


def stored() -> dict[str, Any]:
    return json_out(cli("query", "diffusion", "--json"))


def assert_one_line_error(result: Any, *needles: str) -> None:
    """Exit code 2 and exactly one stderr line ``error: ...`` containing every needle."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def walk600(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walk(tmp_path_factory.mktemp("walk") / "walk_600.dump", 600.0, seed=600)


@pytest.fixture(scope="module")
def model600(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Interface model of the walk: Li ids 33..96 in the metal, the rest in the compound."""
    positions = walk(600.0, seed=600, n_frames=1)[0]
    species = ["S"] * N_S + ["Li"] * N_LI
    regions = ["compound"] * N_S + ["metal"] * 64 + ["compound"] * (N_LI - 64)
    structure = Structure(
        Lattice(np.diag(BOX)),
        species,
        positions,
        coords_are_cartesian=True,
        site_properties={"region": regions},
    )
    path = tmp_path_factory.mktemp("model") / "model.json"
    path.write_text(json.dumps(structure.as_dict()))
    return path


# ------------------------------------------------------------------------------ happy paths


def test_dump_recovers_the_known_anisotropic_diffusivities(walk600: Path) -> None:
    doc = json_out(
        cli(
            "diffusion", walk600, "--temperature", "600", "--time-step", TIME_STEP_FS,
            "--species", SPECIES, "--group", "top=1-10", "--json",
        )
    )  # fmt: skip
    assert doc["source"] == "trajectory" and doc["temperature"] == 600.0
    assert doc["n_atoms"] == N_ATOMS and doc["species_order"] == ["Li", "S"]
    assert "msd" not in doc  # curves only with `query diffusion --curves`
    groups = {r["group"]: r["n_atoms"] for r in doc["diffusivities"]}
    assert groups == {"S": N_S, "Li": N_LI, "top": 10}
    for element in ("Li", "S"):
        for comp in ("in-plane", "out-of-plane", "total"):
            rec = record(doc, element, comp)
            want = component(expected_d(element, 600.0), comp) * A2PS_TO_CM2S
            assert rec["sigma_D"] > 0
            assert abs(rec["D"] - want) < 4 * rec["sigma_D"], (element, comp, rec["D"], want)
            assert rec["sigma_D"] < 0.15 * want  # precise enough to mean something
    # Designed anisotropy: Li moves 4x faster in the plane than across it.
    li_in, li_out = record(doc, "Li", "in-plane"), record(doc, "Li", "out-of-plane")
    assert li_in["D"] - li_out["D"] > 4 * np.hypot(li_in["sigma_D"], li_out["sigma_D"])
    # ids 1-10 are S atoms: the group has S's diffusivity.
    top = record(doc, "top", "total")
    assert abs(top["D"] - component(expected_d("S", 600.0), "total") * 1e-4) < 4 * top["sigma_D"]


def test_table_output_and_fit_window(walk600: Path) -> None:
    table = cli(
        "diffusion", walk600, "-T", "600", "--time-step", TIME_STEP_FS, "--species", SPECIES,
        "--fit-window", "2,10",
    )  # fmt: skip
    assert table.exit_code == 0, table.stderr
    assert "Li" in table.stdout and "out-of-plane" in table.stdout
    doc = json_out(
        cli(
            "diffusion", walk600, "-T", "600", "--time-step", TIME_STEP_FS, "--species", SPECIES,
            "--fit-window", "2,10", "--json",
        )
    )  # fmt: skip
    assert doc["fit_window_rule"].startswith("user")
    for rec in doc["diffusivities"]:
        t0, t1 = rec["fit_window"]
        assert 2.0 - 1e-9 <= t0 < t1 <= 10.0 + 1e-9
        assert rec["n_points"] >= 5
    rec = record(doc, "Li", "in-plane")
    assert (
        abs(rec["D"] - component(expected_d("Li", 600.0), "in-plane") * 1e-4) < 4 * rec["sigma_D"]
    )


def test_structure_adds_region_groups(walk600: Path, model600: Path) -> None:
    doc = json_out(
        cli(
            "diffusion", walk600, "-T", "600", "--time-step", TIME_STEP_FS, "--species", SPECIES,
            "--structure", model600, "--group", "Li_m=region:metal&Li", "--json",
        )
    )  # fmt: skip
    groups = {r["group"]: r["n_atoms"] for r in doc["diffusivities"]}
    assert groups == {"S": 32, "Li": 128, "Li metal": 64, "Li compound": 64, "Li_m": 64}
    for group in ("Li metal", "Li compound", "Li_m"):
        rec = record(doc, group, "in-plane")
        want = component(expected_d("Li", 600.0), "in-plane") * A2PS_TO_CM2S
        assert abs(rec["D"] - want) < 4 * rec["sigma_D"], group


def test_ase_traj_and_xdatcar(tmp_path: Path) -> None:
    frames = walk(600.0, seed=3, n_frames=201)
    symbols = ["S"] * N_S + ["Li"] * N_LI
    traj = tmp_path / "md.traj"
    ase.io.write(traj, [thermal_atoms(symbols, p, 300.0, seed=k) for k, p in enumerate(frames)])
    doc = json_out(cli("diffusion", traj, "-T", "300", "--time-step", "100", "--json"))
    rec = record(doc, "Li", "in-plane")
    assert (
        abs(rec["D"] - component(expected_d("Li", 600.0), "in-plane") * 1e-4) < 4 * rec["sigma_D"]
    )

    xdatcar = tmp_path / "XDATCAR"
    write_xdatcar(xdatcar, frames)
    doc = json_out(cli("diffusion", xdatcar, "-T", "600", "--time-step", "100", "--json"))
    rec = record(doc, "Li", "out-of-plane")
    want = component(expected_d("Li", 600.0), "out-of-plane") * A2PS_TO_CM2S
    assert abs(rec["D"] - want) < 4 * rec["sigma_D"]


def thermal_atoms(
    symbols: list[str], positions: np.ndarray, temperature: float, seed: int
) -> Atoms:
    """Atoms with Maxwell-Boltzmann momenta at ``temperature`` (K), no centre-of-mass motion."""
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

    atoms = Atoms(symbols, positions=positions, cell=np.diag(BOX), pbc=True)
    MaxwellBoltzmannDistribution(
        atoms, temperature_K=temperature, rng=np.random.default_rng(seed), force_temp=True
    )
    Stationary(atoms)
    return atoms


def write_xdatcar(path: Path, frames: np.ndarray) -> None:
    """VASP 5 XDATCAR, constant cell, wrapped direct coordinates."""
    lines = ["walk", "1.0"] + [" ".join(f"{v:.6f}" for v in row) for row in np.diag(BOX)]
    lines += ["S Li", f"{N_S} {N_LI}"]
    for k, positions in enumerate(frames):
        lines.append(f"Direct configuration= {k + 1}")
        frac = (positions / BOX) % 1.0
        lines += [" ".join(f"{v:.8f}" for v in row) for row in frac]
    path.write_text("\n".join(lines) + "\n")


def test_saved_walks_give_the_arrhenius_law_and_figures(tmp_path: Path) -> None:
    temperatures = (450.0, 600.0, 800.0)
    for temperature in temperatures:
        path = write_walk(tmp_path / f"walk_{temperature:g}.dump", temperature, int(temperature))
        saved = cli(
            "diffusion", path, "-T", temperature, "--time-step", TIME_STEP_FS,
            "--species", SPECIES, "--save", "--system", "walk", "--json",
        )  # fmt: skip
        assert saved.exit_code == 0, saved.stderr
    assert cli("build").exit_code == 0
    data = stored()
    assert sorted(d["temperature"] for d in data["diffusion"]) == list(temperatures)
    assert {d["system"] for d in data["diffusion"]} == {"walk"}
    assert {d["diffusion_id"] for d in data["diffusion"]} == {
        f"walk|file|{t:g}K" for t in temperatures
    }
    fits = {(f["group"], f["component"]): f for f in data["arrhenius"]}
    # Only diffusive temperatures enter (behaviour changed: every positive D* used to): the run
    # must hold >= 100 hop-length (2.5 A) displacements, N 6 D T / a^2 with the true D; the
    # verdict must agree far from that boundary (the slow S and Li out of plane at 450 K: < 30).
    n_atoms = {"Li": N_LI, "S": N_S}
    for key in (("Li", "in-plane"), ("Li", "out-of-plane"), ("Li", "total"), ("S", "total")):
        fit = fits[key]
        for temperature in temperatures:
            d = component(true_d(key[0], temperature), key[1])
            hops = n_atoms[key[0]] * 6 * d * (N_FRAMES - 1) * FRAME_PS / 2.5**2
            if hops > 140:
                assert temperature in fit["temperatures"], (key, temperature)
            elif hops < 70:
                assert temperature not in fit["temperatures"], (key, temperature)
        if len(fit["temperatures"]) < 2:
            assert fit["Ea"] is None and fit["D_upper"] is not None
            continue
        assert fit["sigma_Ea"] < 0.15 * EA_MEV
        assert abs(fit["Ea"] - EA_MEV) < 3 * fit["sigma_Ea"], (key, fit["Ea"], fit["sigma_Ea"])
    assert 450.0 not in fits["S", "total"]["temperatures"]
    only = json_out(cli("query", "diffusion", "--system", "walk", "--temperature", "600", "--json"))
    assert [d["temperature"] for d in only["diffusion"]] == [600.0] and only["arrhenius"] == []
    curves = json_out(cli("query", "diffusion", "--system", "walk", "--curves", "--json"))
    assert all(len(d["msd"]["lag_times"]) > 10 for d in curves["diffusion"])
    assert cli("query", "diffusion").exit_code == 0  # the tables

    out = tmp_path / "figures"
    report = cli("report", "--out", out)
    assert report.exit_code == 0, report.stderr
    expected = [out / f"msd_walk_{t:g}K.png" for t in temperatures]
    expected += [out / "arrhenius_walk.png", out / "diffusion_in_vs_out_of_plane.png"]
    for png in expected:
        assert png.is_file(), f"{png.name} missing; wrote {sorted(p.name for p in out.iterdir())}"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


# ------------------------------------------------------------------------------ bad input


def small_walk(n_frames: int = 12) -> np.ndarray:
    return walk(600.0, seed=9, n_frames=n_frames)


def bad_inputs(tmp: Path, walk600: Path, model600: Path) -> dict[str, tuple[list[Any], tuple]]:
    """Name -> (command-line arguments, text the error line must contain)."""
    frames = small_walk()
    one = tmp / "one.dump"
    one.write_text(dump_text(frames[:1]))
    counts = tmp / "counts.dump"
    counts.write_text(dump_text(frames[:3]) + dump_text(frames[3:5, :-1], first_step=3 * STRIDE))
    flat = tmp / "flat.dump"
    flat.write_text(dump_text(frames, box=np.array([11.0, 12.0, 0.0])))
    types = tmp / "types.dump"
    types.write_text(dump_text(frames, types=np.array([1] * N_S + [3] * N_LI)))
    cool = tmp / "cool.traj"
    symbols = ["S"] * N_S + ["Li"] * N_LI
    ase.io.write(cool, [thermal_atoms(symbols, p, 300.0, seed=k) for k, p in enumerate(frames)])
    unknown = tmp / "walk.bin"
    # Neither the name nor the content tells the format (ASE recognises a dump's content).
    unknown.write_text("frames in a format nobody knows\n" * 20)
    wrong_model = tmp / "wrong_model.json"
    model = Structure.from_file(model600)
    # An S site becomes Li: not the structure this run started from.
    model.replace(0, "Li", properties={"region": "compound"})
    wrong_model.write_text(json.dumps(model.as_dict()))
    no_region = tmp / "no_region.json"
    model.remove_site_property("region")
    no_region.write_text(json.dumps(model.as_dict()))
    garbage = tmp / "garbage.json"
    garbage.write_text("{not json")

    dump = [walk600, "-T", "600", "--time-step", TIME_STEP_FS, "--species", SPECIES]
    save = ["--save", "--system", "bad"]
    return {
        "one frame": ([one, *dump[1:], *save], ("1 frame", "at least 2")),
        "atom counts": ([counts, *dump[1:], *save], ("159 atoms", "first frame has 160")),
        "zero box": ([flat, *dump[1:], *save], ("degenerate cell",)),
        "empty group": (
            [*dump, "--structure", model600, "--group", "e=region:metal&S", *save],
            ("selects no atoms",),
        ),
        "no such element": (
            [*dump, "--group", "e=region:metal&Na", "--structure", model600],
            ("no Na atoms",),
        ),
        "id range outside": ([*dump, "--group", "far=150-170", *save], ("atom id 161",)),
        "bad group syntax": ([*dump, "--group", "oops", *save], ("NAME=SELECTION",)),
        "wrong temperature": (
            [cool, "-T", "900", "--time-step", "100", *save],
            (
                "900",
                "--temperature",
            ),
        ),
        "window too long": ([*dump, "--fit-window", "5,80", *save], ("40 ps",)),
        "window reversed": ([*dump, "--fit-window", "10,5", *save], ("fit window",)),
        "window unreadable": ([*dump, "--fit-window", "5", *save], ("--fit-window",)),
        "unknown format": ([unknown, *dump[1:], *save], ("--format",)),
        "bad --format": ([walk600, *dump[1:], "--format", "pdb", *save], ("pdb",)),
        "missing file": ([tmp / "nope.dump", *dump[1:], *save], ("nope.dump",)),
        "save without system": ([*dump, "--save"], ("--system",)),
        "no time step": ([walk600, "-T", "600", "--species", SPECIES, *save], ("--time-step",)),
        "no species": ([walk600, "-T", "600", "--time-step", "2", *save], ("--species",)),
        "types beyond species": ([types, *dump[1:], *save], ("type 3", "--species")),
        "negative temperature": ([*dump[:1], "-T", "-5", *dump[3:], *save], ("positive",)),
        "zero time step": ([*dump[:4], "0", *dump[5:], *save], ("time step",)),
        "structure of another run": ([*dump, "--structure", wrong_model, *save], ("site 0",)),
        "structure without regions": ([*dump, "--structure", no_region, *save], ("region",)),
        "unreadable structure": ([*dump, "--structure", garbage, *save], ("garbage.json",)),
    }


BAD = [
    "one frame", "atom counts", "zero box", "empty group", "no such element",
    "id range outside", "bad group syntax", "wrong temperature", "window too long",
    "window reversed", "window unreadable", "unknown format", "bad --format", "missing file",
    "save without system", "no time step", "no species", "types beyond species",
    "negative temperature", "zero time step", "structure of another run",
    "structure without regions", "unreadable structure",
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_cases(
    tmp_path_factory: pytest.TempPathFactory, walk600: Path, model600: Path
) -> dict[str, tuple[list[Any], tuple]]:
    return bad_inputs(tmp_path_factory.mktemp("bad"), walk600, model600)


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_error_line_and_writes_nothing(
    case: str, bad_cases: dict[str, tuple[list[Any], tuple]]
) -> None:
    args, needles = bad_cases[case]
    result = cli("diffusion", *args)
    assert_one_line_error(result, *needles)
    assert stored() == {"diffusion": [], "arrhenius": []}


def test_query_diffusion_on_an_empty_database() -> None:
    assert stored() == {"diffusion": [], "arrhenius": []}
    table = cli("query", "diffusion")
    assert table.exit_code == 0, table.stderr


def test_group_ids_are_the_trajectorys_own(tmp_path: Path) -> None:
    """LAMMPS ids need not start at 1 (atoms deleted, several molecules): ranges use them."""
    path = tmp_path / "offset.dump"
    text = dump_text(small_walk(30))
    lines = text.splitlines()
    for k, line in enumerate(lines):  # atom lines: shift every id by 100
        parts = line.split()
        if len(parts) == 5 and "ITEM:" not in line:
            lines[k] = " ".join([str(int(parts[0]) + 100), *parts[1:]])
    path.write_text("\n".join(lines) + "\n")
    args = [path, "-T", "600", "--time-step", TIME_STEP_FS, "--species", SPECIES]
    doc = json_out(cli("diffusion", *args, "--group", "first=101-110", "--json"))
    assert record(doc, "first", "total")["n_atoms"] == 10
    assert_one_line_error(cli("diffusion", *args, "--group", "x=1-10"), "atom id 1 ", "101..260")


def test_more_bad_options(tmp_path: Path, walk600: Path) -> None:
    args = [walk600, "-T", "600", "--time-step", TIME_STEP_FS]
    assert_one_line_error(cli("diffusion", *args, "--species", "S,Xx"), "'Xx' is not an element")
    assert_one_line_error(
        cli("diffusion", *args, "--species", SPECIES, "--group", "Li=1-5"), "'Li' is taken"
    )
    same = cli("diffusion", *args, "--species", SPECIES, "--group", "Li=Li", "--json")
    assert {r["group"] for r in json_out(same)["diffusivities"]} == {"S", "Li"}
    binary = tmp_path / "binary.dump"
    binary.write_bytes(bytes(range(256)) * 8)
    assert_one_line_error(cli("diffusion", binary, *args[1:]), "not a text file")
    assert stored() == {"diffusion": [], "arrhenius": []}


# ------------------------------------------------------------------------------ our own MD runs


@pytest.fixture(scope="module")
def md_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real short run of our segmented MD runner (embedded LAMMPS + a tiny motep MTP)."""

    from interfacial.lammps import MotepExternal, SegmentedMD, temperature_stages
    from mtp_data import SPECIES_ORDER, tiny_potential, toy_cell

    potential = tiny_potential(
        tmp_path_factory.mktemp("fit"),
    )
    cell = toy_cell()
    stages = temperature_stages(
        500.0,
        ramp_steps=60,
        equilibration_steps=60,
        production_steps=600,
        dump_interval=10,
        start_temperature=300.0,
    )
    md = SegmentedMD(
        cell,
        SPECIES_ORDER,
        stages,
        MotepExternal(potential),
        tmp_path_factory.mktemp("md"),
        max_segment_steps=200,
        thermo_interval=10,
        velocity_seed=11,
        dump_format="both",
    )
    record = md.run()
    assert record.complete and len(record.production_dumps) == 3
    return record


def test_dumps_of_our_md_runs_carry_their_temperature(md_run: Any, tmp_path: Path) -> None:
    from interfacial.lammps.record import STATE_FILE
    from interfacial.trajectory import measured_temperature

    assert (Path(md_run.production_dumps[0]).parent / STATE_FILE).is_file()
    dumps = [Path(p) for p in md_run.production_dumps]
    mean = md_run.mean_production_temperature
    assert measured_temperature(dumps) == pytest.approx(mean, rel=1e-12)
    segments = [s for s in md_run.segments if s.dump_file]
    assert sum(s.steps * s.mean_temperature for s in segments) / sum(
        s.steps for s in segments
    ) == pytest.approx(mean, rel=1e-12)
    # Only the segments whose dumps are given count.
    assert measured_temperature(dumps[1]) == pytest.approx(segments[1].mean_temperature)
    # A copy outside the run directory has no record.
    copy = tmp_path / dumps[0].name
    copy.write_text(dumps[0].read_text())
    assert measured_temperature(copy) is None

    args = ["diffusion", *dumps, "--time-step", md_run.time_step_fs, "--species", "S,Li"]
    wrong = cli(*args, "-T", f"{2 * mean:.0f}", "--save", "--system", "md")
    assert_one_line_error(wrong, f"ran at {mean:.0f} K", "--temperature")
    assert stored() == {"diffusion": [], "arrhenius": []}
    right = json_out(cli(*args, "-T", f"{mean:.0f}", "--json"))
    assert right["n_atoms"] == 64 and right["temperature"] == round(mean)
    assert {r["group"] for r in right["diffusivities"]} == {"S", "Li"}


def test_a_damaged_run_record_is_reported(md_run: Any, tmp_path: Path) -> None:
    dump = Path(md_run.production_dumps[0])
    (tmp_path / dump.name).write_text(dump.read_text())
    (tmp_path / "md_state.json").write_text("{half")
    result = cli(
        "diffusion", tmp_path / dump.name, "-T", "500", "--time-step", "1", "--species", "S,Li"
    )
    assert_one_line_error(result, "md_state.json", "unreadable MD run record")


def test_our_runs_need_no_time_step_or_species_and_refuse_wrong_ones(md_run: Any) -> None:
    dumps = [Path(p) for p in md_run.production_dumps]
    temperature = f"{md_run.mean_production_temperature:.0f}"
    given = json_out(
        cli(
            "diffusion",
            *dumps,
            "-T",
            temperature,
            "--time-step",
            "1",
            "--species",
            "S,Li",
            "--json",
        )
    )
    recorded = json_out(cli("diffusion", *dumps, "-T", temperature, "--json"))
    assert recorded["diffusivities"] == given["diffusivities"]
    wrong_step = cli("diffusion", *dumps, "-T", temperature, "--time-step", "2")
    assert_one_line_error(wrong_step, "--time-step 2 fs contradicts", "leave --time-step out")
    wrong_types = cli("diffusion", *dumps, "-T", temperature, "--species", "Li,S")
    assert_one_line_error(wrong_types, "--species Li,S contradicts")
    assert stored() == {"diffusion": [], "arrhenius": []}
