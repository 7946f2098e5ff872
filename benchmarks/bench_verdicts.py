"""Calibration of the D* errors and verdicts on synthetic trajectories with known answers.

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_verdicts.py                 # 100 seeds per case
    .venv/bin/python benchmarks/bench_verdicts.py --seeds 20      # quick look
    .venv/bin/python benchmarks/bench_verdicts.py --pubdata DIR   # also the public AIMD runs

Every trajectory goes through the real pipeline (:func:`interfacial.diffusion.diffusion_document`:
unwrapping, drift removal, streaming MSD with fourth moments, data-driven window, GLS with the
data covariance, verdict). The cases (:mod:`interfacial.analysis.synthetic`):

- random walk: 64 Gaussian walkers (D = 0.1 A^2/ps) among 32 caged ions, 400 frames of 0.1 ps;
- lattice hops: 64 ions hopping 2.5 A at 1/ps with back-hop probability 0.3 (f = 0.54) and
  0.1 A vibration, 1000 frames of 0.1 ps;
- caged: 32 Ornstein-Uhlenbeck ions (0.3 A, 0.2 ps), 400 frames;
- short: 8 walkers (D = 0.02 A^2/ps), 60 frames (6 ps).

For the walkers and the hops it prints z = (D - D_true) / sigma_D of the "total" D* over the
seeds: mean, standard deviation and the coverage of 1 and 2 sigma (0.683 and 0.954 for honest
errors), for the new errors and, for contrast, the old ones (random-walk model covariance
widened by the Birge ratio, in the old default window t_end/5 - t_end). Then the status
counts of each case and, with --pubdata, the verdicts on the public Li6PS5X AIMD runs
(XDATCAR.gz, 100 fs between frames, 500 K).

Measured on the 2-core development machine (40 seeds, 198 s)::

    random walk   data covariance : mean -0.21  std 1.06  |z|<1 0.65  |z|<2 0.90
    random walk   old Birge       : mean -0.42  std 1.05  |z|<1 0.60  |z|<2 0.90
    lattice hops  data covariance : mean +0.13  std 1.02  |z|<1 0.55  |z|<2 1.00
    lattice hops  old Birge       : mean -0.03  std 0.85  |z|<1 0.72  |z|<2 1.00
    statuses: random-walk Li diffusive 40/40, S caged 40/40; lattice hops diffusive 40/40;
    caged ions caged 40/40; short runs too short 40/40.
    Li6PS5Cl 50 %: Li diffusive, D* = 1.48e-05 +- 1.2e-06 cm^2/s; S, P, Cl caged.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from interfacial.analysis.diffusivity import fit_window_default, tracer_diffusivity
from interfacial.analysis.synthetic import (
    SyntheticTrajectory,
    caged,
    combine,
    lattice_hops,
    random_walk,
)
from interfacial.diffusion import diffusion_document


def cases(seed: int) -> dict[str, SyntheticTrajectory]:
    """The synthetic runs of one seed."""
    return {
        "random walk": combine(random_walk(seed=seed), caged(seed=seed + 10_000)),
        "lattice hops": lattice_hops(seed=seed),
        "caged": caged(seed=seed + 20_000),
        "short": random_walk(n_atoms=8, n_frames=60, diffusivity=0.02, seed=seed + 30_000),
    }


def old_birge(doc, group: str) -> tuple[float, float]:
    """D and the old error: model covariance, Birge-widened, old default window (cm^2/s)."""
    curves = doc.msd
    g = curves.group(group)
    fit = tracer_diffusivity(
        curves.lag_times,
        g.msd["total"],
        g.n_samples,
        3,
        fit_window_default(curves.lag_times, curves.run_time),
        n_atoms=g.n_atoms,
        origin_spacing=curves.origin_spacing,
    )
    return fit.D, fit.sigma_D_model * max(1.0, float(np.sqrt(fit.chi2 / fit.dof)))


def summary(z: list[float]) -> str:
    """Mean, std and 1/2-sigma coverage of z-scores."""
    arr = np.asarray(z)
    return (
        f"mean {arr.mean():+.2f}  std {arr.std(ddof=1):.2f}  "
        f"|z|<1 {np.mean(np.abs(arr) < 1):.2f}  |z|<2 {np.mean(np.abs(arr) < 2):.2f}"
    )


def main() -> None:
    """Print the calibration table."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--seeds", type=int, default=100)
    cli.add_argument("--pubdata", type=Path, help="directory of the public *_XDATCAR.gz runs")
    args = cli.parse_args()

    z_new: dict[str, list[float]] = {"random walk": [], "lattice hops": []}
    z_old: dict[str, list[float]] = {"random walk": [], "lattice hops": []}
    statuses: dict[str, Counter[str]] = {}
    start = time.perf_counter()
    for seed in range(args.seeds):
        for name, traj in cases(seed).items():
            doc = diffusion_document(
                traj.frames(), traj.groups(), system=name, temperature=300, source="trajectory"
            )
            for group in traj.groups():
                rec = doc.diffusivity(group, "total")
                want = traj.expected_status[group] if name != "short" else "too short"
                statuses.setdefault(f"{name}: {group} (want {want})", Counter())[rec.state] += 1
            if name in z_new:
                rec = doc.diffusivity("Li", "total")
                truth = traj.expected_D["Li"]
                z_new[name].append((rec.D - truth) / rec.sigma_D)
                d_old, s_old = old_birge(doc, "Li")
                z_old[name].append((d_old - truth) / s_old)
    print(f"{args.seeds} seeds per case, {time.perf_counter() - start:.0f} s\n")
    print("z = (D - D_true) / sigma_D of Li, total (honest errors: mean 0, std 1, 0.68, 0.95)")
    for name, z in z_new.items():
        print(f"  {name:13s} data covariance : {summary(z)}")
        print(f"  {name:13s} old Birge       : {summary(z_old[name])}")
    print("\nstatus counts (total component)")
    for key, counts in statuses.items():
        print(f"  {key:40s} " + ", ".join(f"{s}: {n}" for s, n in sorted(counts.items())))
    if args.pubdata:
        pubdata(args.pubdata)


def pubdata(directory: Path) -> None:
    """Verdicts on the public AIMD runs (gunzipped into a temporary directory)."""
    from interfacial.trajectory import default_groups, iter_frames

    print("\npublic AIMD runs (500 K, 100 fs between frames), total component")
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(directory.glob("*_run1_XDATCAR.gz")):
            plain = Path(tmp) / path.name.removesuffix(".gz")
            with gzip.open(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            frames = list(iter_frames(plain, fmt="xdatcar", time_step_fs=100.0))
            doc = diffusion_document(
                frames,
                default_groups(frames[0].symbols),
                system=path.name,
                temperature=500,
                source="trajectory",
            )
            for rec in doc.diffusivities:
                if rec.component == "total":
                    print(f"  {path.name[:22]:22s} {rec.group:3s} {rec.verdict}")


if __name__ == "__main__":
    main()
