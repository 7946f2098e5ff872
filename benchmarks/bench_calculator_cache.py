"""Benchmark: CHGNet slab relaxations with the process-wide calculator cache vs a fresh calculator.

Run on demand: ``.venv/bin/python benchmarks/bench_calculator_cache.py``. Prints wall times of the
same sequence of small relaxations both ways and their ratio, measured in the same run.
"""

from __future__ import annotations

import time
import warnings


def relax_sequence(cached: bool, n_jobs: int) -> float:
    """Run n_jobs fixed-cell relaxations of Li(110); return the wall time (s)."""
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    from interfacial.forcefields import makers
    from interfacial.structures.library import load_structure
    from interfacial.structures.slabs import build_slab

    makers._CALCULATORS.clear()
    maker = makers.CachedForceFieldRelaxMaker(force_field_name="CHGNet", relax_cell=False)
    if not cached:
        maker = makers.ForceFieldRelaxMaker(
            force_field_name="CHGNet", relax_cell=False, relax_kwargs={"fmax": 0.02}
        )
    slab = build_slab(load_structure("Li"), (1, 1, 0), 0.25, 2, 15.0)
    start = time.perf_counter()
    for _ in range(n_jobs):
        store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
        run_locally(maker.make(slab), store=store, log=False)
    return time.perf_counter() - start


def main() -> None:
    """Print both timings and the ratio."""
    warnings.simplefilter("ignore")
    n_jobs = 10
    relax_sequence(True, 1)  # warm-up: imports, first model load
    fresh = relax_sequence(False, n_jobs)
    cached = relax_sequence(True, n_jobs)
    print(f"{n_jobs} slab relaxations: fresh calculator {fresh:.1f} s, cached {cached:.1f} s")
    print(f"speed-up from caching: {fresh / cached:.2f}x")


if __name__ == "__main__":
    main()
