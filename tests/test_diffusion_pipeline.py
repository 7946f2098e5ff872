"""One diffusion pipeline: the transport job and the trajectory analysis agree on the same frames.

The transport job's md engine is replaced by a synthetic random walk written the way our
segmented runner writes its runs (LAMMPS dumps by segment, the plan of
:class:`~interfacial.lammps.segments.SegmentedMD` in ``md_state.json`` through
:func:`~interfacial.lammps.record.write_state`); ``interfacial diffusion`` then analyses those
dumps, reading the time step and the species order from the run record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from interfacial.api import analyse_trajectory
from interfacial.conventions import formula, species_order
from interfacial.jobs.diffusion import transport_md
from interfacial.lammps.inputs import temperature_stages
from interfacial.lammps.record import (
    MDRunRecord,
    RunState,
    SegmentRecord,
    read_run_record,
    write_state,
)
from interfacial.lammps.segments import SegmentedMD
from mtp_data import SPECIES_ORDER, tiny_potential

BOX = (9.0, 10.0, 11.0)
N_S, N_LI = 8, 24
TEMPERATURE = 800.0
PLAN = {
    "time_step": 2.0,
    "ramp_start_temperature": 300.0,
    "ramp_steps": 20,
    "equilibration_steps": 20,
    "production_steps": 400,
    "dump_interval": 4,
    "segment_steps": 100,  # a multiple of dump_interval, as LAMMPS dumps on multiples
    "thermostat_damping": 100.0,
}


def model() -> Structure:
    """S then Li sites; the first half of the Li in the 'metal', the rest in the 'compound'."""
    rng = np.random.default_rng(3)
    species = ["S"] * N_S + ["Li"] * N_LI
    regions = ["compound"] * N_S + ["metal"] * (N_LI // 2) + ["compound"] * (N_LI // 2)
    return Structure(
        Lattice(np.diag(BOX)),
        species,
        rng.random((N_S + N_LI, 3)) * BOX,
        coords_are_cartesian=True,
        site_properties={"region": regions},
    )


def walk(start: np.ndarray, symbols: list[str], n_frames: int) -> np.ndarray:
    """Unwrapped positions (A) of a random walk whose every element keeps its centre of mass.

    Each element's steps have zero mean, so the drift is zero whatever the weights: the job's
    mass-weighted drift correction and the analysis' equal weights remove the same nothing.
    """
    rng = np.random.default_rng(7)
    steps = rng.normal(0.0, 0.15, (n_frames - 1, len(symbols), 3))
    for element in set(symbols):
        members = [i for i, s in enumerate(symbols) if s == element]
        steps[:, members] -= steps[:, members].mean(axis=1, keepdims=True)
    return start + np.concatenate([np.zeros((1, len(symbols), 3)), np.cumsum(steps, axis=0)])


def write_dump(path: Path, steps: list[int], frames: np.ndarray, types: list[int]) -> None:
    lines = []
    for step, positions in zip(steps, frames, strict=True):
        lines += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(len(types))]
        lines += ["ITEM: BOX BOUNDS pp pp pp", *(f"0 {b}" for b in BOX)]
        lines.append("ITEM: ATOMS id type xu yu zu")
        lines += [
            f"{i + 1} {t} {x:.17g} {y:.17g} {z:.17g}"
            for i, (t, (x, y, z)) in enumerate(zip(types, positions, strict=True))
        ]
    path.write_text("\n".join(lines) + "\n")


class WalkingMD:
    """Stands in for the md engine the job resolves: a run record and dumps of a random walk.

    Wraps the registered engine, whose identity and species order enter the recorded plan.
    """

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.description = engine.description

    def run(
        self,
        workdir: Any,
        structure: Structure,
        temperature: float,
        plan: dict[str, Any],
        *,
        velocity_seed: int,
        progress_label: str | None = None,
    ) -> MDRunRecord:
        stages = temperature_stages(
            temperature,
            ramp_steps=plan["ramp_steps"],
            equilibration_steps=plan["equilibration_steps"],
            production_steps=plan["production_steps"],
            dump_interval=plan["dump_interval"],
            start_temperature=plan["ramp_start_temperature"],
        )
        md = SegmentedMD(
            structure,
            SPECIES_ORDER,
            stages,
            self.engine,
            Path(workdir),
            time_step_fs=plan["time_step"],
            thermostat_damping_fs=plan["thermostat_damping"],
            velocity_seed=velocity_seed,
            max_segment_steps=plan["segment_steps"],
        )
        md.workdir.mkdir(parents=True, exist_ok=True)
        symbols = [site.specie.symbol for site in structure]
        types = [SPECIES_ORDER.index(s) + 1 for s in symbols]
        production = [s for s in md.segments if s.dump_interval is not None]
        start = production[0].first_step
        interval = plan["dump_interval"]
        frames = walk(structure.cart_coords, symbols, plan["production_steps"] // interval + 1)
        done = []
        for seg in md.segments:
            dump = None
            if seg.dump_interval is not None:
                first = seg.first_step if seg.write_first_frame else seg.first_step + interval
                steps = list(range(first, seg.last_step + 1, interval))
                dump = f"{seg.label}.dump"
                index = [(s - start) // interval for s in steps]
                write_dump(md.workdir / dump, steps, frames[index], types)
            done.append(
                SegmentRecord(
                    index=seg.index,
                    stage=seg.stage,
                    steps=seg.steps,
                    first_step=seg.first_step,
                    start_temperature=seg.start_temperature,
                    end_temperature=seg.end_temperature,
                    wall_seconds=1.0,
                    mean_temperature=seg.end_temperature,
                    ns_per_day=1.0,
                    restart_file=f"{seg.label}.restart",
                    dump_file=dump,
                    log_file=f"{seg.label}.log",
                    lammps_version="synthetic",
                )
            )
        write_state(
            md.state_file, RunState(fingerprint=md.fingerprint(), plan=md.plan(), segments=done)
        )
        return read_run_record(md.workdir)


def test_job_and_trajectory_analysis_fill_the_same_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import interfacial.jobs.diffusion

    registered = interfacial.jobs.diffusion.force_provider
    monkeypatch.setattr(
        interfacial.jobs.diffusion,
        "force_provider",
        lambda name, potential, options: WalkingMD(registered(name, potential, options)),
    )
    potential = tiny_potential(tmp_path / "fit")
    structure = model()
    job_doc = transport_md.original(
        structure,
        potential,
        TEMPERATURE,
        system="walk",
        md_engine="motep-external",
        engine_options={},
        plan=PLAN,
        velocity_seed=1,
        vacancies=[],
        work_dir=str(tmp_path / "md"),
        show_progress=False,
    )
    model_file = tmp_path / "model.json"
    model_file.write_text(json.dumps(structure.as_dict()))
    n_frames = PLAN["production_steps"] // PLAN["dump_interval"] + 1
    analysed = analyse_trajectory(
        [Path(p) for p in job_doc.trajectory_files],
        TEMPERATURE,  # no --time-step, no --species: read from the run record
        system="walk",
        structure=model_file,
        origin_interval=max(1, (n_frames // 2) // 200),
    )
    symbols = [site.specie.symbol for site in structure]
    for doc in (job_doc, analysed):
        assert doc.formula == formula(symbols) == "Li24S8"
        assert doc.species_order == species_order(symbols) == ["Li", "S"]
        assert doc.n_atoms == N_S + N_LI
    assert (job_doc.source, analysed.source) == ("md", "trajectory")
    assert job_doc.trajectory_files == analysed.trajectory_files
    assert job_doc.fit_window_rule == analysed.fit_window_rule
    assert [(g.group, g.n_atoms) for g in job_doc.msd.groups] == [
        (g.group, g.n_atoms) for g in analysed.msd.groups
    ]
    assert {g.group for g in job_doc.msd.groups} == {"S", "Li", "Li metal", "Li compound"}
    assert len(job_doc.diffusivities) == len(analysed.diffusivities) == 4 * 3
    for mine, theirs in zip(job_doc.diffusivities, analysed.diffusivities, strict=True):
        assert (mine.group, mine.component, mine.n_atoms) == (
            theirs.group,
            theirs.component,
            theirs.n_atoms,
        )
        d_job, d_file = mine.D, theirs.D
        assert d_job == pytest.approx(d_file, rel=1e-9, abs=1e-15)
        assert mine.sigma_D == pytest.approx(theirs.sigma_D, rel=1e-9, abs=1e-15)
