"""The bad-input catalogue: every command, refused with one line, nothing written.

Each case is one command line with one bad input. It must exit with status 2, print exactly one
non-empty ``error: ...`` line on stderr (no traceback) that names the offending input (the
fragment of each case), leave the data directory (a small real embedded store) and the working
directory byte for byte as they were, and never start real work: ``run_flow`` is replaced by a
function that fails loudly, so a case that reaches a calculator fails instead of running it.

The cases run in process (``CliRunner`` on the application, the same error path as the console
script); a few run as real processes to prove that nothing crashes the interpreter (a NaN cell
once ended ``surfaces`` with a segmentation fault, exit 139).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from interfacial.cli import app
from vasp_files import random_md, vasprun_text

runner = CliRunner()

# --------------------------------------------------------------------------------------------
# Input files, written once per session
# --------------------------------------------------------------------------------------------

CUBIC_LI = [[3.51, 0, 0], [0, 3.51, 0], [0, 0, 3.51]]


def poscar(
    cell: list[list[object]], species: list[str], counts: list[int], coords: list[list[object]]
) -> str:
    """POSCAR text (direct coordinates); entries are written as given, so 'nan' stays text."""
    lines = [" ".join(species), "1.0"]
    lines += [" ".join(str(x) for x in row) for row in cell]
    lines += [" ".join(species), " ".join(str(c) for c in counts), "direct"]
    lines += [" ".join(str(x) for x in row) for row in coords]
    return "\n".join(lines) + "\n"


DISORDERED_CIF = """data_LiNa
_symmetry_space_group_name_H-M   'P 1'
_cell_length_a   3.5
_cell_length_b   3.5
_cell_length_c   3.5
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
_symmetry_Int_Tables_number   1
loop_
 _symmetry_equiv_pos_as_xyz
  'x, y, z'
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
  Li1  Li  0.0  0.0  0.0  0.5
  Na1  Na  0.0  0.0  0.0  0.5
"""

# A random walk in a LAMMPS text dump (ids 1-2 S, type 1; 3-8 Li, type 2): 30 frames, 50 steps
# apart; with --time-step 2 fs, 3 ps in all.
N_WALK_ATOMS = 8
WALK_FRAMES = 30


def walk_dump(*, nan_at: tuple[int, int] | None = None, frames: int = WALK_FRAMES) -> str:
    rng = np.random.default_rng(0)
    start = np.array([[i % 2, (i // 2) % 2, i // 4] for i in range(N_WALK_ATOMS)]) * 4.0 + 1.0
    steps = rng.normal(scale=0.2, size=(frames - 1, N_WALK_ATOMS, 3))
    positions = np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])
    out: list[str] = []
    for k, frame in enumerate(positions):
        out += [
            "ITEM: TIMESTEP",
            str(k * 50),
            "ITEM: NUMBER OF ATOMS",
            str(N_WALK_ATOMS),
            "ITEM: BOX BOUNDS pp pp pp",
            "0.0 8.0",
            "0.0 8.0",
            "0.0 12.0",
            "ITEM: ATOMS id type xu yu zu",
        ]
        for i, (x0, y, z) in enumerate(frame):
            x = float("nan") if nan_at == (k, i) else x0
            out.append(f"{i + 1} {1 if i < 2 else 2} {x:.5f} {y:.5f} {z:.5f}")
    return "\n".join(out) + "\n"


def walk_bin() -> bytes:
    """The walk of :func:`walk_dump` as a LAMMPS binary dump (``id type xu yu zu``)."""
    from lammps_binary_data import walk_binary

    rng = np.random.default_rng(0)
    start = np.array([[i % 2, (i // 2) % 2, i // 4] for i in range(N_WALK_ATOMS)]) * 4.0 + 1.0
    steps = rng.normal(scale=0.2, size=(WALK_FRAMES - 1, N_WALK_ATOMS, 3))
    positions = np.concatenate([start[None], start[None] + np.cumsum(steps, axis=0)])
    types = [1 if i < 2 else 2 for i in range(N_WALK_ATOMS)]
    return walk_binary(positions, types, (0.0, 8.0, 0.0, 8.0, 0.0, 12.0))


def labelled_frames(n: int = 4, energy: float | None = None, nan_force: bool = False) -> list:
    """Small labelled Li/S cells (energy in eV, forces in eV/A) for training-set files."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    rng = np.random.default_rng(1)
    frames = []
    for k in range(n):
        atoms = Atoms(
            "Li2S2",
            scaled_positions=[[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
            cell=np.eye(3) * 5.2,
            pbc=True,
        )
        atoms.positions += rng.normal(scale=0.05, size=(4, 3))
        forces = rng.normal(size=(4, 3))
        if nan_force and k == 1:
            forces[2, 1] = np.nan
        e = -10.0 - k if energy is None or k != 1 else energy
        atoms.calc = SinglePointCalculator(atoms, energy=e, forces=forces)
        frames.append(atoms)
    return frames


def write_inputs(root: Path) -> None:
    """Every bad (and the few good) input files the cases name."""
    from ase.io import write

    from interfacial.mtp.cfg import write_cfg

    li = [[0, 0, 0], [0.5, 0.5, 0.5]]
    files: dict[str, str | bytes] = {
        "nan_cell.vasp": poscar([["nan", 0, 0], [0, 3.51, 0], [0, 0, 3.51]], ["Li"], [2], li),
        "inf_cell.vasp": poscar([["inf", 0, 0], [0, 3.51, 0], [0, 0, 3.51]], ["Li"], [2], li),
        "nan_coords.vasp": poscar(CUBIC_LI, ["Li"], [2], [[0, 0, 0], ["nan", 0.5, 0.5]]),
        "zero_cell.vasp": poscar([[0, 0, 0]] * 3, ["Li"], [2], li),
        "collinear_cell.vasp": poscar([[3.51, 0, 0], [7.02, 0, 0], [0, 0, 3.51]], ["Li"], [2], li),
        "overlap.vasp": poscar(CUBIC_LI, ["Li"], [2], [[0, 0, 0], [0.01, 0, 0]]),
        "unknown_element.vasp": poscar(CUBIC_LI, ["Xx"], [2], li),
        "short.vasp": poscar(CUBIC_LI, ["Li"], [2], li[:1]),
        "empty.vasp": "",
        "garbage.vasp": bytes(range(256)) * 8,
        "partial.cif": DISORDERED_CIF,
        "huge_cell.vasp": poscar(np.eye(3).tolist() * np.array(1e5), ["Li"], [2], li),
        "existing.txt": "a file the user keeps\n",
        # Li, P and S 3 A or more apart: a ternary, so no reduction product of a screen.
        "ternary.vasp": poscar(
            np.diag([6.0, 6.0, 6.0]).tolist(),
            ["Li", "P", "S"],
            [1, 1, 1],
            [[0, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0.5]],
        ),
        # Campaign files.
        "syntax.yaml": "name: x\nsurfaces: [{material: Li\n",
        "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
        "empty.yaml": "",
        "list.yaml": "- name: x\n",
        "no_name.yaml": "surfaces: [{material: Li}]\n",
        "unknown_top.yaml": "name: x\nsurface: [{material: Li}]\n",
        "unknown_nested.yaml": "name: x\nsurfaces:\n  - {material: Li, thickness: 5}\n",
        "unknown_reference.yaml": "name: x\npotentials:\n"
        "  - {structure: Li, reference: {temp: 9}}\n",
        "type_list.yaml": "name: x\nsurfaces: Li\n",
        "type_int.yaml": "name: x\nsurfaces:\n  - {material: Li, max_index: one}\n",
        "type_float.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1, 0], compound_miller: [1, 1, 0], max_area: big}\n",
        "nan_temperatures.yaml": "name: x\nmd_temperatures: [300, .nan]\n",
        "nan_vacuum.yaml": "name: x\nsurfaces:\n  - {material: Li, vacuum: .nan}\n",
        "inf_thickness.yaml": "name: x\nsurfaces:\n  - {material: Li, max_thickness: .inf}\n",
        "inf_area.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1, 0], compound_miller: [1, 1, 0], max_area: .inf}\n",
        "nan_gap.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1, 0], compound_miller: [1, 1, 0], gaps: [.nan]}\n",
        "nan_registry.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1, 0], compound_miller: [1, 1, 0], registries: [[.nan, 0]]}\n",
        "nan_reference.yaml": "name: x\npotentials:\n  - {structure: Li, reference: "
        "{temperature: .nan}}\n",
        "inf_production.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, production_ps: .inf}\n",
        "nan_time_step.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, time_step: .nan}\n",
        "nan_al.yaml": "name: x\npotentials:\n  - {structure: Li, al_temperature: .nan}\n",
        "unknown_material.yaml": "name: x\nsurfaces:\n  - {material: Unobtainium}\n",
        "unknown_calculator.yaml": "name: x\ncalculators: {surfaces: Nope}\n",
        "miller_nonreduced.yaml": "name: x\nsurfaces:\n  - {material: Li, millers: [[2, 2, 0]]}\n",
        "miller_two.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1], compound_miller: [1, 1, 0]}\n",
        "miller_huge.yaml": "name: x\ninterfaces:\n  - {metal: Li, compound: Li2S, "
        "metal_miller: [1, 1, 0], compound_miller: [99, 99, 99]}\n",
        "miller_zero.yaml": "name: x\nsurfaces:\n  - {material: Li, millers: [[0, 0, 0]]}\n",
        "metal_not_alkali.yaml": "name: x\ninterfaces:\n  - {metal: Li2S, compound: Li2O, "
        "metal_miller: [1, 1, 0], compound_miller: [1, 1, 0]}\n",
        "screen_unknown_field.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, n_refin: 2}\n",
        "screen_fraction.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, "
        "min_area_fraction: 2}\n",
        "screen_nan_ratio.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, "
        "max_gamma_ratio: .nan}\n",
        "screen_ratio_below_one.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, "
        "max_gamma_ratio: 0.5}\n",
        "screen_refine_zero.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, n_refine: 0}\n",
        "screen_calculator.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, "
        "refine_calculator: Nope}\n",
        "screen_miller.yaml": "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl, "
        "metal_millers: [[2, 2, 0]]}\n",
        "screen_no_metal.yaml": "name: x\nscreen:\n  - {electrolyte: Li3PS4, metal: Na}\n",
        "screen_unknown_electrolyte.yaml": "name: x\nscreen:\n  - {electrolyte: Unobtainium}\n",
        "screen_vasp_here.yaml": "name: x\nscreen:\n  - {electrolyte: Na3PS4, "
        "refine_calculator: VASP}\n",
        "learn_negative.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, learn_rounds: -1}\n",
        "learn_threshold.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, learn_rounds: 1, grade_threshold: 0.5}\n",
        "learn_interval.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, learn_rounds: 1, learn_ps: 0.01, learn_interval_fs: 50}\n",
        "learn_nan.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, learn_rounds: 1, learn_ps: .nan}\n",
        "learn_file_potential.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "pot.mtp, species: [Li], learn_rounds: 1}\n",
        "learn_calculator.yaml": "name: x\ntransport:\n  - {structure: Li, potential: "
        "store:Li, learn_rounds: 1, learn_calculator: Nope}\n",
        "missing_potential.yaml": "name: x\nmd_temperatures: [600]\ntransport:\n"
        "  - {structure: Li, potential: store:NOSUCH, md_engine: motep-external}\n",
        "fit_engine.yaml": "name: x\npotentials:\n  - {structure: Li, fit: {engine: gap}}\n",
        # An interface that neither the campaign's interfaces stage nor the database has.
        "potential_no_interface.yaml": "name: x\npotentials:\n"
        "  - {structure: 'interface:Li(110)|LiCl(100)'}\n",
        "potential_vacancy_no_element.yaml": "name: x\npotentials:\n"
        "  - {structure: Li, reference: {vacancy_count: 1}}\n",
        # The potential is learnt by no potentials entry (Li-vac is, not Li2S-vac).
        "transport_unlearnt.yaml": "name: x\nmd_temperatures: [600]\npotentials:\n"
        "  - {structure: Li, reference: {vacancy_element: Li, vacancy_count: 1}}\n"
        "transport:\n  - {structure: Li, potential: store:Li2S-vac, md_engine: motep-external}\n",
        # Trajectories.
        "walk.dump": walk_dump(),
        "empty.dump": "",
        "garbage.dump": bytes(range(256)) * 8,
        "text.dump": "hello world\nthis is no dump\n",
        "nan.dump": walk_dump(nan_at=(3, 4)),
        "one_frame.dump": walk_dump(frames=1),
        "walk.bin": walk_bin(),
        "bad_magic.bin": walk_bin().replace(b"DUMPCUSTOM", b"DUMPCUSTXX"),
        "truncated_header.bin": walk_bin()[:40],
        "garbage.bin": bytes(range(256)) * 8,
        "empty.bin": b"",
        # Training sets.
        "garbage.cfg": "BEGIN_CFG\n Size\n lots\nEND_CFG\n",
        "binary.extxyz": bytes(range(256)) * 8,
        "empty.extxyz": "",
        "empty.cfg": "",
    }
    truncated = walk_dump()
    files["truncated.dump"] = truncated[: len(truncated) - 60]
    # VASP MD outputs: a good vasprun.xml (POTIM 2 fs) and XDATCAR, damaged archives.
    import gzip
    import lzma

    symbols = ["Li", "Li", "Li", "S", "S"]
    frac, cells = random_md(20, symbols)
    md = vasprun_text(frac, cells, symbols, potim=2.0)
    files["vasprun.xml"] = md
    files["vasprun_nosteps.xml"] = md[: md.index("<calculation>")]
    files["vasprun_relax.xml"] = vasprun_text(frac, cells, symbols, ibrion=2)
    xdatcar = "\n".join(
        ["walk", "1.0", *(" ".join(str(v) for v in row) for row in cells[0]), "Li S", "3 2"]
        + [
            line
            for k, f in enumerate(frac)
            for line in (f"Direct configuration= {k + 1}", *(" ".join(map(str, r)) for r in f))
        ]
    )
    files["XDATCAR_walk"] = xdatcar + "\n"
    packed = gzip.compress(xdatcar.encode())
    files["XDATCAR_corrupt.gz"] = packed[:20] + bytes(40) + packed[60:]
    files["XDATCAR_truncated.xz"] = lzma.compress(xdatcar.encode())[:-40]
    walk = walk_bin()
    files["truncated_middle.bin"] = walk[: len(walk) // 2 + 7]  # inside frame 16
    # A MongoDB LaunchPad nobody answers (port 1), given up on after 0.3 s.
    files["unreachable_launchpad.yaml"] = (
        "host: localhost\nport: 1\nname: fireworks\n"
        "mongoclient_kwargs: {serverSelectionTimeoutMS: 300, connectTimeoutMS: 300}\n"
    )
    for name, content in files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (root / "somewhere").mkdir()
    (root / "dir.dump").mkdir()
    (root / "dir.yaml").mkdir()
    # 6000 atoms on a simple cubic grid 3 A apart.
    grid = np.stack(np.meshgrid(range(20), range(20), range(15), indexing="ij"), -1).reshape(-1, 3)
    (root / "many_atoms.vasp").write_text(
        poscar(np.diag([60.0, 60.0, 45.0]).tolist(), ["Li"], [len(grid)], grid / [20, 20, 15])
    )
    # Li2S 2x2x2, rattled: no symmetry left, so its conventional cell stays 96 atoms.
    from pymatgen.core import Lattice, Structure

    li2s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.708), ["S", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )
    li2s.make_supercell(2)
    li2s.perturb(0.05, min_distance=0.02, seed=0)
    li2s.to(filename=str(root / "rattled.vasp"), fmt="poscar")
    good = labelled_frames()
    write(root / "good.extxyz", good)
    write_cfg(good, root / "good.cfg", ["Li", "S"])
    write(root / "nan_energy.extxyz", labelled_frames(energy=float("nan")))
    write_cfg(labelled_frames(energy=float("nan")), root / "nan_energy.cfg", ["Li", "S"])
    write(root / "nan_forces.extxyz", labelled_frames(nan_force=True))
    # XDATCAR-format check of the dump (wrong --format flag).
    write(root / "walk_ase.traj", good, format="traj")


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    write_inputs(root)
    return root


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory, inputs: Path) -> Path:
    """A small real embedded store: a task document, a surface and a saved D* of 'walk' at 600 K."""
    from interfacial.api import analyse_trajectory, save_diffusion
    from interfacial.settings import InterfacialSettings
    from interfacial.stores import SURFACES, derived_store, get_job_store

    root = tmp_path_factory.mktemp("template") / "data"
    settings = InterfacialSettings(data_dir=root)
    doc = analyse_trajectory(
        [inputs / "walk.dump"], 600.0, time_step_fs=2.0, species_order=["S", "Li"], system="walk"
    )
    save_diffusion(doc, settings)
    jobs = get_job_store(settings).docs_store
    jobs.connect()
    jobs.update(
        [{"uuid": "task-1", "index": 1, "output": {"energy": -1.9}, "metadata": {}}], key="uuid"
    )
    jobs.close()
    surfaces = derived_store(SURFACES, "surface_id", settings)
    surfaces.connect()
    surfaces.update(
        [{"surface_id": "s-1", "material": "Li", "formula": "Li", "miller_index": [1, 1, 0]}],
        key="surface_id",
    )
    surfaces.close()
    return root


def snapshot(root: Path) -> dict[str, str]:
    """{relative path: sha256 (files) or 'dir'} of everything under ``root``."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): (
            "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        )
        for p in sorted(root.rglob("*"))
    }


@dataclass(frozen=True)
class Case:
    """One command line with one bad input; each ``fragment`` must appear in the error line."""

    id: str
    args: tuple[str, ...]
    fragment: str | tuple[str, ...]


def case(cid: str, line: str, fragment: str | tuple[str, ...]) -> Case:
    return Case(cid, tuple(line.split()), fragment)


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------

M110 = "--metal-miller 1 1 0 --compound-miller 1 1 0"
STRUCTURE_DEFECTS = {
    # file: what the error line must say besides the file name
    "nan_cell.vasp": "not finite",
    "inf_cell.vasp": "not finite",
    "nan_coords.vasp": "not finite",
    "zero_cell.vasp": "degenerate",
    "collinear_cell.vasp": "degenerate",
    "overlap.vasp": "apart",
    "unknown_element.vasp": "Xx",
    "short.vasp": "truncated",
    "empty.vasp": "is empty",
    "garbage.vasp": "not a text file",
    "partial.cif": "disordered",
    "somewhere": "directory",
    "missing.vasp": "neither a built-in",
    "many_atoms.vasp": "6000 atoms",
    "huge_cell.vasp": "huge",
}
STRUCTURE_COMMANDS = {
    "structures": "structures {f}",
    "surfaces": "surfaces {f}",
    "match-compound": f"match Li {{f}} {M110}",
    "learn-potential": "learn-potential {f}",
}
# Fewer defects on the commands whose structure loading is shared with the ones above.
STRUCTURE_COMMANDS_SOME = {
    "match-metal": f"match {{f}} Li2S {M110}",
    "interface": f"interface {{f}} Li2S {M110}",
    "transport": "transport {f} --potential {in}/nosuch.mtp --species S,Li",
    "diffusion-structure": "diffusion {in}/walk.dump -T 600 --time-step 2 --species S,Li "
    "--structure {f}",
}
SOME_DEFECTS = ["nan_cell.vasp", "short.vasp", "unknown_element.vasp", "somewhere"]

STRUCTURE_CASES = [
    case(
        f"structure-{command}-{name.split('.')[0]}",
        template.replace("{f}", "{in}/" + name),
        (name, fragment),
    )
    for command, template in STRUCTURE_COMMANDS.items()
    for name, fragment in STRUCTURE_DEFECTS.items()
] + [
    case(
        f"structure-{command}-{name.split('.')[0]}",
        template.replace("{f}", "{in}/" + name),
        (name, STRUCTURE_DEFECTS[name]),
    )
    for command, template in STRUCTURE_COMMANDS_SOME.items()
    for name in SOME_DEFECTS
]

# Every numeric option of every command: (command line before the option, option, kind, bounds)
# kind "float" or "int"; zero_bad: zero is outside the range.
NUMERIC_OPTIONS = [
    ("surfaces Li", "--max-index", "int", True),
    ("surfaces Li", "--min-thickness", "float", True),
    ("surfaces Li", "--max-thickness", "float", True),
    ("surfaces Li", "--vacuum", "float", True),
    (f"match Li Li2S {M110}", "--max-area", "float", True),
    (f"match Li Li2S {M110}", "--max-mismatch", "float", True),
    (f"interface Li Li2S {M110}", "--max-area", "float", True),
    (f"interface Li Li2S {M110}", "--max-mismatch", "float", True),
    (f"interface Li Li2S {M110}", "--max-atoms", "int", True),
    (f"interface Li Li2S {M110}", "--metal-thickness", "float", True),
    (f"interface Li Li2S {M110}", "--compound-thickness", "float", True),
    (f"interface Li Li2S {M110}", "--gap", "float", True),
    ("learn-potential Li", "--temperature", "float", True),
    ("learn-potential Li", "--reference-ps", "float", True),
    ("learn-potential Li", "--time-step", "float", True),
    ("learn-potential Li", "--snapshot-every", "int", True),
    ("learn-potential Li", "--supercell-atoms", "int", True),
    ("learn-potential Li", "--vacancy-count", "int", True),
    ("learn-potential Li", "--vacancy-fraction", "float", True),
    ("learn-potential Li", "--level", "int", True),
    ("learn-potential Li", "--max-training", "int", True),
    ("learn-potential Li", "--rounds", "int", False),
    ("fit-mtp {in}/good.extxyz", "--level", "int", True),
    ("fit-mtp {in}/good.extxyz", "--max-training", "int", True),
    ("fit-mtp {in}/good.extxyz", "--max-iter", "int", True),
    ("transport Li --potential store:Li", "--time-step", "float", True),
    ("transport Li --potential store:Li", "--ramp-ps", "float", False),
    ("transport Li --potential store:Li", "--equilibration-ps", "float", False),
    ("transport Li --potential store:Li", "--production-ps", "float", True),
    ("transport Li --potential store:Li", "--dump-fs", "float", True),
    ("transport Li --potential store:Li", "--supercell-atoms", "int", True),
    ("transport Li --potential store:Li", "--vacancy-fraction", "float", True),
    ("diffusion {in}/walk.dump --species S,Li --time-step 2", "--temperature", "float", True),
    ("diffusion {in}/walk.dump --species S,Li -T 600", "--time-step", "float", True),
    ("query diffusion", "--temperature", "float", True),
    # --dry-run: a value that slipped through would plan, never compute.
    ("screen Li6PS5Cl --dry-run", "--max-index", "int", True),
    ("screen Li6PS5Cl --dry-run", "--min-area-fraction", "float", False),
    ("screen Li6PS5Cl --dry-run", "--max-gamma-ratio", "float", True),
    ("screen Li6PS5Cl --dry-run", "--termination-tolerance", "float", False),
    ("screen Li6PS5Cl --dry-run", "--cells-per-pair", "int", True),
    ("screen Li6PS5Cl --dry-run", "--refine", "int", True),
    ("screen Li6PS5Cl --dry-run", "--max-area", "float", True),
    ("screen Li6PS5Cl --dry-run", "--max-mismatch", "float", True),
]


def numeric_cases() -> list[Case]:
    cases = []
    for prefix, option, kind, zero_bad in NUMERIC_OPTIONS:
        command = prefix.split()[0] if prefix.split()[0] != "query" else "query-diffusion"
        if kind == "float":
            values = {"nan": "nan", "inf": "inf", "-inf": "-inf", "negative": "-1"}
            values |= {"absurd": "1e30", "text": "abc"}
        else:
            values = {"nan": "nan", "negative": "-1", "absurd": str(10**30), "text": "abc"}
            values |= {"fraction": "1.5"}
        if zero_bad:
            values["zero"] = "0"
        for label, value in values.items():
            # '=' keeps a negative value from reading as an option.
            cases.append(
                Case(
                    f"number-{command}{option}-{label}",
                    (*prefix.split(), f"{option}={value}"),
                    option,
                )
            )
    return cases


MILLER_CASES = [
    case("miller-surfaces-nonreduced", "surfaces Li --miller 2,2,0", "(2,2,0)"),
    case("miller-surfaces-huge", "surfaces Li --miller 99,99,99", "99"),
    case("miller-surfaces-above-bound", "surfaces Li --miller 50,0,1", "50"),
    case("miller-surfaces-zero", "surfaces Li --miller 0,0,0", "(0,0,0)"),
    case("miller-surfaces-two", "surfaces Li --miller 1,1", "1,1"),
    case("miller-surfaces-four", "surfaces Li --miller 1,1,0,0", "1,1,0,0"),
    case("miller-surfaces-letters", "surfaces Li --miller a,b,c", "a,b,c"),
    case("miller-surfaces-float", "surfaces Li --miller 1.5,0,0", "1.5"),
    case("miller-surfaces-second-bad", "surfaces Li --miller 1,0,0 --miller 3,3,0", "(3,3,0)"),
    case("miller-surfaces-cost", "surfaces {in}/rattled.vasp --miller 4,3,1", "(4,3,1)"),
    case(
        "miller-match-nonreduced",
        "match Li Li2S --metal-miller 2 2 0 --compound-miller 1 1 0",
        "metal facet",
    ),
    case(
        "miller-match-huge",
        "match Li Li2S --metal-miller 1 1 0 --compound-miller 99 99 99",
        "compound facet",
    ),
    case(
        "miller-match-above-bound",
        "match Li Li2S --metal-miller 50 0 1 --compound-miller 1 1 0",
        "(50,0,1)",
    ),
    case(
        "miller-match-zero",
        "match Li Li2S --metal-miller 0 0 0 --compound-miller 1 1 0",
        "(0,0,0)",
    ),
    case(
        "miller-match-two",
        "match Li Li2S --metal-miller 1 1 --compound-miller 1 1 0",
        "--metal-miller",
    ),
    case(
        "miller-match-four",
        "match Li Li2S --metal-miller 1 1 0 0 --compound-miller 1 1 0",
        "(0)",
    ),
    case(
        "miller-match-letters",
        "match Li Li2S --metal-miller a b c --compound-miller 1 1 0",
        "--metal-miller",
    ),
    case(
        "miller-interface-nonreduced",
        "interface Li Li2S --metal-miller 1 1 0 --compound-miller 2 0 0",
        "(2,0,0)",
    ),
    case(
        "miller-interface-above-bound",
        "interface Li Li2S --metal-miller 50 0 1 --compound-miller 1 1 0",
        "(50,0,1)",
    ),
    case(
        "miller-interface-zero",
        "interface Li Li2S --metal-miller 1 1 0 --compound-miller 0 0 0",
        "(0,0,0)",
    ),
    case(
        "miller-interface-cost",
        "interface Li {in}/rattled.vasp --metal-miller 1 1 0 --compound-miller 4 3 1",
        "(4,3,1)",
    ),
    case(
        "miller-interface-beyond-max-atoms",
        "interface Li Li2S --metal-miller 1 1 0 --compound-miller 4 3 1 --max-atoms 200",
        ("(4,3,1)", "--max-atoms"),
    ),
    case(
        "miller-learn-interface-spec",
        "learn-potential interface:Li(110)|Li2S(1,1)",
        "interface:Li(110)|Li2S(1,1)",
    ),
]

CAMPAIGN_DEFECTS = {
    "syntax.yaml": "not valid YAML",
    "latin1.yaml": ("latin1.yaml", "UTF-8"),
    "empty.yaml": ("empty.yaml", "empty"),
    "list.yaml": "mapping",
    "no_name.yaml": "name",
    "unknown_top.yaml": "surface: unknown field",
    "unknown_nested.yaml": "thickness",
    "unknown_reference.yaml": "temp",
    "type_list.yaml": "surfaces",
    "type_int.yaml": "max_index",
    "type_float.yaml": "max_area",
    "nan_temperatures.yaml": "md_temperatures",
    "nan_vacuum.yaml": "vacuum",
    "inf_thickness.yaml": "max_thickness",
    "inf_area.yaml": "max_area",
    "nan_gap.yaml": "gaps",
    "nan_registry.yaml": "registries",
    "nan_reference.yaml": "temperature",
    "inf_production.yaml": "production_ps",
    "nan_time_step.yaml": "time_step",
    "nan_al.yaml": "al_temperature",
    "unknown_material.yaml": ("surfaces[0]", "Unobtainium"),
    "unknown_calculator.yaml": "Nope",
    "miller_nonreduced.yaml": "(2,2,0)",
    "miller_two.yaml": "metal_miller",
    "miller_huge.yaml": "compound_miller",
    "miller_zero.yaml": "(0,0,0)",
    "metal_not_alkali.yaml": ("interfaces[0]", "alkali"),
    "missing_potential.yaml": "NOSUCH",
    "learn_negative.yaml": "learn_rounds",
    "learn_threshold.yaml": "grade_threshold",
    "learn_interval.yaml": "learn_interval_fs",
    "learn_nan.yaml": "learn_ps",
    "learn_file_potential.yaml": ("learn_rounds", "store:SYSTEM"),
    "learn_calculator.yaml": ("learn_calculator", "Nope"),
    "fit_engine.yaml": ("potentials.0.fit.engine", "gap"),
    "potential_no_interface.yaml": ("potentials[0]", "Li(110)|LiCl(100)", "interfaces stage"),
    "potential_vacancy_no_element.yaml": ("potentials[0]", "vacancy_element"),
    "transport_unlearnt.yaml": ("transport[0]", "Li2S-vac"),
    "screen_unknown_field.yaml": ("screen.0.n_refin", "unknown field"),
    "screen_fraction.yaml": "screen.0.min_area_fraction",
    "screen_nan_ratio.yaml": "screen.0.max_gamma_ratio",
    "screen_ratio_below_one.yaml": "screen.0.max_gamma_ratio",
    "screen_refine_zero.yaml": "screen.0.n_refine",
    "screen_calculator.yaml": ("screen.0.refine_calculator", "Nope"),
    "screen_miller.yaml": "(2,2,0)",
    "screen_no_metal.yaml": ("screen[0] (Li3PS4)", "Na"),
    "screen_unknown_electrolyte.yaml": ("screen[0] (Unobtainium)", "Unobtainium"),
    # Run here (submitting it is fine): VASP is not on this machine.
    "screen_vasp_here.yaml": ("VASP", "INTERFACIAL_VASP_CMD"),
    "missing.yaml": "missing.yaml",
    "dir.yaml": ("dir.yaml", "directory"),
}
# Submitting: the file-level defects (the rest share the campaign's validation with `run`).
SUBMIT_DEFECTS = [
    "syntax.yaml",
    "latin1.yaml",
    "empty.yaml",
    "unknown_top.yaml",
    "nan_vacuum.yaml",
    "inf_area.yaml",
    "unknown_material.yaml",
    "miller_huge.yaml",
    "screen_fraction.yaml",
    "screen_no_metal.yaml",
    "learn_interval.yaml",
    "missing.yaml",
    "dir.yaml",
    # References inside one submission: what neither the campaign nor the database provides.
    "fit_engine.yaml",
    "potential_no_interface.yaml",
    "potential_vacancy_no_element.yaml",
    "transport_unlearnt.yaml",
]
CAMPAIGN_CASES = [
    case(f"campaign-run-{name.split('.')[0]}", f"run {{in}}/{name}", fragment)
    for name, fragment in CAMPAIGN_DEFECTS.items()
] + [
    case(f"campaign-submit-{name.split('.')[0]}", f"submit {{in}}/{name}", CAMPAIGN_DEFECTS[name])
    for name in SUBMIT_DEFECTS
]

# `interfacial status`: the campaign's file or name and the LaunchPad, refused before any query.
STATUS_DEFECTS = ["syntax.yaml", "unknown_top.yaml", "missing.yaml", "dir.yaml"]
STATUS_CASES = [
    case(f"status-{name.split('.')[0]}", f"status {{in}}/{name}", CAMPAIGN_DEFECTS[name])
    for name in STATUS_DEFECTS
] + [
    # Nothing submitted here: no default embedded LaunchPad, and none is created.
    case("status-nothing-submitted", "status li-study", ("li-study", "no embedded LaunchPad")),
    case(
        "status-launchpad-missing",
        "status li-study --launchpad {in}/nosuch_launchpad.yaml",
        "nosuch_launchpad.yaml",
    ),
    case("status-launchpad-not-yaml", "status li-study --launchpad {in}/existing.txt", "existing"),
    case(
        "status-launchpad-unreachable",
        "status li-study --launchpad {in}/unreachable_launchpad.yaml",
        ("does not answer", "unreachable_launchpad.yaml"),
    ),
]

DIFF = "diffusion {in}/walk.dump -T 600 --time-step 2 --species S,Li"
TRAJECTORY_CASES = [
    case("trajectory-missing", "diffusion {in}/missing.dump -T 600 --time-step 2", "missing.dump"),
    case(
        "trajectory-directory",
        "diffusion {in}/dir.dump -T 600 --time-step 2",
        ("dir.dump", "is a directory"),
    ),
    case("trajectory-empty", "diffusion {in}/empty.dump -T 600 --time-step 2", "empty.dump"),
    case(
        "trajectory-truncated",
        "diffusion {in}/truncated.dump -T 600 --time-step 2 --species S,Li",
        "truncated",
    ),
    case(
        "trajectory-binary",
        "diffusion {in}/garbage.dump -T 600 --time-step 2 --species S,Li",
        "garbage.dump",
    ),
    case(
        "trajectory-text-garbage",
        "diffusion {in}/text.dump -T 600 --time-step 2 --species S,Li",
        "text.dump",
    ),
    case(
        "trajectory-nan-coordinates",
        "diffusion {in}/nan.dump -T 600 --time-step 2 --species S,Li",
        "non-finite",
    ),
    case(
        "trajectory-one-frame",
        "diffusion {in}/one_frame.dump -T 600 --time-step 2 --species S,Li",
        ("one_frame.dump", "1 frame"),
    ),
    case("trajectory-format-unknown", f"{DIFF} --format pdb", "pdb"),
    case("trajectory-format-wrong", f"{DIFF} --format xdatcar", "walk.dump"),
    case("trajectory-format-traj-on-dump", f"{DIFF} --format traj", "walk.dump"),
    case(
        "trajectory-format-unguessable",
        "diffusion {in}/existing.txt -T 600 --time-step 2",
        "existing.txt",
    ),
    case(
        "trajectory-no-time-step", "diffusion {in}/walk.dump -T 600 --species S,Li", "--time-step"
    ),
    case("trajectory-no-species", "diffusion {in}/walk.dump -T 600 --time-step 2", "--species"),
    case(
        "trajectory-species-unknown",
        "diffusion {in}/walk.dump -T 600 --time-step 2 --species Xx,Li",
        "Xx",
    ),
    case(
        "trajectory-species-short",
        "diffusion {in}/walk.dump -T 600 --time-step 2 --species S",
        "species",
    ),
    case(
        "trajectory-species-empty",
        "diffusion {in}/walk.dump -T 600 --time-step 2 --species=",
        "--species",
    ),
    case("trajectory-group-no-equals", f"{DIFF} --group Li", "'Li'"),
    case("trajectory-group-id-range", f"{DIFF} --group top=1-999", "top=1-999"),
    case("trajectory-group-unknown-element", f"{DIFF} --group x=Xx", "x=Xx"),
    case("trajectory-group-absent-element", f"{DIFF} --group na=Na", "na=Na"),
    case("trajectory-group-region-no-structure", f"{DIFF} --group m=region:metal", "region"),
    case("trajectory-group-name-taken", f"{DIFF} --group S=Li", "'S'"),
    case("trajectory-group-empty-name", f"{DIFF} --group =Li", "=Li"),
    case("trajectory-fit-window-letters", f"{DIFF} --fit-window a,b", "--fit-window"),
    case("trajectory-fit-window-one", f"{DIFF} --fit-window 5", "--fit-window"),
    case("trajectory-fit-window-three", f"{DIFF} --fit-window 1,2,3", "--fit-window"),
    case("trajectory-fit-window-reversed", f"{DIFF} --fit-window 2,1", "--fit-window"),
    case("trajectory-fit-window-nan", f"{DIFF} --fit-window nan,1", "--fit-window"),
    case("trajectory-fit-window-negative", f"{DIFF} --fit-window=-1,1", "--fit-window"),
    case("trajectory-fit-window-inf", f"{DIFF} --fit-window 0.1,inf", "--fit-window"),
    case("trajectory-fit-window-beyond-run", f"{DIFF} --fit-window 1,500", "--fit-window"),
    case("trajectory-structure-missing", f"{DIFF} --structure {{in}}/missing.vasp", "missing"),
    case("trajectory-structure-no-region", f"{DIFF} --structure Li", "region"),
    case("trajectory-save-no-system", f"{DIFF} --save", "--system"),
    case("trajectory-save-blank-system", f"{DIFF} --save --system=", "--system"),
    case("trajectory-save-existing", f"{DIFF} --save --system walk", ("'walk'", "--overwrite")),
    case("trajectory-overwrite-without-save", f"{DIFF} --overwrite", "--save"),
    case("trajectory-no-file", "diffusion -T 600", "trajectory"),
    case(
        "trajectory-gz-corrupt",
        "diffusion {in}/XDATCAR_corrupt.gz -T 600 --time-step 2",
        ("XDATCAR_corrupt.gz", "gzip archive"),
    ),
    case(
        "trajectory-xz-truncated",
        "diffusion {in}/XDATCAR_truncated.xz -T 600 --time-step 2",
        ("XDATCAR_truncated.xz", "truncated xz archive"),
    ),
    case(
        "trajectory-vasprun-no-steps",
        "diffusion {in}/vasprun_nosteps.xml -T 600",
        ("vasprun_nosteps.xml", "no MD steps"),
    ),
    case(
        "trajectory-vasprun-not-md",
        "diffusion {in}/vasprun_relax.xml -T 600",
        ("vasprun_relax.xml", "IBRION = 2"),
    ),
    case(
        "trajectory-vasprun-time-step-contradicts",
        "diffusion {in}/vasprun.xml -T 600 --time-step 100",
        ("--time-step", "100 fs", "2 fs"),
    ),
    case(
        "trajectory-vasprun-wrong-format",
        "diffusion {in}/vasprun.xml -T 600 --time-step 2 --format xdatcar",
        "vasprun.xml",
    ),
    case(
        "trajectory-mixed-formats",
        "diffusion {in}/vasprun.xml {in}/XDATCAR_walk -T 600 --time-step 2",
        ("XDATCAR_walk", "one format"),
    ),
    case(
        "trajectory-format-ase-unknown",
        "diffusion {in}/XDATCAR_walk -T 600 --time-step 2 --format ase:nosuch",
        "ase:nosuch",
    ),
    case(
        "trajectory-format-ase-wrong",
        "diffusion {in}/walk.dump -T 600 --time-step 2 --format ase:xsf",
        ("walk.dump", "xsf"),
    ),
    case(
        "trajectory-binary-wrong-magic",
        "diffusion {in}/bad_magic.bin -T 600 --time-step 2 --species S,Li",
        ("bad_magic.bin", "magic string"),
    ),
    case(
        "trajectory-binary-truncated-header",
        "diffusion {in}/truncated_header.bin -T 600 --time-step 2 --species S,Li",
        ("truncated_header.bin", "ends inside the frame"),
    ),
    case(
        "trajectory-binary-truncated-before-last-segment",
        "diffusion {in}/truncated_middle.bin {in}/walk.bin -T 600 --time-step 2 --species S,Li",
        ("truncated_middle.bin", "only the last file"),
    ),
    case(
        "trajectory-binary-garbage",
        "diffusion {in}/garbage.bin -T 600 --time-step 2 --species S,Li",
        ("garbage.bin", "not a LAMMPS binary dump"),
    ),
    case(
        "trajectory-binary-empty",
        "diffusion {in}/empty.bin -T 600 --time-step 2 --species S,Li",
        ("empty.bin", "0 frame"),
    ),
    case(
        "trajectory-binary-no-time-step",
        "diffusion {in}/walk.bin -T 600 --species S,Li",
        ("walk.bin", "--time-step"),
    ),
    case(
        "trajectory-binary-no-species",
        "diffusion {in}/walk.bin -T 600 --time-step 2",
        ("walk.bin", "--species"),
    ),
    case(
        "trajectory-binary-species-short",
        "diffusion {in}/walk.bin -T 600 --time-step 2 --species S",
        ("walk.bin", "atom type 2"),
    ),
    case(
        "trajectory-binary-read-as-text",
        "diffusion {in}/walk.bin -T 600 --time-step 2 --species S,Li --format lammps",
        ("walk.bin", "not a text file"),
    ),
    case(
        "trajectory-text-read-as-binary",
        f"{DIFF} --format lammps-binary",
        ("walk.dump", "not a LAMMPS binary dump"),
    ),
    case(
        "trajectory-run-directory-without-record",
        "diffusion {in}/somewhere -T 600",
        ("somewhere", "without an MD run record"),
    ),
]

FIT = "fit-mtp"
TRAINING_CASES = [
    case("training-missing", f"{FIT} {{in}}/missing.extxyz", "missing.extxyz"),
    case("training-directory", f"{FIT} {{in}}/somewhere", ("somewhere", "directory")),
    case("training-directory-cfg", f"{FIT} {{in}}/dir.dump --species Li,S", "dir.dump"),
    case("training-garbage-cfg", f"{FIT} {{in}}/garbage.cfg --species Li,S", "garbage.cfg"),
    case("training-binary", f"{FIT} {{in}}/binary.extxyz", "binary.extxyz"),
    case("training-empty-extxyz", f"{FIT} {{in}}/empty.extxyz", "empty.extxyz"),
    case("training-empty-cfg", f"{FIT} {{in}}/empty.cfg --species Li,S", ("empty.cfg", "empty")),
    case("training-nan-energy-extxyz", f"{FIT} {{in}}/nan_energy.extxyz", "nan_energy.extxyz"),
    case(
        "training-nan-energy-cfg",
        f"{FIT} {{in}}/nan_energy.cfg --species Li,S",
        "nan_energy.cfg",
    ),
    case("training-nan-forces", f"{FIT} {{in}}/nan_forces.extxyz", "nan_forces.extxyz"),
    case(
        "training-species-missing-element",
        f"{FIT} {{in}}/good.extxyz --species Li",
        ("good.extxyz", "['S']"),
    ),
    case("training-species-unknown", f"{FIT} {{in}}/good.extxyz --species Li,Xx", "Xx"),
    case("training-species-twice", f"{FIT} {{in}}/good.extxyz --species Li,Li,S", "twice"),
    case("training-cfg-no-species", f"{FIT} {{in}}/good.cfg", "--species"),
    case("training-cfg-short-species", f"{FIT} {{in}}/good.cfg --species Li", "good.cfg"),
    case("training-store-nosuch", f"{FIT} store:NOSUCH", "NOSUCH"),
    case(
        "training-validation-missing",
        f"{FIT} {{in}}/good.extxyz --validation {{in}}/missing.extxyz",
        "missing.extxyz",
    ),
    case(
        "training-validation-nan",
        f"{FIT} {{in}}/good.extxyz --validation {{in}}/nan_energy.extxyz",
        "nan_energy.extxyz",
    ),
    case("training-engine-unknown", f"{FIT} {{in}}/good.extxyz --engine nope", "nope"),
    case("training-level-unsupported", f"{FIT} {{in}}/good.extxyz --level 7", "--level 7"),
]

# The screening funnel: refused while planning (--dry-run) or building, before any calculation.
# Those that need stored surfaces are in test_screen_bad_input_with_stored_surfaces below.
SCREEN = "screen Li6PS5Cl --dry-run"
SCREEN_CASES = [
    case("screen-unknown-electrolyte", "screen Unobtainium --dry-run", "Unobtainium"),
    case("screen-electrolyte-file-missing", "screen {in}/missing.vasp --dry-run", "missing.vasp"),
    case("screen-electrolyte-file-broken", "screen {in}/nan_cell.vasp --dry-run", "nan_cell.vasp"),
    case("screen-no-metal-in-electrolyte", "screen Li3PS4 --metal Na --dry-run", ("Li3PS4", "Na")),
    case(
        "screen-missing-product-file",
        "screen Li3PS4 --compounds Li2S,{in}/missing.vasp --dry-run",
        "missing.vasp",
    ),
    case(
        "screen-compound-of-another-metal",
        "screen Li3PS4 --compounds Li2S,Li3P,Na2S --dry-run",
        "Na2S",
    ),
    case("screen-no-product-for-an-element", "screen Li3PS4 --compounds Li2S --dry-run", "P"),
    case(
        "screen-compound-file-ternary",
        "screen Li3PS4 --compounds Li2S,Li3P,{in}/ternary.vasp --dry-run",
        "binary",
    ),
    case("screen-compound-the-metal", "screen Li3PS4 --compounds Li2S,Li3P,Li --dry-run", "'Li'"),
    case(
        "screen-compound-a-formula",
        "screen Li3PS4 --compounds Li2S,Li3P,Li3PS4 --dry-run",
        "'Li3PS4'",
    ),
    case("screen-compounds-empty-entry", "screen Li3PS4 --compounds Li2S,,Li3P", "--compounds"),
    case("screen-metal-facets-nonreduced", f"{SCREEN} --metal-facets 2,2,0", "--metal-facets"),
    case("screen-compound-facets-letters", f"{SCREEN} --compound-facets abc", "--compound-facets"),
    case("screen-compound-facets-zero", f"{SCREEN} --compound-facets 000", "(0,0,0)"),
    case("screen-unknown-calculator", f"{SCREEN} --calculator Nope", "Nope"),
    case("screen-unknown-refine-calculator", f"{SCREEN} --refine-calculator Nope", "Nope"),
    case("screen-area-fraction-above-one", f"{SCREEN} --min-area-fraction 2", "--min-area"),
    case("screen-gamma-ratio-below-one", f"{SCREEN} --max-gamma-ratio 0.5", "--max-gamma-ratio"),
    case("screen-refine-zero", "screen Li6PS5Cl --refine 0", "--refine"),
    case("screen-no-electrolyte", "screen", "electrolyte"),
    case(
        "screen-metal-facet-not-reduced",
        "screen Li6PS5Cl --metal-facets 2,2,0",
        "--metal-facets",
    ),
    case("query-screening-unknown-option", "query screening --metals Li", "--metals"),
]

OTHER_CASES = [
    case("report-out-existing-file", "report --out {in}/existing.txt", "existing.txt"),
    case("report-out-under-file", "report --out {in}/existing.txt/figures", "existing.txt"),
    case("demo-out-existing-file", "demo --out {in}/existing.txt", "existing.txt"),
    case("demo-workers-zero", "demo --workers 0", "--workers"),
    case("demo-workers-letters", "demo --workers two", "--workers"),
    case("run-workers-negative", "run workflows/demo.yaml --workers=-1", "--workers"),
    case("structures-unknown-name", "structures Lithium", "Lithium"),
    case("surfaces-unknown-calculator", "surfaces Li --calculator Nope", "Nope"),
    case(
        "surfaces-thickness-order", "surfaces Li --min-thickness 20 --max-thickness 10", "thickness"
    ),
    case("match-metal-not-alkali", f"match Li2S Li2O {M110}", "alkali"),
    case("match-compound-without-metal", f"match Na Li2S {M110}", "Na"),
    case("interface-unknown-relaxation", f"interface Li Li2S {M110} --relaxation nope", "nope"),
    case("interface-registry-letters", f"interface Li Li2S {M110} --registry a,b", "a,b"),
    case("interface-registry-one", f"interface Li Li2S {M110} --registry 0.5", "0.5"),
    case("interface-registry-nan", f"interface Li Li2S {M110} --registry nan,0", "nan,0"),
    case("interface-registry-inf", f"interface Li Li2S {M110} --registry 0,inf", "0,inf"),
    case("interface-gap-too-wide", f"interface Li Li2S {M110} --gap 50", "50"),
    case("interface-unknown-calculator", f"interface Li Li2S {M110} --calculator Nope", "Nope"),
    case("learn-unknown-calculator", "learn-potential Li --calculator Nope", "Nope"),
    case("learn-interface-not-stored", "learn-potential interface:Li(110)|Li2S(110)", "Li(110)"),
    case("learn-snapshot-beyond-run", "learn-potential Li --snapshot-every 100000", "snapshot"),
    case(
        "learn-vacancies-both",
        "learn-potential Li2S --vacancy-count 1 --vacancy-fraction 0.1",
        "vacanc",
    ),
    case("learn-vacancies-too-many", "learn-potential Li2S --vacancy-count 5000", "5000"),
    case("transport-potential-missing-file", "transport Li --potential {in}/nosuch.mtp", "nosuch"),
    case("transport-potential-store-nosuch", "transport Li --potential store:NOSUCH", "NOSUCH"),
    case(
        "transport-potential-no-species",
        "transport Li --potential {in}/existing.txt",
        "--species",
    ),
    case("transport-temperatures-letters", "transport Li --potential x --temperatures a,b", "a,b"),
    case("transport-temperatures-nan", "transport Li --potential x --temperatures 300,nan", "nan"),
    case("transport-temperatures-negative", "transport Li --potential x --temperatures=-5", "-5"),
    case("transport-temperatures-empty", "transport Li --potential x --temperatures=", "--temp"),
    case(
        "transport-temperatures-absurd", "transport Li --potential x --temperatures 1e9", "--temp"
    ),
    case(
        "transport-dump-below-step",
        "transport Li --potential x --time-step 2 --dump-fs 1",
        "--dump-fs",
    ),
    case("transport-unknown-structure", "transport Unobtainium --potential x", "Unobtainium"),
    case("query-surfaces-bad-formula", "query surfaces --formula Xx2", "Xx2"),
    case("query-surfaces-not-formula", "query surfaces --formula ???", "???"),
    case("unknown-command", "nosuch", "nosuch"),
    case("unknown-option", "surfaces Li --thickness 5", "--thickness"),
    case("missing-argument", "match Li", "compound"),
]

CASES = (
    STRUCTURE_CASES
    + numeric_cases()
    + MILLER_CASES
    + CAMPAIGN_CASES
    + STATUS_CASES
    + TRAJECTORY_CASES
    + TRAINING_CASES
    + SCREEN_CASES
    + OTHER_CASES
)


def expand(args: tuple[str, ...], inputs: Path) -> list[str]:
    return [a.replace("{in}", str(inputs)) for a in args]


def test_catalogue_size() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 150


@pytest.fixture
def isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_store: Path
) -> tuple[Path, Path]:
    """A copy of the template store as INTERFACIAL_DATA_DIR, an empty working directory."""
    import interfacial.runner

    data = tmp_path / "data"
    shutil.copytree(template_store, data)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(data))
    monkeypatch.chdir(work)

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bad input reached run_flow: validation is missing")

    monkeypatch.setattr(interfacial.runner, "run_flow", no_work)
    return data, work


def check_error_line(stderr: str, fragment: str | tuple[str, ...]) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    line = lines[0]
    assert line.startswith("error: ") and line.removeprefix("error: ").strip(), line
    for part in (fragment,) if isinstance(fragment, str) else fragment:
        assert part in line, f"{part!r} not in {line!r}"
    return line


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused(bad: Case, inputs: Path, isolated: tuple[Path, Path]) -> None:
    data, work = isolated
    before = snapshot(data), snapshot(inputs)
    result = runner.invoke(app, expand(bad.args, inputs))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    check_error_line(result.stderr, bad.fragment)
    assert result.exit_code == 2, result.stderr
    assert snapshot(data) == before[0], "the data directory changed"
    assert snapshot(inputs) == before[1], "an input file changed"
    assert snapshot(work) == {}, "files appeared in the working directory"


# --------------------------------------------------------------------------------------------
# The screening funnel on stored surfaces: what only the stored facets and bulks can refuse
# --------------------------------------------------------------------------------------------

# Without --dry-run: screen_flow refuses at build time, so run_flow is never reached.
SCREEN_STORED_CASES = [
    case(
        "screen-stored-limits-admit-nothing",
        "screen Li3PS4 --metal-facets 110 --max-area 1",
        ("no facet pair", "--max-area"),
    ),
    case(
        "screen-stored-compound-facet-polar-in-one-product",
        "screen Li6PS5Cl --compound-facets 111",
        ("LiCl (111)", "polar"),
    ),
]


@pytest.fixture(scope="session")
def screen_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real CHGNet surfaces of Li, Li2S, Li3P and LiCl (index <= 1) with their bulks."""
    from screening_data import store_surfaces

    return store_surfaces(tmp_path_factory.mktemp("screen") / "data")


@pytest.mark.parametrize("bad", SCREEN_STORED_CASES, ids=[c.id for c in SCREEN_STORED_CASES])
def test_screen_bad_input_with_stored_surfaces(
    bad: Case,
    inputs: Path,
    screen_store: Path,
    isolated: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, work = isolated
    shutil.rmtree(data)
    shutil.copytree(screen_store, data)
    before = snapshot(data)
    result = runner.invoke(app, expand(bad.args, inputs))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    check_error_line(result.stderr, bad.fragment)
    assert result.exit_code == 2, result.stderr
    assert snapshot(data) == before, "the data directory changed"
    assert snapshot(work) == {}, "files appeared in the working directory"


# --------------------------------------------------------------------------------------------
# Real processes: nothing crashes the interpreter or hangs
# --------------------------------------------------------------------------------------------

SUBPROCESS_CASES = [
    case("process-surfaces-nan-cell", "surfaces {in}/nan_cell.vasp", "not finite"),
    case("process-match-nan-metal", f"match {{in}}/nan_cell.vasp Li2S {M110}", "not finite"),
    case("process-match-nan-compound", f"match Li {{in}}/nan_coords.vasp {M110}", "not finite"),
    case("process-structures-partial-cif", "structures {in}/partial.cif", "disordered"),
    case(
        "process-diffusion-binary",
        "diffusion {in}/garbage.dump -T 600 --time-step 2 --species S,Li",
        "garbage.dump",
    ),
]


@pytest.mark.parametrize("bad", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_bad_input_in_a_real_process(bad: Case, inputs: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        **os.environ,
        "INTERFACIAL_DATA_DIR": str(data),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    result = subprocess.run(
        [sys.executable, "-m", "interfacial.cli", *expand(bad.args, inputs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, (result.returncode, result.stderr)
    check_error_line(result.stderr, bad.fragment)
    assert not data.exists()


def test_status_of_a_campaign_not_on_the_launchpad(tmp_path: Path) -> None:
    """Unknown name, or a file whose campaign was never submitted: one line, LaunchPad intact."""
    data = tmp_path / "data"
    env = {
        **os.environ,
        "HOME": str(tmp_path),  # no ~/.fireworks: the default embedded LaunchPad in data
        "INTERFACIAL_DATA_DIR": str(data),
        "INTERFACIAL_CONFIG_FILE": str(tmp_path / "none.yaml"),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    for variable in ("MONGOMOCK_SERVERSTORE_FILE", "FW_CONFIG_FILE", "INTERFACIAL_STORE_URI"):
        env.pop(variable, None)
    submitted, other = tmp_path / "submitted.yaml", tmp_path / "other.yaml"
    surfaces = "surfaces:\n  - {material: Li, millers: [[1, 1, 0]]}\n"
    submitted.write_text(f"name: known-campaign\n{surfaces}")
    other.write_text(f"name: never-submitted\n{surfaces}")

    def interfacial(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "interfacial.cli", *args], capture_output=True, text=True,
            env=env, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip

    assert interfacial("submit", str(submitted)).returncode == 0

    def unlocked(snap: dict[str, str]) -> dict[str, str]:
        # The lock file records the last process that held the LaunchPad, by design.
        return {k: v for k, v in snap.items() if not k.endswith(".lock")}

    before = unlocked(snapshot(data))
    for target, name in (("no-such-campaign", "no-such-campaign"), (str(other), "never-submitted")):
        result = interfacial("status", target)
        assert result.returncode == 2, (result.returncode, result.stderr)
        check_error_line(result.stderr, (f"'{name}' has no workflows", "known-campaign"))
    assert unlocked(snapshot(data)) == before, "the LaunchPad or the database changed"
