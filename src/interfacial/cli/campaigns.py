"""Commands of campaigns: run one here, submit one to FireWorks, and the demo (shipped one)."""

from __future__ import annotations

from pathlib import Path

import typer

from interfacial.cli.app import app, say
from interfacial.cli.options import number
from interfacial.cli.render import campaign_status_table, campaign_tables, print_json

#: Local runs: independent parts of a campaign side by side (interfacial.campaign.lanes).
WORKERS_HELP = (
    "Processes for independent parts of the campaign (e.g. a potential and its transport "
    "beside the surfaces and interfaces); default: one per part, at most one per core. "
    "1 runs every entry in file order."
)
WORKERS = number(minimum=1, maximum=1024, integer=True)


@app.command("run")
def run_campaign(
    campaign_file: Path = typer.Argument(..., help="Campaign YAML (see workflows/)."),
    workers: int | None = typer.Option(None, "--workers", help=WORKERS_HELP, callback=WORKERS),
) -> None:
    """Run every stage of a campaign here, in order; store, build and summarise."""
    from interfacial.campaign import run_file

    result = run_file(campaign_file, say=say, workers=workers)
    name = result.campaign.name
    campaign_tables(
        result,
        {
            "surfaces": f"Surface energies ({name})",
            "interfaces": f"Interfaces ({name})",
            "diffusion": f"Tracer diffusivities ({name})",
            "arrhenius": f"Arrhenius fits ({name})",
        },
    )


@app.command()
def submit(
    campaign_file: Path = typer.Argument(..., help="Campaign YAML (see workflows/)."),
    launchpad: Path | None = typer.Option(
        None,
        "--launchpad",
        help="my_launchpad.yaml (default: FireWorks' configuration, else the embedded one).",
    ),
) -> None:
    """Add a campaign to a FireWorks LaunchPad; workers run it with their own jobflow.yaml."""
    from interfacial.campaign import submit_file

    campaign, added = submit_file(campaign_file, launchpad)
    for item in added:
        typer.echo(
            f"added {item['stage']} workflow '{item['flow']}' with {item['fireworks']} "
            f"firework(s), category '{item['category']}'"
        )
    typer.echo(
        f"{len(added)} workflow(s) of campaign '{campaign.name}'; run them with "
        "`interfacial-rlaunch rapidfire` (or `qlaunch rapidfire`) on workers of those categories"
    )


@app.command()
def status(
    campaign: str = typer.Argument(
        ..., help="Campaign YAML, or the name of a campaign already submitted."
    ),
    launchpad: Path | None = typer.Option(
        None,
        "--launchpad",
        help="my_launchpad.yaml (default: FireWorks' configuration, else the embedded one).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    rerun_fizzled: bool = typer.Option(
        False, "--rerun-fizzled", help="Rerun every fizzled Firework (FireWorks' rerun_fw)."
    ),
) -> None:
    """Fireworks of a submitted campaign per stage and entry, errors and stored results."""
    from interfacial.campaign.status import status as campaign_status

    result = campaign_status(campaign, launchpad, rerun=rerun_fizzled).as_dict()
    if as_json:
        print_json(result)
    else:
        campaign_status_table(result)


@app.command()
def demo(
    out: Path = typer.Option(Path("interfacial-report"), "--out", help="Directory for figures."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan (the shipped demo campaign) and run nothing."
    ),
    workers: int | None = typer.Option(None, "--workers", help=WORKERS_HELP, callback=WORKERS),
) -> None:
    """Run the main job on the embedded default: surfaces, Li interfaces, an MTP, transport.

    The plan is the campaign file workflows/demo.yaml, shipped inside the package.
    """
    from interfacial.campaign import demo_file, load_campaign, run_demo

    if dry_run:
        lines = load_campaign(demo_file()).describe()
        typer.echo(f"plan of {demo_file()}")
        for line in lines:
            typer.echo(line)
        return
    from interfacial.settings import get_settings
    from interfacial.validation import check_output_directory

    check_output_directory(out, "--out")  # before the first progress line
    say(f"interfacial demo; database in {get_settings().data_dir.resolve()}")
    result = run_demo(out, say=say, workers=workers)
    campaign_tables(
        result,
        {
            "surfaces": "Surface energies (demo)",
            "interfaces": "Interfaces (demo: thin slabs, small models)",
            "diffusion": "Tracer diffusivities (demo: short runs, small cell)",
            "arrhenius": "Arrhenius fits (demo)",
        },
    )
    for path in result.report:
        typer.echo(f"wrote {path}")
    typer.echo(
        f"{result.stored_surfaces} surface documents in the database; `interfacial query "
        "surfaces`, `interfacial query interfaces`"
    )
