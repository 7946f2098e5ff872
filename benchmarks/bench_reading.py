"""Benchmark: reading our MD runs' trajectories + MSD, against the MSD alone and pymatgen.

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_reading.py                  # 8320 atoms x 10,000 frames
    .venv/bin/python benchmarks/bench_reading.py --frames 2000 --ref-frames 300   # quick look

pymatgen-analysis-diffusion is optional (skipped when not installed); install it into a
separate environment that sees this one::

    python -m venv --system-site-packages /tmp/read-venv
    /tmp/read-venv/bin/pip install pymatgen-analysis-diffusion==2026.9.23
    /tmp/read-venv/bin/python benchmarks/bench_reading.py

Data: the synthetic run of ``bench_msd.py`` (8320 atoms, a quarter Li random walkers, the rest a
vibrating framework, frames 0.1 ps apart), written to a scratch directory as a LAMMPS binary
dump (``id type xu yu zu``, the columns of our runs, 333 kB per frame) and, for the first
``--ref-frames`` frames, as a text dump with 17 significant digits as our runs write it. The
files are read right after being written, so from the page cache: the numbers are the CPU
cost of reading, not the speed of a disk.

Each measurement runs in its own subprocess (peak resident memory ``ru_maxrss`` is its own) and
covers file (or memory) to DiffusionDocument: :func:`interfacial.diffusion.diffusion_document`
with the element groups, lags up to half the run (on the MSD's lag grid) and the transport
job's origin rule (about 200 live origins: one every ``max_lag // 200`` frames;
``--origin-interval`` to change it):

- ``read-binary``, ``read-text``: reading alone (every frame through ``iter_frames``).
- ``msd-memory``: the frames already in memory (one array), the pipeline alone: the reference.
- ``binary``: :func:`interfacial.trajectory.iter_frames` on the binary dump, streamed.
- ``text``: the same on the text dump (first ``--ref-frames`` frames).
- ``pymatgen``: pymatgen-analysis-diffusion end to end on the same text dump: pymatgen's own
  dump reader (``parse_lammps_dumps``), displacements, ``DiffusionAnalyzer`` (FFT MSD over
  every origin and lag).

The ratios printed are computed from the runs of the same invocation.

Measured (2 shared cores, November 2026; the full table is in docs/transport.md): 10,000
frames with the job's rule, binary dump -> document 1.5 ms per frame (1.5x the MSD alone,
155 MB); pymatgen-analysis-diffusion 14.5 ms per frame at 1000 frames, a per-frame cost that
only grows with the run (its FFT MSD and its whole-run arrays), so >= 9.4x ours per frame at
10,000 frames (13x with ``--origin-interval 100``). Before the MSD's lag grid the same
in-memory MSD took 53.7 ms per frame with the job's rule (1.45 in the same invocation after).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_msd import CELL, FRAME_PS, N_ATOMS, STEP_SKIP, TIME_STEP_FS, frames, layout

N_FRAMES = 10_000
SPECIES = ["Li", "S"]  # LAMMPS type 1 = Li (the walkers), type 2 = S (the framework)
COLUMNS = b"id type xu yu zu"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def types_of(n_atoms: int) -> np.ndarray:
    li, _ = layout(n_atoms)
    types = np.full(n_atoms, 2.0)
    types[li] = 1.0
    return types


def binary_header(step: int, n_atoms: int) -> bytes:
    """Frame header of a LAMMPS binary dump (layout of LAMMPS's src/dump_custom.cpp)."""
    magic = b"DUMPCUSTOM"
    out = struct.pack("<q", -len(magic)) + magic + struct.pack("<ii", 1, 2)
    out += struct.pack("<qqi6i", step, n_atoms, 0, 0, 0, 0, 0, 0, 0)
    out += struct.pack("<6d", 0.0, CELL[0, 0], 0.0, CELL[1, 1], 0.0, CELL[2, 2])
    out += struct.pack("<ii", 5, 0) + b"\x00" + struct.pack("<i", len(COLUMNS)) + COLUMNS
    return out + struct.pack("<ii", 1, 5 * n_atoms)


def write_files(root: Path, n_atoms: int, n_frames: int, ref_frames: int) -> dict[str, Path]:
    """The binary dump (all frames, and its first ``ref_frames``) and the text dump."""
    ids = np.arange(1, n_atoms + 1, dtype=float)
    types = types_of(n_atoms)
    paths = {
        "binary": root / "run.bin",
        "binary-ref": root / "ref.bin",
        "text": root / "ref.dump",
    }
    with (
        paths["binary"].open("wb") as full,
        paths["binary-ref"].open("wb") as ref,
        paths["text"].open("w") as text,
    ):
        for k, pos in enumerate(frames(n_atoms, n_frames)):
            values = np.column_stack([ids, types, pos])
            frame = binary_header(k * STEP_SKIP, n_atoms) + values.tobytes()
            full.write(frame)
            if k < ref_frames:
                ref.write(frame)
                text.write(
                    f"ITEM: TIMESTEP\n{k * STEP_SKIP}\nITEM: NUMBER OF ATOMS\n{n_atoms}\n"
                    f"ITEM: BOX BOUNDS pp pp pp\n0 {CELL[0, 0]}\n0 {CELL[1, 1]}\n0 {CELL[2, 2]}\n"
                    "ITEM: ATOMS id type xu yu zu\n"
                )
                np.savetxt(text, values, fmt="%d %d %.17g %.17g %.17g")
    return paths


# ------------------------------------------------------------------------------------ workers


ORIGIN_INTERVAL: int | None = None  # --origin-interval; None: the transport job's rule


def origin_interval(n_frames: int) -> int:
    """The transport job's rule (interfacial.jobs.diffusion): ~200 live origins."""
    return ORIGIN_INTERVAL or max(1, (n_frames // 2) // 200)


def ours(source: Any, n_frames: int, n_atoms: int) -> dict[str, Any]:
    from interfacial.diffusion import diffusion_document
    from interfacial.trajectory import default_groups

    symbols = [SPECIES[int(t) - 1] for t in types_of(n_atoms)]
    start = time.perf_counter()
    doc = diffusion_document(
        source,
        default_groups(symbols),
        system="bench",
        temperature=600.0,
        source="trajectory",
        max_lag=n_frames // 2,
        origin_interval=origin_interval(n_frames),
    )
    seconds = time.perf_counter() - start
    li = next(r for r in doc.diffusivities if r.group == "Li" and r.component == "total")
    return {"seconds": seconds, "D": li.D, "frames": doc.msd.n_frames}


def run_memory(n_atoms: int, n_frames: int) -> dict[str, Any]:
    from interfacial.trajectory import Frame

    trajectory = np.empty((n_frames, n_atoms, 3))
    for k, pos in enumerate(frames(n_atoms, n_frames)):
        trajectory[k] = pos
    symbols = tuple(SPECIES[int(t) - 1] for t in types_of(n_atoms))
    ids = np.arange(1, n_atoms + 1)
    cell = CELL.astype(float)
    stream = (Frame(trajectory[k], cell, k * FRAME_PS, symbols, ids, True) for k in range(n_frames))
    return ours(stream, n_frames, n_atoms)


def run_file(path: str, n_atoms: int, n_frames: int) -> dict[str, Any]:
    from interfacial.trajectory import iter_frames

    reader = iter_frames(Path(path), time_step_fs=TIME_STEP_FS, species_order=SPECIES)
    return ours(reader, n_frames, n_atoms)


def run_read(path: str, n_atoms: int, n_frames: int) -> dict[str, Any]:
    """Reading alone: every frame of the file through iter_frames, nothing done with it."""
    from interfacial.trajectory import iter_frames

    start = time.perf_counter()
    count = sum(
        1 for _ in iter_frames(Path(path), time_step_fs=TIME_STEP_FS, species_order=SPECIES)
    )
    return {"seconds": time.perf_counter() - start, "D": float("nan"), "frames": count}


def run_pymatgen(path: str, n_atoms: int, n_frames: int) -> dict[str, Any]:
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.lammps.outputs import parse_lammps_dumps

    start = time.perf_counter()
    positions = np.empty((n_frames, n_atoms, 3))
    count = 0
    for k, dump in enumerate(parse_lammps_dumps(path)):
        data = dump.data.sort_values("id")
        positions[k] = data[["xu", "yu", "zu"]].to_numpy()
        count += 1
    species = [SPECIES[int(t) - 1] for t in types_of(n_atoms)]
    structure = Structure(Lattice(CELL), species, positions[0], coords_are_cartesian=True)
    disp = np.ascontiguousarray((positions - positions[0]).transpose(1, 0, 2))
    del positions
    analyzer = DiffusionAnalyzer(
        structure, disp, "Li", temperature=600, time_step=TIME_STEP_FS, step_skip=STEP_SKIP
    )
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "D": float(analyzer.diffusivity), "frames": count}


# --------------------------------------------------------------------------------- orchestration


def in_subprocess(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cli.add_argument("--atoms", type=int, default=N_ATOMS)
    cli.add_argument("--frames", type=int, default=N_FRAMES)
    cli.add_argument("--ref-frames", type=int, default=1000, help="frames of the text dump")
    cli.add_argument("--dir", help="scratch directory (default: a temporary one)")
    cli.add_argument(
        "--origin-interval", type=int, help="frames between MSD origins (default: the job's rule)"
    )
    cli.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = cli.parse_args()

    global ORIGIN_INTERVAL  # noqa: PLW0603
    ORIGIN_INTERVAL = args.origin_interval
    if args.worker:
        kind, *rest = args.worker
        if kind == "memory":
            result = run_memory(args.atoms, args.frames)
        elif kind == "pymatgen":
            result = run_pymatgen(rest[0], args.atoms, args.frames)
        elif kind == "read":
            result = run_read(rest[0], args.atoms, args.frames)
        else:
            result = run_file(rest[0], args.atoms, args.frames)
        result["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(dir=args.dir) as scratch:
        start = time.perf_counter()
        paths = write_files(Path(scratch), args.atoms, args.frames, args.ref_frames)
        print(
            f"{args.atoms} atoms; wrote {args.frames} binary frames "
            f"({paths['binary'].stat().st_size / args.frames / 1e3:.0f} kB each) and "
            f"{args.ref_frames} text frames "
            f"({paths['text'].stat().st_size / args.ref_frames / 1e3:.0f} kB each) in "
            f"{time.perf_counter() - start:.0f} s\n"
        )
        every = (
            [] if args.origin_interval is None else ["--origin-interval", str(args.origin_interval)]
        )
        runs = [
            ("read-binary", args.frames, ["read", str(paths["binary"])]),
            ("read-text", args.ref_frames, ["read", str(paths["text"])]),
            ("msd-memory", args.frames, ["memory"]),
            ("binary", args.frames, ["file", str(paths["binary"])]),
            ("msd-memory", args.ref_frames, ["memory"]),
            ("binary", args.ref_frames, ["file", str(paths["binary-ref"])]),
            ("text", args.ref_frames, ["file", str(paths["text"])]),
        ]
        if importlib.util.find_spec("pymatgen.analysis.diffusion") is not None:
            runs.append(("pymatgen", args.ref_frames, ["pymatgen", str(paths["text"])]))
        else:
            print("skipping pymatgen-analysis-diffusion: not installed (see the docstring)")
        print(
            f"{'method':<12}{'frames':>8}{'wall s':>9}{'ms/frame':>10}{'peak MB':>9}{'D cm2/s':>12}"
        )
        wall: dict[tuple[str, int], float] = {}
        for name, n_frames, worker in runs:
            res = in_subprocess(
                *worker, "--atoms", str(args.atoms), "--frames", str(n_frames), *every
            )  # fmt: skip
            if "error" in res:
                print(f"{name:<12}{n_frames:>8}  failed: {res['error']}")
                continue
            wall[(name, n_frames)] = res["seconds"]
            print(
                f"{name:<12}{n_frames:>8}{res['seconds']:>9.2f}"
                f"{1e3 * res['seconds'] / n_frames:>10.3f}{res['peak_rss_mb']:>9.0f}"
                f"{res['D']:>12.4e}",
                flush=True,
            )
    full, ref = args.frames, args.ref_frames
    print()
    ratios = [
        ("binary / msd-memory", ("binary", full), ("msd-memory", full)),
        ("binary / msd-memory", ("binary", ref), ("msd-memory", ref)),
        ("text / binary", ("text", ref), ("binary", ref)),
        ("read: text / binary", ("read-text", ref), ("read-binary", full)),
        ("pymatgen / binary", ("pymatgen", ref), ("binary", ref)),
    ]
    for label, a, b in ratios:
        if a in wall and b in wall:  # per frame: the runs may differ in length
            ratio = (wall[a] / a[1]) / (wall[b] / b[1])
            print(f"{label:<22} per frame, {a[1]:>6} / {b[1]:>6} frames: {ratio:6.2f}x")


if __name__ == "__main__":
    main()
