"""Benchmark: the embedded LAMMPS + fix external MD loop vs motep's force calls alone.

Run on demand: ``.venv/bin/python benchmarks/bench_md_loop.py [--steps N] [--level L]``.

The system is a 2x2x2 supercell of the built-in Li2S (96 atoms) with a quickly fitted MTP (its
accuracy does not matter for speed, only its level and cutoff). Both timings are taken in the
same run, for the same number of force calls:

- MD: one NVT segment of ``--steps`` steps through :class:`interfacial.lammps.MotepExternal`
  (LAMMPS' own "Loop time" of the run, and the segment's whole wall time including start-up,
  reading the data file and writing the restart);
- bare: ``calculator.calculate`` of a motep calculator on the same cell at each of the
  ``steps + 1`` positions of the same trajectory (LAMMPS also evaluates forces once at
  set-up), so that motep's neighbour list is rebuilt as often as in the MD.

The printed ratio (MD loop / bare, per atom per step) is the overhead of LAMMPS and the
callback; the goal is <= 1.25.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def li2s_cell():
    """The built-in Li2S conventional cell (12 atoms) as ASE Atoms."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.structures.library import load_structure

    return AseAtomsAdaptor.get_atoms(load_structure("Li2S"))


def training_set(n: int, seed: int) -> list:
    """Rattled, strained Li2S cells labelled by CHGNet (the project's embedded calculator).

    A real labeller keeps the MD a stable solid, so that the benchmark measures a realistic
    loop (a single Morse term for every pair, as in the tests, does not hold antifluorite
    together).
    """
    from ase.calculators.singlepoint import SinglePointCalculator
    from chgnet.model.dynamics import CHGNetCalculator

    calculator = CHGNetCalculator(use_device="cpu")
    rng = np.random.default_rng(seed)
    base = li2s_cell()
    out = []
    for k in range(n):
        atoms = base.copy()
        atoms.set_cell(atoms.cell * (1 + rng.uniform(-0.02, 0.02)), scale_atoms=True)
        atoms.positions += rng.normal(scale=0.05 + 0.1 * (k % 3) / 2, size=atoms.positions.shape)
        atoms.calc = calculator
        labels = {
            "energy": atoms.get_potential_energy(),
            "forces": atoms.get_forces(),
            "stress": atoms.get_stress(),
        }
        atoms.calc = SinglePointCalculator(atoms, **labels)
        out.append(atoms)
    return out


def fit_potential(level: int, workdir: Path):
    """A level-``level`` MTP fitted in seconds (few iterations)."""
    from interfacial.mtp.engine import MotepEngine

    return MotepEngine(max_iter=100).fit(
        training_set(40, seed=1), ["S", "Li"], level=level, cutoff=5.0, seed=0, workdir=workdir
    )


def md_timing(potential, steps: int, workdir: Path, dump_interval: int | None = None) -> dict:
    """Timings and sanity numbers of one NVT segment at 600 K.

    Frames are dumped every ``dump_interval`` steps (by default only the first and last).
    """
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.lammps import MDStage, MotepExternal, SegmentedMD

    cell = li2s_cell().repeat((2, 2, 2))
    md = SegmentedMD(
        AseAtomsAdaptor.get_structure(cell),
        ["S", "Li"],
        [MDStage("production", steps, 600.0, 600.0, dump_interval or steps)],
        MotepExternal(potential),
        workdir,
        thermo_interval=max(steps // 10, 1),
        max_segment_steps=steps,
        dump_format="text",  # read below as text, as when the timings were recorded
    )
    record = md.run()
    segment = record.segments[0]
    log = (workdir / segment.log_file).read_text()
    loop = float(re.search(r"Loop time of ([0-9.eE+-]+)", log).group(1))  # type: ignore[union-attr]
    # Shortest distance in the last frame: the solid must not have collapsed or melted apart.
    frames = read_dump(Path(record.production_dumps[-1]), len(cell))
    last = Atoms(cell.get_chemical_symbols(), positions=frames[-1], cell=cell.cell, pbc=True)
    distances = last.get_all_distances(mic=True)[np.triu_indices(len(last), 1)]
    return {
        "loop": loop,
        "wall": segment.wall_seconds,
        "atoms": len(cell),
        "temperature": segment.mean_temperature,
        "shortest": float(distances.min()),
        "frames": frames,
        "atoms_object": cell,
    }


def read_dump(path: Path, natoms: int) -> list[np.ndarray]:
    """Positions (A) of every frame of a LAMMPS ``id type xu yu zu`` dump sorted by ID."""
    lines = path.read_text().splitlines()
    block = natoms + 9
    return [
        np.array([[float(x) for x in row.split()[2:5]] for row in lines[i + 9 : i + block]])
        for i in range(0, len(lines), block)
    ]


def bare_timing(potential, atoms, frames: list[np.ndarray]) -> float:
    """Wall time of motep evaluations of ``atoms`` at each of ``frames`` (positions, A).

    The frames are the MD's own trajectory, so motep's neighbour list is rebuilt as often as
    in the MD loop.
    """
    from ase.calculators.calculator import all_changes

    from interfacial.mtp.engine import motep_calculator

    atoms = atoms.copy()
    calculator = motep_calculator(potential)
    start = time.perf_counter()
    for positions in frames:
        atoms.positions = positions
        calculator.calculate(atoms, ["energy", "forces", "stress"], all_changes)
    return time.perf_counter() - start


def main() -> None:
    """Print per-atom-per-step times of both loops and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--level", type=int, default=10, help="MTP level (the study uses 10)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="bench-md-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        potential = fit_potential(args.level, root / "fit")
        print(f"fit level {args.level}: {time.perf_counter() - start:.1f} s")
        md_timing(potential, 20, root / "warmup")  # imports, first calls
        md = md_timing(potential, args.steps, root / "md")
        # The same trajectory again (deterministic), dumped every step for the bare loop; LAMMPS
        # evaluates forces steps + 1 times (once at set-up), as many as there are frames.
        replay = md_timing(potential, args.steps, root / "replay", dump_interval=1)
        bare = bare_timing(potential, md["atoms_object"], replay["frames"])
        same = np.array_equal(md["frames"][-1], replay["frames"][-1])
    loop, wall, natoms = md["loop"], md["wall"], int(md["atoms"])
    calls = args.steps + 1
    per = 1e6 / (natoms * calls)  # s -> us per atom per force call
    print(f"{natoms} atoms, {args.steps} steps ({calls} force calls)")
    print(f"bare motep calculate : {bare * per:8.2f} us/atom/step  ({bare:.2f} s)")
    print(f"LAMMPS MD loop       : {loop * per:8.2f} us/atom/step  ({loop:.2f} s)")
    print(f"whole segment        : {wall * per:8.2f} us/atom/step  ({wall:.2f} s, with start-up)")
    print(f"ratio MD loop / bare : {loop / bare:.3f}   (goal <= 1.25)")
    print(f"ratio segment / bare : {wall / bare:.3f}")
    print(f"speed: {args.steps * 1e-6 / wall * 86400:.2f} ns/day at 1 fs")
    print(
        f"sanity: mean temperature {md['temperature']:.0f} K (target 600 K), shortest distance "
        f"in the last frame {md['shortest']:.2f} A; replayed trajectory identical: {same}"
    )


if __name__ == "__main__":
    main()
