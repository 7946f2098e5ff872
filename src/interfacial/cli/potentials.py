"""Commands of potentials: learn an MTP here (learn-potential) or fit one on a set (fit-mtp)."""

from __future__ import annotations

from pathlib import Path

import typer

from interfacial.cli.app import app
from interfacial.cli.options import (
    ATOMS,
    COUNT,
    FRACTION,
    PRODUCTION_PS,
    TEMPERATURE,
    TIME_STEP_FS,
    mtp_level,
    number,
)
from interfacial.cli.render import fit_summary, learning_summary, print_json
from interfacial.errors import InterfacialError


@app.command("learn-potential")
def learn_potential_command(
    structure: str = typer.Argument(
        ...,
        help="Built-in name, structure file, or interface:METAL(hkl)|COMPOUND(hkl) (the relaxed "
        "lowest model in the database).",
    ),
    temperature: float = typer.Option(
        1000.0, "--temperature", help="Reference MD (K).", callback=TEMPERATURE
    ),
    reference_ps: float = typer.Option(
        14.0, "--reference-ps", help="Reference MD production (ps).", callback=PRODUCTION_PS
    ),
    time_step: float = typer.Option(
        2.0, "--time-step", help="Reference MD step (fs).", callback=TIME_STEP_FS
    ),
    snapshot_every: int = typer.Option(
        5, "--snapshot-every", help="Steps between snapshots.", callback=COUNT
    ),
    supercell_atoms: int | None = typer.Option(
        None,
        "--supercell-atoms",
        help="Repeat a bulk to about this many atoms first.",
        callback=ATOMS,
    ),
    vacancy_count: int | None = typer.Option(
        None, "--vacancy-count", help="Li removed.", callback=ATOMS
    ),
    vacancy_fraction: float | None = typer.Option(
        None, "--vacancy-fraction", help="Fraction of Li removed.", callback=FRACTION
    ),
    interface_vacancies: bool = typer.Option(
        False, "--interface-vacancies", help="Only within the interface region."
    ),
    level: int = typer.Option(10, "--level", help="MTP level.", callback=mtp_level),
    max_training: int | None = typer.Option(
        1000,
        "--max-training",
        help="Subsample the training set to this many configurations.",
        callback=COUNT,
    ),
    rounds: int = typer.Option(
        2,
        "--rounds",
        help="Active-learning rounds at most.",
        callback=number(minimum=0, maximum=100, integer=True),
    ),
    calculator: str | None = typer.Option(
        None, "--calculator", help="Reference calculator: CHGNet (default) or VASP."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Reference MD (CHGNet by default), MTP fit, validation and active learning, here.

    The potential is stored under the structure's label (+ "-vac" with vacancies); use it with
    `interfacial transport ... --potential store:LABEL`.
    """
    from interfacial.api import learn_potential

    if time_step <= 0 or reference_ps <= 0 or snapshot_every < 1:
        raise InterfacialError("--time-step, --reference-ps must be > 0, --snapshot-every >= 1")
    vacancies = vacancy_count is not None or vacancy_fraction is not None
    reference = {
        "temperature": temperature,
        "time_step": time_step,
        "production_steps": round(reference_ps * 1000 / time_step),
        "snapshot_interval": snapshot_every,
        "supercell_atoms": supercell_atoms,
        "vacancy_element": "Li" if vacancies else None,
        "vacancy_count": vacancy_count,
        "vacancy_fraction": vacancy_fraction,
        "vacancy_region": "interface" if interface_vacancies else None,
    }
    learned = learn_potential(
        structure,
        calculator=calculator,
        reference=reference,
        fit={"level": level, "max_training": max_training},
        max_rounds=rounds,
        al_temperature=temperature,
        show_progress=not as_json,
    )
    final = learned["final_fit"]
    if as_json:
        print_json(
            {
                "rounds": learned["rounds"],
                "final_fit": {k: v for k, v in final.items() if k != "potential"},
            }
        )
        return
    learning_summary(learned)
    typer.echo(
        f"potential of {final['system']}: level {final['level']}, sha256 "
        f"{final['potential_sha256'][:12]}; use --potential store:{final['system']}"
    )


@app.command("fit-mtp")
def fit_mtp_command(
    training: str = typer.Argument(
        ...,
        help="Labelled training set (.cfg, .extxyz, .traj ...) or store:SYSTEM for the newest "
        "stored reference MD of SYSTEM (its validation runs are used too).",
    ),
    validation: list[Path] | None = typer.Option(
        None, "--validation", help="Labelled validation set (repeatable)."
    ),
    level: int = typer.Option(10, "--level", help="MTP level (lev_max).", callback=mtp_level),
    engine: str = typer.Option("motep", "--engine", help="motep (embedded) or mlp."),
    species: str | None = typer.Option(
        None, "--species", help="Species order, e.g. Li,S (required for .cfg input)."
    ),
    max_training: int | None = typer.Option(
        None,
        "--max-training",
        help="Subsample the training set to this many configurations.",
        callback=COUNT,
    ),
    max_iter: int | None = typer.Option(
        None, "--max-iter", help="motep optimiser iterations.", callback=COUNT
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
) -> None:
    """Fit a moment tensor potential; store it with its training and validation errors."""
    from interfacial.api import fit_mtp

    output = fit_mtp(
        training,
        validation=validation,
        level=level,
        engine=engine,
        species=[s.strip() for s in species.split(",")] if species else None,
        max_training=max_training,
        max_iter=max_iter,
        show_progress=not as_json,
    )
    if as_json:
        print_json(output)
    else:
        fit_summary(output)
