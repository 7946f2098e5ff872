"""Side by side: our D* against kinisi 2.x and pymatgen-analysis-diffusion on public AIMD runs.

Run on demand (not part of the tests), with the references in an environment of their own
(a venv made from ``.venv/bin/python`` with ``--system-site-packages`` sees the base
interpreter's packages, not the project's: the ``.pth`` line adds the project's)::

    .venv/bin/python -m venv --system-site-packages /tmp/viz-venv
    /tmp/viz-venv/bin/pip install kinisi==2.1.0 pymatgen-analysis-diffusion==2026.9.23
    echo "import site; site.addsitedir('$PWD/.venv/lib/python3.11/site-packages')" \
        > /tmp/viz-venv/lib/python3.11/site-packages/zz_project.pth
    PYTHONPATH=src /tmp/viz-venv/bin/python benchmarks/bench_public_aimd.py   # /work/pubdata
    PYTHONPATH=src /tmp/viz-venv/bin/python benchmarks/bench_public_aimd.py DIR --species Li

A reference that is not importable is skipped with a message; ours always runs.

Data: every ``*XDATCAR*.gz`` (or plain ``*XDATCAR*``) in the directory, files with the same
bytes analysed once. The default directory holds VASP AIMD runs of Li6PS5X argyrodites (B. J.
Morgan, Chem. Mater. 33, 2004 (2021), doi:10.1021/acs.chemmater.0c03738, MIT licence): 500 K,
POTIM 2 fs, a frame every 50 steps (100 fs), 416 atoms, 140 frames (14 ps).

What each tool does here (all on the total component, d = 3, MSD = 6 D t):

- ``ours``: :func:`interfacial.api.analyse_trajectory` on the ``.gz`` as published (one
  streaming pass for all species; lags up to half the run, every frame an origin, drift of the
  mass-weighted centre of the cell removed), GLS with the covariance estimated from the data
  over the window the data choose (the diffusive-regime detector). Error: ``sigma_D``, 1 sigma;
  the notes give the status, the upper bound of a caged group and the random-walk model's own
  1 sigma (``sigma_D_model``).
- ``ours 2ps``: the same pass fitted from ``--start-ps`` (2 ps) to our longest lag (half the
  run), the start kinisi is given.
- ``kinisi``: ``DiffusionAnalyzer.from_xdatcar`` on pymatgen's ``Xdatcar`` with time_step
  2.0 fs and step_skip 50, ``dimension='xyz'`` (kinisi 2.x divides the slope by 2 x the number
  of axes, so this is our ``total``), its default lags (every frame up to the whole run), then
  ``diffusion(start_dt=2 ps)`` (Bayesian sampling with its modelled covariance). D in cm^2/s
  (kinisi's own unit). Reported: the median of the posterior samples and half the width of
  their central 68 % interval (16th to 84th percentile).
- ``kinisi ½``: the same with its lags limited to ours (every frame up to half the run), so
  that its fit window is ours from 2 ps: a difference from ``ours 2ps`` is then the fit, not
  the window.
- ``pymatgen``: pymatgen-analysis-diffusion's ``DiffusionAnalyzer.from_structures`` on the same
  structures (default ``smoothed='max'``: lags from 1 ps to the end of the run, framework
  drift removed, weighted least squares), its ``D`` and ``D_sigma`` (1 sigma of that fit, known
  to be far too small: it treats overlapping MSD points as independent).

Times: ``ours`` is its one pass over the file (reading included) for all species together;
``kinisi`` and ``pymatgen`` are per species, after the ``Xdatcar`` parse that they share (its
time is printed once per file).

Also printed: the ratios ours / kinisi of D and of the error for each file and species.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_DIR = Path("/work/pubdata")
TEMPERATURE_K = 500.0
TIME_STEP_FS = 2.0
STEP_SKIP = 50
START_PS = 2.0
SEED = 20261

TOOLS = ("ours", "kinisi", "pymatgen")
IMPORT_OF = {"kinisi": "kinisi", "pymatgen": "pymatgen.analysis.diffusion"}
INSTALL = "pip install kinisi==2.1.0 pymatgen-analysis-diffusion==2026.9.23"


def trajectory_files(directory: Path) -> list[Path]:
    """XDATCAR files of ``directory`` (gzipped or not), sorted, each content only once."""
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*XDATCAR*")):
        if not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            print(f"# {path.name}: same bytes as {seen[digest].name}, skipped")
            continue
        seen[digest] = path
    return list(seen.values())


def run_ours(path: Path, start_ps: float) -> tuple[float, list[dict[str, Any]]]:
    """Our D* (total) for every element of the file: default window and from ``start_ps``."""
    from interfacial.api import analyse_trajectory

    frame_fs = TIME_STEP_FS * STEP_SKIP

    def analyse(source: Path, window: tuple[float, float] | None) -> Any:
        return analyse_trajectory(
            [source],
            TEMPERATURE_K,
            time_step_fs=frame_fs,
            components=["total"],
            fit_window=window,
            fmt="xdatcar",
        )

    start = time.perf_counter()
    doc = analyse(path, None)  # the .gz as published, streamed
    seconds = time.perf_counter() - start
    longest = float(doc.msd.lag_times[-1])
    late = analyse(path, (start_ps, longest))
    rows = []
    for tool, result in (("ours", doc), (f"ours {start_ps:g}ps", late)):
        for rec in result.diffusivities:
            if rec.component != "total":
                continue
            chi = rec.chi2 / rec.dof if rec.dof else float("nan")
            rows.append(
                {
                    "species": rec.group,
                    "tool": tool,
                    "window": f"{rec.fit_window[0]:.1f}-{rec.fit_window[1]:.1f}",
                    "D": rec.D,
                    "err": rec.sigma_D,
                    "err_kind": "1s GLS (data)",
                    "seconds": seconds,
                    "notes": {
                        "status": rec.status,
                        "D_upper": None if rec.D_upper is None else f"{rec.D_upper:.2e}",
                        "sigma_model": f"{rec.sigma_D_model:.2e}",
                        "chi2/dof": f"{chi:.1f}",
                    },
                }
            )
    return seconds, rows


def run_kinisi(
    xdatcar: Any, species: str, start_ps: float, seed: int, max_lag: int | None = None
) -> dict[str, Any]:
    """kinisi 2.x: posterior median of D* and half its central 68 % interval (cm^2/s).

    ``max_lag`` (frames) limits its lags to ours (half the run); its default is the whole run.
    """
    import scipp as sc
    from kinisi.analyze import DiffusionAnalyzer

    frame = sc.scalar(TIME_STEP_FS * STEP_SKIP, unit="fs")
    dt = None if max_lag is None else sc.arange("time interval", 1, max_lag + 1) * frame
    start = time.perf_counter()
    analyzer = DiffusionAnalyzer.from_xdatcar(
        xdatcar,
        specie=species,
        time_step=sc.scalar(TIME_STEP_FS, unit="fs"),
        step_skip=sc.scalar(STEP_SKIP),
        dt=dt,
        dimension="xyz",
        progress=False,
    )
    analyzer.diffusion(
        sc.scalar(start_ps, unit="ps"), progress=False, random_state=np.random.RandomState(seed)
    )
    seconds = time.perf_counter() - start
    samples = sc.to_unit(analyzer.D, "cm^2/s").values
    low, median, high = np.percentile(samples, [16.0, 50.0, 84.0])
    last_ps = float(sc.to_unit(analyzer.da.coords["time interval"][-1], "ps").value)
    return {
        "species": species,
        "tool": "kinisi" if max_lag is None else "kinisi ½",
        "window": f"{start_ps:.1f}-{last_ps:.1f}",
        "D": float(median),
        "err": float(high - low) / 2.0,
        "err_kind": "1/2 68% CI",
        "seconds": seconds,
        "notes": {"mean": f"{samples.mean():.3e}", "sd": f"{samples.std():.2e}"},
    }


def run_pymatgen(structures: list[Any], species: str) -> dict[str, Any]:
    """pymatgen-analysis-diffusion: its D and D_sigma (cm^2/s), default smoothing."""
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer

    start = time.perf_counter()
    analyzer = DiffusionAnalyzer.from_structures(
        structures, species, TEMPERATURE_K, TIME_STEP_FS, STEP_SKIP
    )
    seconds = time.perf_counter() - start
    summary = analyzer.get_summary_dict(include_msd_t=True)
    dt_ps = np.asarray(summary["dt"]) / 1000.0
    return {
        "species": species,
        "tool": "pymatgen",
        "window": f"{dt_ps[0]:.1f}-{dt_ps[-1]:.1f}",
        "D": float(summary["D"]),
        "err": float(summary["D_sigma"]),
        "err_kind": "1s WLS",
        "seconds": seconds,
        "notes": {},
    }


def available(tools: list[str]) -> list[str]:
    """The requested tools that can run here (a message for each one skipped)."""
    out = []
    for tool in tools:
        module = IMPORT_OF.get(tool)
        if module is not None and importlib.util.find_spec(module.split(".")[0]) is None:
            print(f"# {tool}: not importable, skipped ({INSTALL})")
            continue
        if module is not None and importlib.util.find_spec(module) is None:
            print(f"# {tool}: {module} not importable, skipped ({INSTALL})")
            continue
        out.append(tool)
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'file':<34} {'species':<7} {'tool':<9} {'window ps':<9} {'D (cm^2/s)':>11} "
        f"{'error':>9} {'error is':<13} {'time s':>7}  notes"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        notes = ", ".join(f"{k} {v}" for k, v in r["notes"].items())
        print(
            f"{r['file']:<34} {r['species']:<7} {r['tool']:<9} {r['window']:<9} {r['D']:>11.3e} "
            f"{r['err']:>9.2e} {r['err_kind']:<13} {r['seconds']:>7.2f}  {notes}"
        )


def print_ratios(rows: list[dict[str, Any]], start_ps: float) -> None:
    """Ours / kinisi for D and the error, per file and species, for three pairings.

    ours (default window) / kinisi; ours from ``start_ps`` / kinisi; ours from ``start_ps`` /
    kinisi with our lags (the same window: only the fit differs).
    """
    by = {(r["file"], r["species"], r["tool"]): r for r in rows}
    late = f"ours {start_ps:g}ps"
    pairs = (("ours", "kinisi"), (late, "kinisi"), (late, "kinisi ½"))
    keys = [(r["file"], r["species"]) for r in rows if r["tool"] == "kinisi"]
    if not keys:
        return
    print("\nratios ours / kinisi: D and error (our 1 sigma / kinisi's half 68 % interval)")
    print(f"{'file':<34} {'species':<7} " + " ".join(f"{f'{o} / {k}':>26}" for o, k in pairs))
    for file, species in keys:
        cells = []
        for ours, ref in pairs:
            o, k = by.get((file, species, ours)), by.get((file, species, ref))
            cells.append(
                f"{o['D'] / k['D']:>9.3f} D {o['err'] / k['err']:>7.2f} err"
                if o and k
                else f"{'-':>26}"
            )
        print(f"{file:<34} {species:<7} " + " ".join(f"{c:>26}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--species", help="comma-separated elements (default: all)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="subset of ours,kinisi,pymatgen")
    parser.add_argument("--start-ps", type=float, default=START_PS, help="kinisi's fit start")
    parser.add_argument("--seed", type=int, default=SEED, help="kinisi's sampler seed")
    args = parser.parse_args()

    tools = available([t.strip() for t in args.tools.split(",") if t.strip()])
    files = trajectory_files(args.directory)
    if not files:
        raise SystemExit(f"no XDATCAR files in {args.directory}")
    rows: list[dict[str, Any]] = []
    for path in files:
        name = path.name.removesuffix(".gz")
        structures: list[Any] = []
        xdatcar = None
        if {"kinisi", "pymatgen"} & set(tools):
            from pymatgen.io.vasp import Xdatcar

            start = time.perf_counter()
            xdatcar = Xdatcar(str(path))  # pymatgen reads .gz itself
            structures = xdatcar.structures
            print(
                f"# {name}: {len(structures)} frames, {len(structures[0])} atoms; pymatgen "
                f"Xdatcar parse {time.perf_counter() - start:.2f} s (shared by kinisi and "
                "pymatgen rows)"
            )
        file_rows: list[dict[str, Any]] = []
        if "ours" in tools:
            _, ours = run_ours(path, args.start_ps)
            file_rows += ours
        elements = (
            [s.strip() for s in args.species.split(",")]
            if args.species
            else (
                [el.symbol for el in structures[0].composition.elements]
                if structures
                else list(dict.fromkeys(r["species"] for r in file_rows))
            )
        )
        file_rows = [r for r in file_rows if r["species"] in elements]
        for species in elements:
            if "kinisi" in tools:
                file_rows.append(run_kinisi(xdatcar, species, args.start_ps, args.seed))
                file_rows.append(
                    run_kinisi(xdatcar, species, args.start_ps, args.seed, len(structures) // 2)
                )
            if "pymatgen" in tools:
                file_rows.append(run_pymatgen(structures, species))
        order = {el: i for i, el in enumerate(elements)}
        file_rows.sort(key=lambda r: order[r["species"]])
        for r in file_rows:
            r["file"] = name
        rows += file_rows
    print()
    print_table(rows)
    print_ratios(rows, args.start_ps)


if __name__ == "__main__":
    main()
