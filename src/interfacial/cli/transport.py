"""Commands of transport: transport MD with a fitted potential, D* of any trajectory, queries."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from interfacial.cli.app import app, explain_empty, query_app, say
from interfacial.cli.options import (
    ATOMS,
    DURATION_PS,
    FRACTION,
    FRAME_FS,
    PRODUCTION_PS,
    TEMPERATURE,
    TIME_STEP_FS,
    TRAJECTORY_STEP_FS,
)
from interfacial.cli.render import arrhenius_table, diffusion_public, diffusion_table, print_json
from interfacial.errors import InterfacialError
from interfacial.validation import check_number


@query_app.command("diffusion")
def query_diffusion(
    system: str | None = typer.Option(None, "--system", help="Only this system."),
    temperature: float | None = typer.Option(
        None, "--temperature", help="Only this T (K).", callback=TEMPERATURE
    ),
    curves: bool = typer.Option(False, "--curves", help="Include the MSD curves in --json."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Tracer diffusivities per system, temperature, group and component, and Arrhenius fits."""
    from interfacial.api import query_transport

    found = query_transport(system, temperature=temperature)
    if not found["diffusion"]:
        explain_empty()
    docs, fits = found["diffusion"], found["arrhenius"]
    if as_json:
        print_json({"diffusion": [diffusion_public(d, curves) for d in docs], "arrhenius": fits})
        return
    diffusion_table(docs, "Tracer diffusivities")
    if fits:
        arrhenius_table(fits, "Arrhenius fits: D* = D0 exp(-Ea / kB T)")


@app.command()
def diffusion(
    trajectory: list[Path] = typer.Argument(
        ...,
        help="Trajectory file(s), segments of one run in order: LAMMPS dumps (text or .bin), "
        "XDATCAR, vasprun.xml, ASE .traj, extxyz or any ASE format; .gz, .bz2, .xz read as they "
        "are. Or the run directory of an interfacial MD.",
    ),
    temperature: float = typer.Option(
        ..., "--temperature", "-T", help="Run temperature (K).", callback=TEMPERATURE
    ),
    time_step: float | None = typer.Option(
        None,
        "--time-step",
        help="LAMMPS dumps: the MD time step (fs per step). XDATCAR (POTIM x NBLOCK), "
        "vasprun.xml, .traj, extxyz, ase:FORMAT: fs between stored frames. Needed where the file "
        "does not record it (dumps not written by interfacial, XDATCAR, ase:FORMAT, ASE files "
        "without info time); vasprun.xml records POTIM: a value the file contradicts is refused.",
        callback=TRAJECTORY_STEP_FS,
    ),
    species: str | None = typer.Option(
        None, "--species", help="Element of each LAMMPS atom type, in type order: e.g. S,Li."
    ),
    groups: list[str] = typer.Option(
        [],
        "--group",
        help="Extra group NAME=SPEC (e.g. 'top=1-40' by atom id, 'LiS=Li,S', "
        "'Li_m=region:metal&Li' with --structure); repeatable.",
    ),
    structure: Path | None = typer.Option(
        None,
        "--structure",
        help="Interface model the run started from (site property 'region'): adds the groups "
        "'Li metal' and 'Li compound'.",
    ),
    fit_window: str | None = typer.Option(
        None,
        "--fit-window",
        help="Lag window in ps, e.g. 5,50 (default: from where the MSD turns diffusive to half "
        "the run).",
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="lammps, lammps-binary, xdatcar, vasprun, traj, extxyz, or ase:FORMAT (any ASE "
        "reader, e.g. ase:vasp-out), when the file names do not tell (default: guessed from the "
        "name).",
    ),
    system: str | None = typer.Option(None, "--system", help="Name stored with --save."),
    save: bool = typer.Option(False, "--save", help="Store the result in the database."),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="With --save: replace a stored result of the same --system and temperature "
        "(refused otherwise).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Tracer diffusivity D* per group and component of any MD trajectory (streamed).

    D* in cm^2/s per group (every element, region groups, --group) and component (in-plane =
    x, y; out-of-plane = z; total), fitted to the drift-corrected MSD by GLS.
    """
    from interfacial.api import analyse_trajectory, check_diffusion_unsaved, save_diffusion

    window = None
    if fit_window is not None:
        parts = fit_window.replace(",", " ").split()
        try:
            window = (float(parts[0]), float(parts[1]))
        except (ValueError, IndexError):
            raise InterfacialError(
                f"--fit-window '{fit_window}' is not two times in ps, e.g. 5,50"
            ) from None
        if len(parts) != 2:
            raise InterfacialError(f"--fit-window '{fit_window}' is not two times in ps")
        for value in window:
            check_number(value, "--fit-window", minimum=0, unit="ps")
        if window[0] >= window[1]:
            raise InterfacialError(
                f"--fit-window '{fit_window}': the fit window starts after it ends; give "
                "START,END in ps"
            )
    if save and not (system and system.strip()):
        raise InterfacialError("--save needs --system NAME to file the result under")
    if overwrite and not save:
        raise InterfacialError("--overwrite only applies with --save; add --save --system NAME")
    species_order = None
    if species is not None:
        from pymatgen.core.periodic_table import Element

        species_order = [s.strip() for s in species.split(",")]
        bad = [s for s in species_order if not Element.is_valid_symbol(s)]
        if bad:
            raise InterfacialError(
                f"--species '{species}': {bad[0]!r} is not an element; give the element of "
                "LAMMPS type 1, 2, ... separated by commas, e.g. S,Li"
            )
    if save and not overwrite:
        assert system is not None
        check_diffusion_unsaved(system.strip(), temperature)
    with notes_of_readers():
        doc = analyse_trajectory(
            trajectory,
            temperature,
            time_step_fs=time_step,
            species_order=species_order,
            system=system.strip() if system else None,
            group_specs=groups,
            structure=structure,
            fit_window=window,
            fmt=fmt,
            show_progress=not as_json,
        )
    if save:
        save_diffusion(doc, overwrite=overwrite)
    data = doc.model_dump(mode="json")
    if as_json:
        print_json(diffusion_public(data))
    else:
        diffusion_table([data], f"D* of {', '.join(p.name for p in trajectory)}")
        if save:
            say("stored; `interfacial build` refits the Arrhenius laws")


@contextmanager
def notes_of_readers() -> Iterator[None]:
    """Show a reader's warning as one ``note:`` line on stderr.

    A truncated vasprun.xml is read up to its last complete step and says so; other warnings
    keep Python's default display.
    """
    from interfacial.trajectory.vasprun import TruncatedTrajectoryWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", TruncatedTrajectoryWarning)
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, TruncatedTrajectoryWarning):
                say(f"note: {message}")
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        values = []
    if not values:
        raise InterfacialError(f"{what} '{text}' is not a list of numbers, e.g. 600,800,1000")
    for value in values:
        check_number(value, what, minimum=0, low_open=True, maximum=5000, unit="K")
    return values


@app.command()
def transport(
    structure: str = typer.Argument(..., help="Built-in name, CIF/POSCAR or structure JSON."),
    potential: str = typer.Option(
        ..., "--potential", help="store:SYSTEM (newest fit of SYSTEM) or a .mtp file."
    ),
    species: str | None = typer.Option(
        None, "--species", help="Element of each MLIP type of a .mtp file, e.g. S,Li."
    ),
    temperatures: str = typer.Option(
        "300,400,500,600,700,800,900,1000", "--temperatures", help="Ladder (K)."
    ),
    time_step: float = typer.Option(1.0, "--time-step", help="fs.", callback=TIME_STEP_FS),
    ramp_ps: float = typer.Option(
        100.0, "--ramp-ps", help="Ramp from 300 K (ps).", callback=DURATION_PS
    ),
    equilibration_ps: float = typer.Option(
        1000.0, "--equilibration-ps", help="ps.", callback=DURATION_PS
    ),
    production_ps: float = typer.Option(
        10000.0, "--production-ps", help="ps.", callback=PRODUCTION_PS
    ),
    dump_fs: float = typer.Option(
        100.0, "--dump-fs", help="fs between stored frames.", callback=FRAME_FS
    ),
    supercell_atoms: int | None = typer.Option(
        None,
        "--supercell-atoms",
        help="Repeat a bulk to about this many atoms first.",
        callback=ATOMS,
    ),
    vacancy_fraction: float | None = typer.Option(
        None,
        "--vacancy-fraction",
        help="Fraction of Li removed (study: 0.011), seeded.",
        callback=FRACTION,
    ),
    interface_vacancies: bool = typer.Option(
        False, "--interface-vacancies", help="Remove them within the interface region only."
    ),
    label: str | None = typer.Option(None, "--label", help="System name of the documents."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Transport MD over a temperature ladder with a fitted MTP (LAMMPS); D* and Arrhenius."""
    from interfacial.api import transport as run_transport

    temps = _floats(temperatures, "--temperatures")
    if time_step <= 0 or dump_fs < time_step:
        raise InterfacialError("--time-step must be > 0 and --dump-fs at least one step")

    def steps(ps: float) -> int:
        return round(ps * 1000 / time_step)

    found = run_transport(
        structure,
        potential,
        species=species.replace(" ", "").split(",") if species else None,
        label=label,
        show_progress=not as_json,
        temperatures=temps,
        time_step=time_step,
        ramp_steps=steps(ramp_ps),
        equilibration_steps=steps(equilibration_ps),
        production_steps=steps(production_ps),
        dump_interval=max(1, round(dump_fs / time_step)),
        supercell_atoms=supercell_atoms,
        vacancy_element="Li" if vacancy_fraction else None,
        vacancy_fraction=vacancy_fraction,
        vacancy_region="interface" if interface_vacancies else None,
    )
    docs, fits = found["diffusion"], found["arrhenius"]
    if as_json:
        print_json({"diffusion": [diffusion_public(d) for d in docs], "arrhenius": fits})
        return
    diffusion_table(docs, "Tracer diffusivities")
    arrhenius_table(fits, "Arrhenius fits: D* = D0 exp(-Ea / kB T)")
