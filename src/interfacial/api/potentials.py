"""Potentials: learning an MTP here (reference MD, fit, active learning), fits of labelled sets.

Every function validates its input completely before it opens a store, so bad input writes
nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from interfacial import engines
from interfacial.api.results import run_directory
from interfacial.api.transport import load_md_structure
from interfacial.conventions import system_name
from interfacial.errors import InterfacialError
from interfacial.schemas.roles import Role, role_filter
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import check_writable, get_job_store


def learn_potential(
    structure: str | Path,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    calculator: str | None = None,
    reference: dict[str, Any] | None = None,
    fit: dict[str, Any] | None = None,
    **learn_kwargs: Any,
) -> dict[str, Any]:
    """Reference MD, MTP fit, validation and active learning, run here.

    ``calculator`` (default ``settings.calculator``) is the reference calculator engine;
    ``reference`` and ``fit`` are keyword arguments of its reference-MD maker and fit maker
    (CHGNet: ForceFieldReferenceMDMaker and MotepFitMaker); the rest go to its
    LearnPotentialMaker. Returns the active-learning output: ``rounds`` (one summary per round)
    and ``final_fit`` (the last fit's document).
    """
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    engine = engines.calculator(calculator or settings.calculator)
    bulk, label = load_md_structure(structure, settings)
    maker = engine.learn_potential_maker(settings, reference=reference, fit=fit, **learn_kwargs)
    if maker.reference_md_maker is not None:
        label = system_name(label, getattr(maker.reference_md_maker, "vacancy_element", None))
    with warnings.catch_warnings():
        # Cells with charge-compensated vacancies carry a charge on purpose.
        warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
        flow = maker.make(bulk, label)
    engine.check_can_run_locally(settings)
    check_writable(settings)
    store = get_job_store(settings)
    run_flow(flow, store, run_directory(settings), show_progress=show_progress)
    store.connect()
    try:
        learning = [
            d
            for d in store.query(role_filter(Role.ACTIVE_LEARNING))
            if d["hosts"]
            and flow.uuid in d["hosts"]
            and isinstance(d.get("output"), dict)
            and "rounds" in d["output"]
        ]
    finally:
        store.close()
    if not learning:
        raise InterfacialError("the potential flow finished without an active-learning result")
    return learning[-1]["output"]


def stored_training_sets(
    system: str, settings: InterfacialSettings | None = None
) -> tuple[str, dict[str, str], list[str]]:
    """Training and validation sets of the newest stored reference MD of ``system``.

    The validation runs are those of the same flow as the newest training run.

    Returns
    -------
    tuple
        Training set (.cfg text), validation sets by name (.cfg texts), species order.

    Raises
    ------
    InterfacialError
        When no training run of ``system`` is stored (the message lists the stored systems).

    """
    from interfacial.jobs.potential import make_training_sets
    from interfacial.schemas.roles import ReferenceMDKeys, read_keys

    settings = settings or get_settings()
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


def training_text(
    path: Path, species: list[str] | None, *, what: str = "training set"
) -> tuple[str, list[str]]:
    """A labelled set as .cfg text and its species order, checked configuration by configuration.

    An MLIP .cfg file numbers its atom types, so it needs ``species`` (the element of each type,
    in type order); other formats are read with ASE and default to the species ordered by
    electronegativity. Every configuration must carry a finite energy (eV) and forces (eV/A)
    (and stress, if given) and only elements of the species order: an error names ``what``, the
    file, the configuration (from 1) and the field.
    """
    import tempfile

    from interfacial.conventions import species_order
    from interfacial.mtp.cfg import check_species_order, check_training_set, read_cfg, write_cfg
    from interfacial.validation import check_input_file

    path = check_input_file(path, what)
    if path.stat().st_size == 0:
        raise InterfacialError(
            f"{what} {path} is empty; give labelled configurations (energy and forces)"
        )
    text: str | None = None
    if path.suffix == ".cfg":
        if not species:
            raise InterfacialError(
                f"{path} is an MLIP .cfg file, whose atom types are numbers: give --species "
                "in the order of the types, e.g. --species Li,S"
            )
        frames = read_cfg(path, species)  # its errors name the file and the line
        text = path.read_text(encoding="utf-8")
    else:
        from ase.io import read

        try:
            read_frames = read(path, index=":")
        except Exception as exc:  # ASE raises many types for unreadable files
            raise InterfacialError(
                f"cannot read configurations from {what} {path} ({type(exc).__name__}: {exc}); "
                "give an extxyz, ASE .traj or MLIP .cfg file"
            ) from None
        frames = read_frames if isinstance(read_frames, list) else [read_frames]
    order = check_species_order(
        species or species_order({s for atoms in frames for s in atoms.get_chemical_symbols()})
    )
    # A validation set may hold a single configuration; a training set needs a few.
    check_training_set(frames, order, f"{what} {path}", minimum=2 if what == "training set" else 1)
    if text is None:
        with tempfile.TemporaryDirectory() as folder:
            text = write_cfg(frames, Path(folder) / "set.cfg", order).read_text()
    return text, order


def fit_mtp(
    training: str | Path,
    *,
    validation: list[Path] | None = None,
    level: int = 10,
    engine: str = "motep",
    species: list[str] | None = None,
    max_training: int | None = None,
    max_iter: int | None = None,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Fit a moment tensor potential on a labelled set; store it with its errors.

    Parameters
    ----------
    training : str or Path
        A labelled training set (.cfg with ``species``; .extxyz, .traj, ... read by ASE), or
        ``store:SYSTEM``: the newest stored reference MD of SYSTEM, its validation runs too.
        The potential is stored under SYSTEM, or the file's stem.
    validation : list of Path, optional
        Further labelled validation sets, each reported under its file's stem.
    level : int
        MTP level (lev_max).
    engine : str
        Fit engine: "motep" (embedded) or "mlp".
    species : list of str, optional
        Species order (required for .cfg input).
    max_training : int, optional
        Subsample the training set to this many configurations.
    max_iter : int, optional
        Optimiser iterations (motep).
    settings : InterfacialSettings, optional
        Settings (database, engine commands); the global ones by default.
    show_progress : bool
        Progress on stderr.

    Returns
    -------
    dict
        The fit document's output without the potential and the parity data: engine, level,
        species order, potential sha256, training and validation errors (meV/atom, meV/A).

    """
    from jobflow import Flow

    from interfacial.flows.mtp import MTPFitMaker
    from interfacial.jobs.mtp import configurations_from_cfg
    from interfacial.mtp.cfg import check_labels, check_training_set
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    text = str(training)
    order = species
    if text.startswith("store:"):
        system = text.removeprefix("store:")
        train_text, validation_text, order = stored_training_sets(system, settings)
        source = f"the stored reference MD training set of {system}"
        for label, cfg in validation_text.items():
            check_labels(
                configurations_from_cfg(cfg, order, f"stored validation set {label}"),
                f"the stored validation set {label} of {system}",
            )
    else:
        system = Path(text).stem
        train_text, order = training_text(Path(text), order)
        validation_text = {}
        source = text
    validation_text |= {
        p.stem: training_text(p, order, what="validation set")[0] for p in validation or []
    }
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
    check_training_set(configurations_from_cfg(train_text, order, source), order, source)
    fit = maker.make(train_text, order, system, validation_text)
    check_writable(settings)
    store = get_job_store(settings)
    run_flow(Flow([fit]), store, run_directory(settings), show_progress=show_progress)
    store.connect()
    try:
        doc = store.query_one({"uuid": fit.uuid}, sort={"index": -1})
    finally:
        store.close()
    if doc is None:
        raise InterfacialError("the fit finished but its document is not in the store")
    return {k: v for k, v in doc["output"].items() if k not in ("potential", "parity")}
