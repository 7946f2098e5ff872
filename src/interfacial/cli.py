"""The ``interfacial`` command line. Heavy libraries are imported inside commands only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from interfacial.errors import InterfacialError

app = typer.Typer(
    help="Alkali-metal anode || solid-electrolyte interphases: surfaces, interfaces, transport.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
query_app = typer.Typer(help="Read results back from the database.", no_args_is_help=True)
app.add_typer(query_app, name="query")

DEMO_MATERIALS = ("Li", "Li2S", "Li3P", "LiCl")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _surface_table(docs: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    for column in ("material", "facet", "termination", "Tasker", "gamma (J/m^2)", "converged"):
        table.add_column(column)
    for column in ("atoms", "thickness (A)", "calculator", "note"):
        table.add_column(column)
    for d in docs:
        table.add_row(
            d["material"],
            "(" + " ".join(map(str, d["miller_index"])) + ")",
            d.get("termination") or "-",
            str(d["tasker_type"]),
            _fmt(d.get("surface_energy")),
            "-" if d.get("converged") is None else ("yes" if d["converged"] else "NO"),
            str(d.get("n_atoms") or "-"),
            _fmt(d.get("slab_thickness"), 1),
            d["calculator"],
            d.get("reason") or "",
        )
    console.print(table)


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    """The per-termination fields users script against (JSON output)."""
    keys = (
        "material",
        "formula",
        "miller_index",
        "termination",
        "shift",
        "tasker_type",
        "surface_energy",
        "reason",
        "converged",
        "n_atoms",
        "slab_thickness",
        "vacuum",
        "area",
        "calculator",
        "bulk_uuid",
        "slab_uuid",
        "surface_id",
        "thickness_series",
        "last_updated",
    )
    return {k: doc.get(k) for k in keys}


@app.command()
def structures(
    name: str | None = typer.Argument(None, help="A built-in name or a structure file."),
) -> None:
    """List the built-in structures, or print one (POSCAR format)."""
    from interfacial.structures.library import BUILTIN_PHASES, load_structure

    if name is None:
        for phase in BUILTIN_PHASES.values():
            c = f", c = {phase.c}" if phase.c else ""
            typer.echo(f"{phase.name:6s} {phase.space_group:9s} a = {phase.a}{c} A  ({phase.note})")
        return
    try:
        structure = load_structure(name)
    except InterfacialError as exc:
        _fail(str(exc))
    typer.echo(structure.to(fmt="poscar"))


@app.command()
def surfaces(
    structure: str = typer.Argument(..., help="Built-in name (Li, Li2S, ...) or structure file."),
    max_index: int = typer.Option(1, "--max-index", help="Largest Miller index."),
    miller: list[str] | None = typer.Option(
        None, "--miller", help="Only this facet, e.g. 1,1,0 (repeatable); overrides --max-index."
    ),
    calculator: str | None = typer.Option(None, "--calculator", help="CHGNet (default) or VASP."),
    min_thickness: float = typer.Option(8.0, "--min-thickness", help="Thinnest slab (A)."),
    max_thickness: float = typer.Option(30.0, "--max-thickness", help="Thickest slab (A)."),
    vacuum: float = typer.Option(15.0, "--vacuum", help="Vacuum (A)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Compute surface energies of every facet and termination; store and print them."""
    from interfacial.api import run_surfaces
    from interfacial.structures.slabs import parse_miller

    try:
        millers = [list(parse_miller(m)) for m in miller] if miller else None
        docs = run_surfaces(
            structure,
            max_index=max_index,
            millers=millers,
            calculator=calculator,
            min_thickness=min_thickness,
            max_thickness=max_thickness,
            vacuum=vacuum,
            show_progress=not as_json,
        )
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json([_public(d) for d in docs])
    else:
        _surface_table(docs, f"Surface energies of {structure}")


@query_app.command("surfaces")
def query_surfaces(
    formula: str | None = typer.Option(None, "--formula", help="Only this formula, e.g. Li2S."),
    all_runs: bool = typer.Option(
        False, "--all", help="Every stored calculation, not only the newest per material."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Surface energies stored so far (any process, any earlier run)."""
    from interfacial.api import query_surfaces as query

    try:
        docs = query(formula, latest_only=not all_runs)
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json([_public(d) for d in docs])
    else:
        _surface_table(docs, "Stored surface energies")


def _interface_public(doc: dict[str, Any]) -> dict[str, Any]:
    """The per-model fields users script against (JSON output of interface commands)."""
    keys = (
        "metal",
        "compound",
        "metal_miller",
        "compound_miller",
        "metal_termination",
        "compound_termination",
        "registry",
        "gap",
        "relaxation",
        "E_f",
        "sigma",
        "strain_energy",
        "W_adhesion",
        "W_adhesion_eq5",
        "gamma_metal",
        "gamma_compound",
        "gamma_source",
        "wets",
        "strong_adhesion",
        "adhesion_threshold",
        "is_lowest",
        "mismatch",
        "angle_mismatch",
        "area",
        "n_atoms",
        "calculator",
        "model_id",
        "interface_id",
        "last_updated",
    )
    return {k: doc.get(k) for k in keys}


def _interface_table(docs: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    columns = ("interface", "terminations", "registry", "E_f", "sigma", "W (Eq.4)", "W' (Eq.5)")
    for column in (*columns, "g_metal", "g_comp", "mismatch", "area (A^2)", "atoms", "flags"):
        table.add_column(column)
    for d in docs:
        flags = [f for f in ("wets", "strong_adhesion") if d.get(f)]
        table.add_row(
            f"{d['metal']}({''.join(map(str, d['metal_miller']))})||"
            f"{d['compound']}({''.join(map(str, d['compound_miller']))})",
            f"{d['metal_termination']}|{d['compound_termination']}",
            ",".join(f"{x:.2f}" for x in d["registry"]) + ("*" if d.get("is_lowest") else ""),
            _fmt(d["E_f"]),
            _fmt(d["sigma"]),
            _fmt(d["W_adhesion"]),
            _fmt(d["W_adhesion_eq5"]),
            _fmt(d["gamma_metal"]),
            _fmt(d["gamma_compound"]),
            f"{100 * d['mismatch']:.1f}%",
            _fmt(d["area"], 1),
            str(d["n_atoms"]),
            " ".join(flags),
        )
    console.print(table)
    console.print("energies in J/m^2 per interface; * lowest-energy model of its interface")


MILLER_HELP = "Miller indices H K L (conventional cell)."


@app.command("match")
def match_command(
    metal: str = typer.Argument(..., help="Metal: built-in name (Li, Na) or structure file."),
    compound: str = typer.Argument(..., help="Compound: built-in name or structure file."),
    metal_miller: tuple[int, int, int] = typer.Option(..., "--metal-miller", help=MILLER_HELP),
    compound_miller: tuple[int, int, int] = typer.Option(
        ..., "--compound-miller", help=MILLER_HELP
    ),
    max_area: float | None = typer.Option(None, "--max-area", help="Largest area (A^2)."),
    max_mismatch: float | None = typer.Option(
        None, "--max-mismatch", help="Largest vector mismatch (fraction, default 0.15)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Lattice-match a metal facet on a compound facet (geometry only; strain on the metal)."""
    from interfacial.api import match

    try:
        candidates = match(
            metal,
            compound,
            metal_miller,
            compound_miller,
            max_area=max_area,
            max_mismatch=max_mismatch,
        )
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(candidates)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{metal} {metal_miller} on {compound} {compound_miller}")
    for column in ("#", "mismatch", "angle (deg)", "area (A^2)", "atoms", "metal", "compound"):
        table.add_column(column)
    for i, c in enumerate(candidates):
        table.add_row(
            str(i),
            f"{100 * c['mismatch']:.2f}%",
            f"{c['angle_mismatch']:.2f}",
            f"{c['area']:.1f}",
            str(c["n_atoms"]),
            str(c["metal_matrix"]),
            str(c["compound_matrix"]),
        )
    (Console() if sys.stdout.isatty() else Console(width=160)).print(table)


@app.command()
def interface(
    metal: str = typer.Argument(..., help="Metal: built-in name (Li, Na) or structure file."),
    compound: str = typer.Argument(..., help="Compound: built-in name or structure file."),
    metal_miller: tuple[int, int, int] = typer.Option(..., "--metal-miller", help=MILLER_HELP),
    compound_miller: tuple[int, int, int] = typer.Option(
        ..., "--compound-miller", help=MILLER_HELP
    ),
    calculator: str | None = typer.Option(None, "--calculator", help="CHGNet (default) or VASP."),
    max_area: float | None = typer.Option(None, "--max-area", help="Largest area (A^2)."),
    max_mismatch: float | None = typer.Option(None, "--max-mismatch", help="Fraction."),
    max_atoms: int | None = typer.Option(None, "--max-atoms", help="Largest model."),
    metal_thickness: float | None = typer.Option(None, "--metal-thickness", help="A."),
    compound_thickness: float | None = typer.Option(None, "--compound-thickness", help="A."),
    registry: list[str] | None = typer.Option(
        None, "--registry", help="In-plane shift of the metal, e.g. 0.5,0 (repeatable)."
    ),
    gap: list[float] | None = typer.Option(None, "--gap", help="Initial gap (A, repeatable)."),
    relaxation: list[str] | None = typer.Option(
        None, "--relaxation", help="fully-relaxed (default), fix-binary, fix-metal (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Compute E_f, sigma and W_adhesion of a metal||compound interface; store and print them."""
    from interfacial.api import run_interface

    try:
        registries = [_parse_pair(r) for r in registry] if registry else None
        docs = run_interface(
            metal,
            compound,
            metal_miller,
            compound_miller,
            calculator=calculator,
            max_area=max_area,
            max_mismatch=max_mismatch,
            max_atoms=max_atoms,
            metal_thickness=metal_thickness,
            compound_thickness=compound_thickness,
            registries=registries,
            gaps=list(gap) if gap else None,
            relaxations=list(relaxation) if relaxation else None,
            show_progress=not as_json,
        )
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json([_interface_public(d) for d in docs])
    else:
        _interface_table(docs, f"Interfaces {metal} || {compound}")


def _parse_pair(text: str) -> list[float]:
    parts = text.replace(",", " ").split()
    try:
        pair = [float(p) for p in parts]
    except ValueError:
        pair = []
    if len(pair) != 2:
        raise InterfacialError(f"--registry '{text}' is not two fractions, e.g. 0.5,0")
    return pair


@query_app.command("interfaces")
def query_interfaces(
    metal: str | None = typer.Option(None, "--metal", help="Only this metal, e.g. Li."),
    compound: str | None = typer.Option(None, "--compound", help="Only this compound."),
    all_models: bool = typer.Option(
        False, "--all", help="Every model and run, not only the lowest of the newest."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Interface energetics stored so far."""
    from interfacial.api import query_interfaces as query

    try:
        docs = query(metal, compound, lowest_only=not all_models, latest_only=not all_models)
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json([_interface_public(d) for d in docs])
    else:
        _interface_table(docs, "Stored interfaces")


def _diffusion_table(docs: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    for column in ("system", "T (K)", "group", "atoms", "component", "D* (cm^2/s)"):
        table.add_column(column)
    for column in ("sigma (cm^2/s)", "window (ps)", "converged", "source"):
        table.add_column(column)
    for d in docs:
        for r in d["diffusivities"]:
            table.add_row(
                d["system"],
                f"{d['temperature']:g}",
                r["group"],
                str(r["n_atoms"]),
                r["component"],
                f"{r['D']:.3e}",
                f"{r['sigma_D']:.1e}",
                f"{r['fit_window'][0]:.3g}-{r['fit_window'][1]:.3g}",
                "yes" if r["converged"] else "NO",
                d.get("source", "md"),
            )
    console.print(table)
    for d in docs:
        check = d.get("extrapolation")
        if check:
            verdict = "reliable" if check["reliable"] else "UNRELIABLE: refit with these frames"
            console.print(
                f"{d['system']} {d['temperature']:g} K: {check['n_graded']} frames graded against "
                f"{check['n_training']} training configurations, max grade "
                f"{check['max_grade']:.2f} ({100 * check['fraction_above_select']:.0f} % above "
                f"{check['select_threshold']:g}): {verdict}"
            )


def _arrhenius_table(docs: list[dict[str, Any]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    for column in ("system", "group", "component", "T (K)", "Ea (meV)", "D0 (cm^2/s)", "note"):
        table.add_column(column)
    for d in docs:
        temps = ", ".join(f"{t:g}" for t in d["temperatures"]) or "-"
        ea = "-" if d.get("Ea") is None else f"{d['Ea']:.0f} ± {d['sigma_Ea']:.0f}"
        d0 = "-" if d.get("D0") is None else f"{d['D0']:.2e} (ln ± {d['sigma_ln_D0']:.2f})"
        notes = [d.get("note") or ""] + [
            f"{x['temperature']:g} K left out: {x['reason']}" for x in d.get("excluded", [])
        ]
        table.add_row(
            d["system"], d["group"], d["component"], temps, ea, d0, "; ".join(n for n in notes if n)
        )
    console.print(table)


def _diffusion_public(doc: dict[str, Any], curves: bool = False) -> dict[str, Any]:
    """A document for --json: without the MSD curves unless asked for."""
    return {k: v for k, v in doc.items() if curves or k != "msd"}


@query_app.command("diffusion")
def query_diffusion(
    system: str | None = typer.Option(None, "--system", help="Only this system."),
    temperature: float | None = typer.Option(None, "--temperature", help="Only this T (K)."),
    curves: bool = typer.Option(False, "--curves", help="Include the MSD curves in --json."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Tracer diffusivities per system, temperature, group and component, and Arrhenius fits."""
    from interfacial.api import query_arrhenius
    from interfacial.api import query_diffusion as query

    try:
        docs = query(system, temperature=temperature)
        fits = query_arrhenius(system) if temperature is None else []
    except InterfacialError as exc:
        _fail(" ".join(str(exc).split()))
    if as_json:
        _print_json({"diffusion": [_diffusion_public(d, curves) for d in docs], "arrhenius": fits})
        return
    _diffusion_table(docs, "Tracer diffusivities")
    if fits:
        _arrhenius_table(fits, "Arrhenius fits: D* = D0 exp(-Ea / kB T)")


@app.command()
def diffusion(
    trajectory: list[Path] = typer.Argument(
        ..., help="LAMMPS dump(s) (segments in order), ASE .traj, extxyz or XDATCAR."
    ),
    temperature: float = typer.Option(..., "--temperature", "-T", help="Run temperature (K)."),
    time_step: float | None = typer.Option(
        None,
        "--time-step",
        help="LAMMPS dumps: the MD time step (fs per step). XDATCAR (POTIM x stride), .traj and "
        "extxyz: fs between stored frames. Dumps and XDATCARs do not record it.",
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
        None, "--fit-window", help="Lag window in ps, e.g. 5,50 (default: 10-50 % of the run)."
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="lammps, traj, extxyz or xdatcar, when the file names do not tell (default: guessed).",
    ),
    system: str | None = typer.Option(None, "--system", help="Name stored with --save."),
    save: bool = typer.Option(False, "--save", help="Store the result in the database."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Tracer diffusivity D* per group and component of any MD trajectory (streamed).

    D* in cm^2/s per group (every element, region groups, --group) and component (in-plane =
    x, y; out-of-plane = z; total), fitted to the drift-corrected MSD by GLS.
    """
    from interfacial.api import analyse_trajectory, save_diffusion

    try:
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
        if save and not (system and system.strip()):
            raise InterfacialError("--save needs --system NAME to file the result under")
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
            save_diffusion(doc)
    except InterfacialError as exc:
        _fail(" ".join(str(exc).split()))  # one line, whatever the message holds
    data = doc.model_dump(mode="json")
    if as_json:
        _print_json(_diffusion_public(data))
    else:
        _diffusion_table([data], f"D* of {', '.join(p.name for p in trajectory)}")
        if save:
            typer.echo("stored; `interfacial build` refits the Arrhenius laws", err=True)


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        values = []
    if not values:
        raise InterfacialError(f"{what} '{text}' is not a list of numbers, e.g. 600,800,1000")
    return values


@app.command("learn-potential")
def learn_potential_command(
    structure: str = typer.Argument(
        ...,
        help="Built-in name, structure file, or interface:METAL(hkl)|COMPOUND(hkl) (the relaxed "
        "lowest model in the database).",
    ),
    temperature: float = typer.Option(1000.0, "--temperature", help="Reference MD (K)."),
    reference_ps: float = typer.Option(14.0, "--reference-ps", help="Reference MD production."),
    time_step: float = typer.Option(2.0, "--time-step", help="Reference MD step (fs)."),
    snapshot_every: int = typer.Option(5, "--snapshot-every", help="Steps between snapshots."),
    supercell_atoms: int | None = typer.Option(
        None, "--supercell-atoms", help="Repeat a bulk to about this many atoms first."
    ),
    vacancy_count: int | None = typer.Option(None, "--vacancy-count", help="Li removed."),
    vacancy_fraction: float | None = typer.Option(
        None, "--vacancy-fraction", help="Fraction of Li removed."
    ),
    interface_vacancies: bool = typer.Option(
        False, "--interface-vacancies", help="Only within the interface region."
    ),
    level: int = typer.Option(10, "--level", help="MTP level."),
    max_training: int | None = typer.Option(
        1000, "--max-training", help="Subsample the training set to this many configurations."
    ),
    rounds: int = typer.Option(2, "--rounds", help="Active-learning rounds at most."),
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

    try:
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
    except InterfacialError as exc:
        _fail(str(exc))
    final = learned["final_fit"]
    if as_json:
        _print_json(
            {
                "rounds": learned["rounds"],
                "final_fit": {k: v for k, v in final.items() if k != "potential"},
            }
        )
        return
    _learning_summary(learned)
    typer.echo(
        f"potential of {final['system']}: level {final['level']}, sha256 "
        f"{final['potential_sha256'][:12]}; use --potential store:{final['system']}"
    )


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
    time_step: float = typer.Option(1.0, "--time-step", help="fs."),
    ramp_ps: float = typer.Option(100.0, "--ramp-ps", help="Ramp from 300 K (ps)."),
    equilibration_ps: float = typer.Option(1000.0, "--equilibration-ps", help="ps."),
    production_ps: float = typer.Option(10000.0, "--production-ps", help="ps."),
    dump_fs: float = typer.Option(100.0, "--dump-fs", help="fs between stored frames."),
    supercell_atoms: int | None = typer.Option(
        None, "--supercell-atoms", help="Repeat a bulk to about this many atoms first."
    ),
    vacancy_fraction: float | None = typer.Option(
        None, "--vacancy-fraction", help="Fraction of Li removed (study: 0.011), seeded."
    ),
    interface_vacancies: bool = typer.Option(
        False, "--interface-vacancies", help="Remove them within the interface region only."
    ),
    label: str | None = typer.Option(None, "--label", help="System name of the documents."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Transport MD over a temperature ladder with a fitted MTP (LAMMPS); D* and Arrhenius."""
    from interfacial.api import load_potential, query_diffusion, run_transport, training_set

    try:
        temps = _floats(temperatures, "--temperatures")
        if time_step <= 0 or dump_fs < time_step:
            raise InterfacialError("--time-step must be > 0 and --dump-fs at least one step")

        def steps(ps: float) -> int:
            return round(ps * 1000 / time_step)

        mtp = load_potential(potential, species.replace(" ", "").split(",") if species else None)
        # A potential from the database comes with its training set: grade the frames with it.
        training = (
            training_set(potential.removeprefix("store:"))
            if potential.startswith("store:")
            else None
        )
        fits = run_transport(
            structure,
            mtp,
            label=label,
            show_progress=not as_json,
            training=training,
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
        systems = {f["system"] for f in fits}
        docs = [d for d in query_diffusion() if d["system"] in systems and d.get("source") == "md"]
        docs = [d for d in docs if d.get("potential_sha256") == mtp.sha256]
    except InterfacialError as exc:
        _fail(str(exc))
    if as_json:
        _print_json({"diffusion": [_diffusion_public(d) for d in docs], "arrhenius": fits})
        return
    _diffusion_table(docs, "Tracer diffusivities")
    _arrhenius_table(fits, "Arrhenius fits: D* = D0 exp(-Ea / kB T)")


@app.command("run")
def run_campaign(
    campaign_file: Path = typer.Argument(..., help="Campaign YAML (see workflows/)."),
) -> None:
    """Run every flow of a campaign here, one after the other; store, build and summarise."""
    from interfacial import engines
    from interfacial.api import build as run_builders
    from interfacial.api import query_interfaces
    from interfacial.api import query_surfaces as query
    from interfacial.campaign import load_campaign
    from interfacial.runner import run_flow
    from interfacial.settings import get_settings
    from interfacial.stores import check_writable, get_job_store

    settings = get_settings()
    try:
        campaign = load_campaign(campaign_file)
        for calculator in {campaign.calculators.surfaces, campaign.calculators.interfaces}:
            engines.calculator(calculator).check_can_run_locally(settings)
        flows = campaign.flows(settings)
        check_writable(settings)
        from interfacial.api import run_directory

        for i, (stage, flow) in enumerate(flows, 1):
            typer.echo(f"[{i}/{len(flows)}] {stage}: {flow.name}", err=True)
            run_flow(flow, get_job_store(settings), run_directory(settings))
        run_builders(settings)
    except InterfacialError as exc:
        _fail(str(exc))
    materials = {spec.material for spec in campaign.surfaces}
    _surface_table(
        [d for d in query(settings=settings) if d["material"] in materials],
        f"Surface energies ({campaign.name})",
    )
    pairs = {(spec.metal, spec.compound) for spec in campaign.interfaces}
    _interface_table(
        [d for d in query_interfaces(settings=settings) if (d["metal"], d["compound"]) in pairs],
        f"Interfaces ({campaign.name})",
    )
    if campaign.transport:
        from interfacial.api import query_arrhenius, query_diffusion

        systems = {f.name.removeprefix("transport md ") for s, f in flows if s == "transport"}
        _diffusion_table(
            [d for d in query_diffusion(settings=settings) if d["system"] in systems],
            f"Tracer diffusivities ({campaign.name})",
        )
        _arrhenius_table(
            [d for d in query_arrhenius(settings=settings) if d["system"] in systems],
            f"Arrhenius fits ({campaign.name})",
        )


@app.command()
def submit(
    campaign_file: Path = typer.Argument(..., help="Campaign YAML (see workflows/)."),
    launchpad: Path | None = typer.Option(
        None, "--launchpad", help="my_launchpad.yaml (default: FireWorks' own configuration)."
    ),
) -> None:
    """Add a campaign to a FireWorks LaunchPad; workers run it with their own jobflow.yaml."""
    from interfacial.campaign import load_campaign
    from interfacial.campaign import submit as submit_campaign

    try:
        campaign = load_campaign(campaign_file)
        lpad = _launchpad(launchpad)
        added = submit_campaign(campaign, lpad)
    except InterfacialError as exc:
        _fail(str(exc))
    for item in added:
        typer.echo(
            f"added {item['stage']} workflow '{item['flow']}' with {item['fireworks']} "
            f"firework(s), category '{item['category']}'"
        )
    typer.echo(
        f"{len(added)} workflow(s) of campaign '{campaign.name}'; run them with "
        "`rlaunch rapidfire` or `qlaunch rapidfire` on workers of those categories"
    )


def _launchpad(path: Path | None) -> Any:
    """Open a LaunchPad from ``path`` (or FireWorks' default) and check the server answers.

    An embedded (file-backed) LaunchPad is locked for this process first, so a submission
    cannot be lost under a running worker.
    """
    from interfacial.fireworks_embedded import embedded_store_file, open_launchpad

    try:
        lpad = open_launchpad(path)
    except InterfacialError:
        raise
    except FileNotFoundError:
        raise InterfacialError(f"launchpad file {path} does not exist") from None
    except Exception as exc:  # FireWorks raises several types for a bad file
        raise InterfacialError(f"cannot load launchpad file {path}: {exc}") from None
    if embedded_store_file() is None:
        try:
            lpad.connection.admin.command("ping")
        except Exception as exc:  # pymongo's ServerSelectionTimeoutError and friends
            raise InterfacialError(
                f"the LaunchPad's database does not answer ({type(exc).__name__}); check "
                f"host, port and credentials in {path or 'your FireWorks configuration'}"
            ) from None
    return lpad


def _stored_sets(system: str) -> tuple[str, dict[str, str], list[str]]:
    """Training and validation .cfg texts of the newest stored reference MD of ``system``."""
    from interfacial.jobs.potential import make_training_sets
    from interfacial.schemas.roles import ReferenceMDKeys, Role, read_keys, role_filter
    from interfacial.settings import get_settings
    from interfacial.stores import check_writable, get_job_store

    settings = get_settings()
    check_writable(settings)
    store = get_job_store(settings)
    store.connect()
    role = role_filter(Role.REFERENCE_MD)
    try:
        runs = list(store.query(role_filter(Role.REFERENCE_MD, system=system), load=True))
        stored = {read_keys(d, ReferenceMDKeys).system for d in store.query(role, ["metadata"])}
    finally:
        store.close()
    training = [r for r in runs if read_keys(r, ReferenceMDKeys).purpose == "training"]
    if not training:
        raise InterfacialError(
            f"no stored reference MD training run of system '{system}'; systems stored: "
            + (", ".join(sorted(stored)) or "none")
        )
    newest = max(training, key=lambda r: str(r["completed_at"]))
    same_flow = [
        r
        for r in runs
        if read_keys(r, ReferenceMDKeys).purpose == "validation"
        and set(r.get("hosts") or []) & set(newest.get("hosts") or [])
    ]
    sets = make_training_sets(
        {"training": newest["output"], "validation": [r["output"] for r in same_flow]}
    )
    return sets["training_cfg"], sets["validation_cfg"], sets["species_order"]


def _training_text(path: Path, species: list[str] | None) -> tuple[str, list[str]]:
    """A labelled set as .cfg text and its species order (.cfg needs --species; others: ASE)."""
    from interfacial.mtp.cfg import check_species_order, read_cfg, write_cfg

    if not path.is_file():
        raise InterfacialError(f"training/validation file {path} does not exist")
    if path.suffix == ".cfg":
        if not species:
            raise InterfacialError(
                f"{path} is an MLIP .cfg file, whose atom types are numbers: give --species "
                "in the order of the types, e.g. --species Li,S"
            )
        read_cfg(path, species)  # validates the file before anything is stored
        return path.read_text(), check_species_order(species)
    import tempfile

    from ase.io import read

    from interfacial.conventions import species_order

    try:
        frames = read(path, index=":")
    except Exception as exc:  # ASE raises many types for unreadable files
        raise InterfacialError(f"cannot read configurations from {path}: {exc}") from None
    frames = frames if isinstance(frames, list) else [frames]
    present = {s for atoms in frames for s in atoms.get_chemical_symbols()}
    order = species or species_order(present)
    with tempfile.TemporaryDirectory() as folder:
        out = write_cfg(frames, Path(folder) / "set.cfg", order)
        return out.read_text(), check_species_order(order)


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
    level: int = typer.Option(10, "--level", help="MTP level (lev_max)."),
    engine: str = typer.Option("motep", "--engine", help="motep (embedded) or mlp."),
    species: str | None = typer.Option(
        None, "--species", help="Species order, e.g. Li,S (required for .cfg input)."
    ),
    max_training: int | None = typer.Option(
        None, "--max-training", help="Subsample the training set to this many configurations."
    ),
    max_iter: int | None = typer.Option(None, "--max-iter", help="motep optimiser iterations."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
) -> None:
    """Fit a moment tensor potential; store it with its training and validation errors."""
    from jobflow import Flow

    from interfacial import engines
    from interfacial.flows.mtp import MTPFitMaker
    from interfacial.jobs.mtp import configurations_from_cfg
    from interfacial.mtp.cfg import check_training_set
    from interfacial.runner import run_flow
    from interfacial.settings import get_settings
    from interfacial.stores import check_writable, get_job_store

    settings = get_settings()
    try:
        order = [s.strip() for s in species.split(",")] if species else None
        if training.startswith("store:"):
            system = training.removeprefix("store:")
            train_text, validation_text, order = _stored_sets(system)
        else:
            system = Path(training).stem
            train_text, order = _training_text(Path(training), order)
            validation_text = {}
        validation_text |= {p.stem: _training_text(p, order)[0] for p in validation or []}
        options: dict[str, Any] = engines.get("fit", engine).options_from_settings(settings)
        if max_iter is not None:
            options["max_iter"] = max_iter
        maker = MTPFitMaker(
            engine=engine.strip().lower(),
            engine_options=options,
            level=level,
            max_training=max_training,
        )
        # Validate the sets here, so that bad data stops before anything is stored.
        check_training_set(configurations_from_cfg(train_text, order), order)
        fit = maker.make(train_text, order, system, validation_text)
        check_writable(settings)
        from interfacial.api import run_directory

        store = get_job_store(settings)
        run_flow(Flow([fit]), store, run_directory(settings), show_progress=not as_json)
        store.connect()
        try:
            doc = store.query_one({"uuid": fit.uuid}, sort={"index": -1})
        finally:
            store.close()
        if doc is None:
            raise InterfacialError("the fit finished but its document is not in the store")
    except InterfacialError as exc:
        _fail(str(exc))
    output = {k: v for k, v in doc["output"].items() if k not in ("potential", "parity")}
    if as_json:
        _print_json(output)
        return
    typer.echo(
        f"{output['engine']} {output['engine_version']} level {output['level']} on "
        f"{output['n_training']} configurations ({', '.join(output['species_order'])}); "
        f"potential sha256 {output['potential_sha256'][:12]}"
    )
    sets = {"train": output["training_errors"], **output["validation_errors"]}
    for label, e in sets.items():
        typer.echo(
            f"  {label:12s} energy {e['energy_rmse']:.2f} meV/atom  forces {e['force_rmse']:.1f} "
            f"meV/A  {'meets' if e['meets_targets'] else 'MISSES'} the study's targets"
        )


@app.command()
def build() -> None:
    """Run the builders: gamma and Wulff shapes, interface energetics, D* and Arrhenius fits."""
    from interfacial.api import build as run_builders

    try:
        counts = run_builders()
    except InterfacialError as exc:
        _fail(str(exc))
    typer.echo(
        f"rebuilt {counts['surfaces']} material group(s) of surface energies, "
        f"{counts['interfaces']} interface group(s), {counts['diffusion']} diffusion "
        f"document(s) and {counts['arrhenius']} Arrhenius group(s)"
    )


@app.command()
def report(
    out: Path = typer.Option(Path("interfacial-report"), "--out", help="Directory for figures."),
) -> None:
    """Write figures: Wulff shapes, adhesion bars, models, parity, MSD and Arrhenius plots."""
    from interfacial.api import report as make_report

    try:
        paths = make_report(out)
    except InterfacialError as exc:
        _fail(str(exc))
    if not paths:
        typer.echo("nothing to plot yet: run `interfacial surfaces NAME` or `interfacial build`")
    for path in paths:
        typer.echo(f"wrote {path}")


#: The study's three Li interfaces, with the demo's cuts (thin slabs, small models, one gap).
DEMO_INTERFACES = (
    ("Li", (1, 1, 0), "Li2S", (1, 1, 0)),
    ("Li", (1, 0, 0), "Li3P", (0, 0, 1)),
    ("Li", (1, 1, 0), "LiCl", (1, 0, 0)),
)
#: A small but real potential: Li2S with one Li vacancy (11 atoms; the study: 2x2x4, 191), reference
#: MD of 3 ps at 1000 K (the study: 14-20 ps), validation 0.4 ps at 300 and 500 K (the study: 4
#: ps), level 10 on 200 configurations, up to two active-learning rounds. With 0.8 ps and 80
#: configurations the fit passed its own validation but lost atoms within 2 ps of transport MD
#: at 700 K in a 95-atom cell: the transport step needs this much.
DEMO_POTENTIAL: dict[str, Any] = {
    "reference": {
        "temperature": 1000.0,
        "time_step": 2.0,
        "ramp_steps": 100,
        "production_steps": 1500,
        "snapshot_interval": 5,
        "validation_temperatures": [300.0, 500.0],
        "validation_steps": 200,
        "validation_ramp_steps": 50,
        "vacancy_element": "Li",
        "vacancy_count": 1,
    },
    "fit": {"level": 10, "max_training": 200, "engine_options": {"max_iter": 150}},
    "max_rounds": 2,
    "al_temperature": 1000.0,
    "al_steps": 1000,
    "al_interval": 10,
    "al_time_step": 2.0,
}
#: Transport in a 96-site Li2S cell with one Li vacancy at three temperatures, 10 ps each
#: (the study: interface models of 400-520 atoms, 300-1000 K, >= 10 ns).
DEMO_TRANSPORT: dict[str, Any] = {
    "temperatures": [700.0, 850.0, 1000.0],
    "time_step": 1.0,
    "ramp_steps": 1000,
    "equilibration_steps": 1000,
    "production_steps": 10_000,
    "dump_interval": 20,
    "segment_steps": 5000,
    "supercell_atoms": 96,
    "vacancy_element": "Li",
    "vacancy_count": 1,
}
DEMO_MODEL: dict[str, Any] = {
    "metal_thickness": 8.0,
    "compound_thickness": 6.0,
    "max_atoms": 100,
    "relax_fmax": 0.05,
}


@app.command()
def demo(
    out: Path = typer.Option(Path("interfacial-report"), "--out", help="Directory for figures."),
) -> None:
    """Run the main job on the embedded default: surfaces, Li interfaces, an MTP, transport."""
    from interfacial.api import build as run_builders
    from interfacial.api import (
        learn_potential,
        query_diffusion,
        run_interface,
        run_surfaces,
        run_transport,
        training_set,
    )
    from interfacial.api import query_surfaces as query
    from interfacial.api import report as make_report
    from interfacial.settings import get_settings

    settings = get_settings()

    def say(text: str) -> None:
        typer.echo(text, err=True)  # progress to stderr, results to stdout

    say(
        f"interfacial demo with {settings.calculator}; database in {settings.data_dir.resolve()}\n"
        f"1. surfaces of {', '.join(DEMO_MATERIALS)} up to Miller index 1"
    )
    docs: list[dict[str, Any]] = []
    interfaces: list[dict[str, Any]] = []
    try:
        for name in DEMO_MATERIALS:
            say(f"- {name}")
            docs += run_surfaces(name, max_index=1)
        say(
            "2. interfaces of the study, cut to fit the demo: Li slabs of "
            f"{DEMO_MODEL['metal_thickness']:g} A and compound slabs of "
            f"{DEMO_MODEL['compound_thickness']:g} A (the study: 12 and 10 A), models of "
            f"at most {DEMO_MODEL['max_atoms']} atoms (the study: 400-520), one initial gap, "
            f"models relaxed to {DEMO_MODEL['relax_fmax']} eV/A"
        )
        for metal, metal_miller, compound, compound_miller in DEMO_INTERFACES:
            say(f"- {metal}{metal_miller} || {compound}{compound_miller}")
            interfaces += run_interface(
                metal, compound, metal_miller, compound_miller, **DEMO_MODEL
            )
        say(
            "3. a moment tensor potential for Li2S with one Li vacancy, cut to fit the demo: "
            "11 atoms (the study: 191), CHGNet reference MD of 3 ps at 1000 K (the study: "
            "14-20 ps), validation 0.4 ps at 300 and 500 K, level 10 motep fit on 200 snapshots, "
            "up to two active-learning rounds of 2 ps"
        )
        learned = learn_potential("Li2S", **DEMO_POTENTIAL)
        say(
            "4. Li+ transport in Li2S with that potential, cut to fit the demo: "
            f"{DEMO_TRANSPORT['supercell_atoms']} atoms less one Li (the study: interface models "
            f"of 400-520 atoms, 1.1 % vacancies), LAMMPS + motep at "
            f"{', '.join(f'{t:g}' for t in DEMO_TRANSPORT['temperatures'])} K, "
            f"{DEMO_TRANSPORT['production_steps'] * DEMO_TRANSPORT['time_step'] / 1000:g} ps "
            "production each (the study: 300-1000 K, >= 10 ns)"
        )
        from interfacial.mtp.potential import MTPPotential

        fits = run_transport(
            "Li2S",
            MTPPotential.from_dict(learned["final_fit"]["potential"]),
            label="Li2S",
            training=training_set(learned["final_fit"]["system"]),
            **DEMO_TRANSPORT,
        )
        run_builders()
        paths = make_report(out)
    except InterfacialError as exc:
        _fail(str(exc))
    _surface_table(docs, "Surface energies (demo)")
    _interface_table(interfaces, "Interfaces (demo: thin slabs, small models)")
    _learning_summary(learned)
    _diffusion_table(
        [d for d in query_diffusion("Li2S-vac") if d.get("source") == "md"],
        "Tracer diffusivities (demo: short runs, small cell)",
    )
    _arrhenius_table(fits, "Arrhenius fits (demo)")
    for path in paths:
        typer.echo(f"wrote {path}")
    typer.echo(
        f"{len(query())} surface documents in the database; `interfacial query surfaces`, "
        "`interfacial query interfaces`"
    )


def _learning_summary(learned: dict[str, Any]) -> None:
    """Errors per set after each active-learning round (meV/atom, meV/A)."""
    for r in learned["rounds"]:
        sets = {"train": r["training_errors"], **r["validation_errors"]}
        errors = ", ".join(
            f"{name} {e['energy_rmse']:.1f} meV/atom {e['force_rmse']:.0f} meV/A"
            for name, e in sets.items()
        )
        typer.echo(
            f"MTP round {r['round']} ({r['n_training_before']} configurations): {errors}; MD "
            f"max grade {r['max_grade']:.1f}, {r['n_selected']} configurations labelled"
        )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
