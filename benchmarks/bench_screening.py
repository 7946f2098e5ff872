"""Benchmark: what the screening funnel costs, tier by tier, and what the workflow adds.

Run on demand (not a test): ``.venv/bin/python benchmarks/bench_screening.py [--quick]
[--profile]``. One small but real pair, Li(110) | LiCl(100) (electrolyte LiCl against Li,
``metal_millers`` and ``compound_millers`` narrowed to those facets, one candidate), screened
with the embedded default (CHGNet, MontyStore files in a temporary data directory), prints:

* calculator time (seconds spent inside the ASE calculator's ``calculate``, i.e. CHGNet's
  energy/force/stress evaluations) and number of calls, per candidate on the pre-screen tier
  and on the refine tier, and their ratio (goal: pre-screen <= 1/5 of refine);
* workflow overhead: wall time of ``run_flow`` (the screen flow on the embedded store) minus
  all calculator time, as a fraction of the calculator time (goal < 5 %); above that (or with
  ``--profile``) the same screen is run again in a fresh store under cProfile with a clock
  that stops while the calculator runs, and the top 10 cumulative entries are printed: every
  time there is time outside the calculator;
* the same screen a second time (reuse): its wall time and how many relaxations it ran
  (0 expected: the surfaces come from the derived collection, the tiers from the stored
  energetics of identical calculations);
* a reference measured in the same run (one CHGNet evaluation of a fixed 54-atom bcc Li
  cell), every calculator time as a multiple of it, and the dry run's cost estimate against
  what was measured; the load average before and after (2 shared cores: a busy machine
  inflates everything, the ratios less so).

How calculator time is taken: the force-field relax makers get their calculator from
:func:`interfacial.forcefields.makers.cached_calculator` (one instance per process, which
atomate2's ``Relaxer`` then drives through ``atoms.get_forces()`` / ``get_stress()``, each
calling ``calculate`` once per new geometry). The benchmark wraps that function so that every
calculator it returns has its ``calculate`` timed; each call is attributed to the job running
(``jobflow.CURRENT_JOB``), whose name carries the tier and the candidate.

``--quick``: thinner tiers (the tiny ones of tests/test_screening_flow.py: 4/4 A pre-screen,
5/5 A refine with two registries and one gap) instead of the embedded defaults
(:data:`interfacial.forcefields.engine.SCREEN_TIERS`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import tempfile
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The pair: Li(110) | LiCl(100), one termination each, one cell: one candidate.
PAIR = {
    "metal_millers": [[1, 1, 0]],
    "compound_millers": [[1, 0, 0]],
    "cells_per_pair": 1,
    "n_refine": 1,
}
#: --quick: the tiny tiers of tests/test_screening_flow.py.
QUICK_TIERS = {
    "prescreen": {"metal_thickness": 4.0, "compound_thickness": 4.0, "max_atoms": 60},
    "refine": {
        "metal_thickness": 5.0,
        "compound_thickness": 5.0,
        "registries": [[0.0, 0.0], [0.5, 0.5]],
        "gaps": [2.0],
        "max_atoms": 80,
    },
}
#: Profile buckets: label -> (file suffix, function) whose cumulative time is shown.
BUCKETS = {
    "jobflow: resolve references (read outputs from the store)": (
        "jobflow/core/job.py",
        "resolve_args",
    ),
    "jobflow: store job outputs (serialise, write)": ("jobflow/core/store.py", "update"),
    "ASE/atomate2 relaxation outside the calculator": ("atomate2/ase/utils.py", "relax"),
    "interface models (build_interface_models)": (
        "interfacial/structures/interfaces.py",
        "build_interface_models",
    ),
    "lattice matching (find_matches)": ("interfacial/structures/matching.py", "find_matches"),
}
TIER = re.compile(r"\b(prescreen|refine)\b")
RELAX = re.compile(r"\brelax\b")


@dataclass
class CalculatorClock:
    """Calculator time and calls, by job name; also a clock that stops inside the calculator.

    ``outside()`` is ``perf_counter()`` minus every second spent in ``calculate`` so far, frozen
    while a call runs: used as cProfile's timer, it makes every profile entry's time the time
    spent outside the calculator.
    """

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    atom_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    inside: float = 0.0
    entered: float | None = None

    def outside(self) -> float:
        now = time.perf_counter() if self.entered is None else self.entered
        return now - self.inside

    def total(self) -> float:
        return sum(self.seconds.values())

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.atom_calls.clear()

    def wrap(self, calculator: Any) -> Any:
        """Time ``calculator.calculate`` (once per instance); return the calculator."""
        if getattr(calculator, "_bench_timed", False):
            return calculator
        original = calculator.calculate

        def calculate(atoms: Any = None, *args: Any, **kwargs: Any) -> Any:
            from jobflow import CURRENT_JOB

            job = getattr(CURRENT_JOB, "job", None)
            name = job.name if job is not None else "(outside a job)"
            nested = self.entered is not None
            start = time.perf_counter()
            if not nested:
                self.entered = start
            try:
                return original(atoms, *args, **kwargs)
            finally:
                if not nested:
                    elapsed = time.perf_counter() - start
                    self.entered = None
                    self.inside += elapsed
                    self.seconds[name] += elapsed
                    self.calls[name] += 1
                    target = atoms if atoms is not None else calculator.atoms
                    self.atom_calls[name] += len(target) if target is not None else 0

        calculator.calculate = calculate
        calculator._bench_timed = True
        return calculator


CLOCK = CalculatorClock()


def install_clock() -> None:
    """Make every calculator the force-field makers get time its ``calculate`` in CLOCK."""
    from interfacial.forcefields import makers

    original = makers.cached_calculator
    if getattr(original, "_bench_timed", False):
        return

    def cached_calculator(meta: Any, kwargs: dict[str, Any]) -> Any:
        return CLOCK.wrap(original(meta, kwargs))

    cached_calculator._bench_timed = True  # type: ignore[attr-defined]
    makers.cached_calculator = cached_calculator


def reference_seconds(repeats: int = 10) -> tuple[float, float]:
    """Seconds of one CHGNet evaluation (energy, forces, stress) of a fixed 54-atom bcc Li cell.

    The calculator is the one the screen's relax makers get (the engine's, cached per
    process), so its model load, timed here and returned second, happens once, before the
    screen, and is not counted as workflow overhead.
    """
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.forcefields.chgnet import ENGINE
    from interfacial.structures.library import load_structure

    start = time.perf_counter()
    calculator = ENGINE.relax_maker("reference")._get_calculator()
    loaded = time.perf_counter() - start
    atoms = AseAtomsAdaptor.get_atoms(load_structure("Li") * (3, 3, 3))
    atoms.calc = calculator
    atoms.get_forces()  # warm-up (first call builds the graph machinery)
    CLOCK.reset()
    start = time.perf_counter()
    for i in range(repeats):
        atoms.positions[0, 0] += 1e-3 * (i + 1)  # a new geometry: no cached result
        atoms.get_forces()
        atoms.get_stress()
    return (time.perf_counter() - start) / repeats, loaded


@dataclass
class Run:
    """One screen: wall times of its parts and the calculator time by job."""

    flow_s: float
    run_s: float
    build_s: float
    seconds: dict[str, float]
    calls: dict[str, int]
    atom_calls: dict[str, int]
    relax_jobs: int
    document: dict[str, Any]

    @property
    def calculator_s(self) -> float:
        return sum(self.seconds.values())


def relax_job_count(settings: Any) -> int:
    """Relaxation jobs stored in the JobStore (every run adds its own)."""
    from interfacial.stores import get_job_store

    store = get_job_store(settings, read_only=True)
    store.connect()
    try:
        names = [d["name"] for d in store.query({}, properties=["name", "uuid"])]
    finally:
        store.close()
    return sum(1 for name in names if RELAX.search(name))


def screen_once(settings: Any, options: dict[str, Any], profile: cProfile.Profile | None) -> Run:
    """screen_flow + run_flow + build, as run_screen does, each timed; calculator by job."""
    from interfacial.api.results import build, run_directory
    from interfacial.api.screening import query_screening, screen_flow
    from interfacial.runner import run_flow
    from interfacial.stores import get_job_store

    before = relax_job_count(settings)
    CLOCK.reset()
    start = time.perf_counter()
    flow = screen_flow("LiCl", metal="Li", calculator="CHGNet", settings=settings, **options)
    built = time.perf_counter()
    if profile is not None:
        profile.enable()
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=False)
    if profile is not None:
        profile.disable()
    ran = time.perf_counter()
    build(settings)
    done = time.perf_counter()
    (document,) = query_screening(settings, electrolyte="LiCl", metal="Li")
    return Run(
        flow_s=built - start,
        run_s=ran - built,
        build_s=done - ran,
        seconds=dict(CLOCK.seconds),
        calls=dict(CLOCK.calls),
        atom_calls=dict(CLOCK.atom_calls),
        relax_jobs=relax_job_count(settings) - before,
        document=document,
    )


def by_tier(run: Run) -> dict[str, dict[str, float]]:
    """Calculator seconds, calls and atom-calls per tier ('surfaces' for the rest)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, seconds in run.seconds.items():
        found = TIER.search(name)
        tier = found.group(1) if found else "surfaces"
        out[tier]["seconds"] += seconds
        out[tier]["calls"] += run.calls[name]
        out[tier]["atom_calls"] += run.atom_calls[name]
    return out


def computed_candidates(document: dict[str, Any], tier: str) -> int:
    """Candidates that have a result on ``tier`` and were computed (not reused) in this run."""
    return sum(
        1
        for c in document["candidates"]
        if c.get(tier) is not None and not c[tier].get("reused", False)
    )


def profile_outside(settings: Any, options: dict[str, Any]) -> str:
    """Top 10 entries of a fresh run by cumulative and by own time, outside the calculator.

    The profiler's clock is :meth:`CalculatorClock.outside`: every time below excludes the
    calculator's ``calculate`` (it shows as ~0), so the entries say where the rest goes.
    """
    profile = cProfile.Profile(CLOCK.outside)
    screen_once(settings, options, profile)
    blocks = []
    for order in ("cumulative", "tottime"):
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats(order).print_stats(10)
        lines = [line for line in text.getvalue().splitlines() if line.strip()]
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        shown = [re.sub(r"\S*/(site-packages|src)/", "", line) for line in lines[start:]]
        blocks.append(f"by {order} time:\n" + "\n".join(shown[:11]))
    # The same profile in a few buckets: the cumulative time of one function each, stages
    # that do not call one another (slab terminations are found inside both of the last two).
    totals = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    whole = max(ct for (_, _, _, ct, _) in totals.values())
    lines = []
    for label, (suffix, name) in BUCKETS.items():
        seconds = sum(
            ct
            for (path, _, func), (_, _, _, ct, _) in totals.items()
            if path.endswith(suffix) and func == name
        )
        lines.append(f"  {label:58s}{seconds:7.1f} s {seconds / whole * 100:4.0f} %")
    blocks.append(f"in buckets (of {whole:.1f} s profiled outside the calculator):")
    blocks.extend(lines)
    return "\n".join(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="thin tiers (a few minutes)")
    parser.add_argument(
        "--copy-of",
        type=Path,
        default=None,
        help="run in a copy of this embedded data directory (stored surfaces are reused; "
        "shows how a fuller store changes the overhead); default: an empty one",
    )
    parser.add_argument("--profile", action="store_true", help="profile even below 5 %%")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="OMP/MKL/OpenBLAS threads (set before numpy and torch load; default: theirs)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[variable] = str(args.threads)
    warnings.simplefilter("ignore")
    os.environ.setdefault("MPLBACKEND", "Agg")

    from interfacial.api.screening import screen_plan
    from interfacial.settings import InterfacialSettings

    load_before = os.getloadavg()
    options: dict[str, Any] = {**PAIR, **(QUICK_TIERS if args.quick else {})}
    install_clock()
    reference, model_load = reference_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-screening-") as tmp:
        if args.copy_of is not None:
            shutil.copytree(args.copy_of, Path(tmp) / "db")
        settings = InterfacialSettings(data_dir=Path(tmp) / "db")
        plan = screen_plan("LiCl", metal="Li", calculator="CHGNet", settings=settings, **options)
        first = screen_once(settings, options, None)
        second = screen_once(settings, options, None)
        tiers = by_tier(first)
        overhead = (first.run_s - first.calculator_s) / first.calculator_s
        profile_text = None
        if args.profile or overhead > 0.05:
            if args.copy_of is not None:
                shutil.copytree(args.copy_of, Path(tmp) / "profiled")
            fresh = InterfacialSettings(data_dir=Path(tmp) / "profiled")
            profile_text = profile_outside(fresh, options)
    load_after = os.getloadavg()

    def per_candidate(tier: str) -> tuple[float, float, int]:
        n = max(computed_candidates(first.document, tier), 1)
        stats = tiers.get(tier, {})
        return stats.get("seconds", 0.0) / n, stats.get("calls", 0) / n, n

    pre_s, pre_calls, n_pre = per_candidate("prescreen")
    ref_s, ref_calls, n_ref = per_candidate("refine")
    case = "quick (tiny tiers)" if args.quick else "embedded default tiers"
    if args.copy_of is not None:
        case += f", in a copy of {args.copy_of}"
    settings_line = first.document["tier_settings"]
    print(f"screening benchmark: LiCl against Li, Li(110)|LiCl(100), CHGNet, {case}")
    import torch

    print(
        f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} on "
        f"{os.cpu_count()} cores; torch threads {torch.get_num_threads()}, OMP_NUM_THREADS "
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; CHGNet model load {model_load:.1f} s "
        "(once per process, before the screen)"
    )
    print(f"reference: one CHGNet evaluation of 54-atom bcc Li = {reference * 1e3:.0f} ms (R)")
    for tier in ("prescreen", "refine"):
        s = settings_line[tier]
        print(
            f"  {tier} tier: {s['metal_thickness']:g}/{s['compound_thickness']:g} A, "
            f"{len(s['registries'])} registr(y/ies) x {len(s['gaps'])} gap(s), "
            f"fmax {s['relax_fmax']} eV/A"
        )
        for c in first.document["candidates"]:
            if c.get(tier) is not None:
                result = c[tier]
                print(
                    f"    {c['candidate_id']}: {result['n_models']} model(s) of "
                    f"{result['n_atoms']} atoms, W = {result['W_adhesion']:.3f} J/m^2"
                )
    print()
    header = f"{'':34s}{'seconds':>10s}{'x R':>9s}{'calls':>8s}{'ms/atom-call':>14s}"
    print(header)
    print("-" * len(header))

    def row(label: str, seconds: float, calls: float, atom_calls: float | None = None) -> None:
        per_atom = f"{seconds / atom_calls * 1e3:14.2f}" if atom_calls else f"{'':14s}"
        print(f"{label:34s}{seconds:10.1f}{seconds / reference:9.0f}{calls:8.0f}{per_atom}")

    for tier, label in (("surfaces", "calculator: surfaces (Li, LiCl)"),):
        t = tiers.get(tier, {})
        row(label, t.get("seconds", 0.0), t.get("calls", 0), t.get("atom_calls"))
    for tier, value, calls, n in (
        ("prescreen", pre_s, pre_calls, n_pre),
        ("refine", ref_s, ref_calls, n_ref),
    ):
        t = tiers.get(tier, {})
        atom_calls = t.get("atom_calls", 0.0) / n if t else None
        row(f"calculator per candidate: {tier}", value, calls, atom_calls)
    row("calculator total", first.calculator_s, sum(first.calls.values()))
    row("run_flow wall (first run)", first.run_s, 0)
    row("overhead = wall - calculator", first.run_s - first.calculator_s, 0)
    row("flow construction (screen_flow)", first.flow_s, 0)
    row("build (derived collections)", first.build_s, 0)
    print()
    goal = "meets" if pre_s <= ref_s / 5 else "misses"
    ratio = pre_s / ref_s if ref_s else float("nan")
    print(f"pre-screen / refine calculator time per candidate: {ratio:.3f} ({goal} the 1/5 goal)")
    goal = "meets" if overhead < 0.05 else "misses"
    print(f"workflow overhead: {overhead * 100:.1f} % of calculator time ({goal} the 5 % goal)")
    reuse_calls = sum(second.calls.values())
    print(
        f"second identical screen (reuse): run_flow {second.run_s:.1f} s "
        f"({second.run_s / reference:.0f} R) + build {second.build_s:.1f} s, "
        f"{second.relax_jobs} relaxation job(s), {reuse_calls} calculator call(s); "
        f"first run {first.relax_jobs} relaxation job(s)"
    )
    estimate = plan["estimated_cost"]
    measured = {
        "prescreen_s": tiers.get("prescreen", {}).get("seconds", 0.0),
        "refine_s": tiers.get("refine", {}).get("seconds", 0.0),
        "surfaces_s": tiers.get("surfaces", {}).get("seconds", 0.0),
    }
    print(
        "dry-run estimate vs measured calculator time (s): "
        + ", ".join(
            f"{k[:-2]} {estimate.get(k) or float('nan'):.0f} vs {v:.0f}"
            for k, v in measured.items()
        )
    )
    if profile_text is not None:
        print()
        print("where the time outside the calculator goes (cProfile of a fresh identical run,")
        print("clock stopped inside the calculator; top 10 by cumulative time):")
        print(profile_text)


if __name__ == "__main__":
    main()
