"""Figures people would rather look at than tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on clusters or in CI
    import matplotlib.pyplot as plt

    return plt


def wulff_figure(material_doc: dict[str, Any], path: Path) -> Path:
    """Write the Wulff shape of a material document (SurfaceMaterialDocument) to a PNG."""
    from pymatgen.analysis.wulff import WulffShape
    from pymatgen.core import Lattice

    plt = _pyplot()
    facets = material_doc["facets"]
    shape = WulffShape(
        Lattice(material_doc["lattice"]),
        [tuple(f["miller_index"]) for f in facets],
        [f["surface_energy"] for f in facets],
    )
    ax = shape.get_plot(bar_on=False, legend_on=True, aspect_ratio=(7, 7))
    fig = ax.get_figure()
    listing = ", ".join(
        f"({''.join(map(str, f['miller_index']))}) {f['surface_energy']:.3f} J/m$^2$"
        f" [{100 * f['area_fraction']:.0f}%]"
        for f in sorted(facets, key=lambda f: f["surface_energy"])
    )
    fig.suptitle(
        f"{material_doc['material']} ({material_doc['calculator']}): weighted gamma "
        f"{material_doc['weighted_surface_energy']:.3f} J/m$^2$\n{listing}",
        fontsize=9,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _interface_label(doc: dict[str, Any]) -> str:
    metal = "".join(map(str, doc["metal_miller"]))
    compound = "".join(map(str, doc["compound_miller"]))
    return f"{doc['metal']}({metal})\n{doc['compound']}({compound})"


def adhesion_bars(docs: list[dict[str, Any]], path: Path) -> Path:
    """Grouped bars of E_f, sigma and W_adhesion (J/m^2) per interface, one panel per metal.

    ``docs`` are interface documents, one per interface (the lowest-energy model). A dashed line
    marks each interface's 2 gamma_metal (the wetting condition W > 2 gamma_metal).
    """
    import numpy as np

    plt = _pyplot()
    metals = sorted({d["metal"] for d in docs})
    fig, axes = plt.subplots(
        1, len(metals), figsize=(1.0 + 2.2 * max(len(docs), 2), 4.2), squeeze=False
    )
    quantities = (("E_f", "E$_f$"), ("sigma", r"$\sigma$"), ("W_adhesion", "W$_{ad}$ (Eq. 4)"))
    for ax, metal in zip(axes[0], metals, strict=True):
        group = sorted((d for d in docs if d["metal"] == metal), key=_interface_label)
        x = np.arange(len(group))
        width = 0.8 / len(quantities)
        for i, (key, label) in enumerate(quantities):
            ax.bar(x + (i - 1) * width, [d[key] for d in group], width, label=label)
        for xi, d in zip(x, group, strict=True):
            ax.hlines(2 * d["gamma_metal"], xi - 0.45, xi + 0.45, colors="k", linestyles="--")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(x, [_interface_label(d) for d in group], fontsize=8)
        ax.set_ylabel("J/m$^2$")
        ax.set_title(f"{metal} interfaces ({group[0]['calculator']}); dashes: 2$\\gamma_{{metal}}$")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def interface_figure(structure: Any, title: str) -> Any:
    """Side view of a periodic interface model (normal up), seen along its in-plane b axis.

    Ions of the metal's element are coloured by origin (site property ``region``: the metal's
    and the compound's, :data:`interfacial.palette.ORIGIN_COLOURS`, the colours of the "Li
    metal" and "Li compound" MSD groups); other atoms keep their element colours. The legend
    names every colour. Returns the matplotlib figure (the caller saves and closes it).
    """
    from ase.visualize.plot import plot_atoms
    from matplotlib.lines import Line2D
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.palette import site_colours

    plt = _pyplot()
    atoms = AseAtomsAdaptor.get_atoms(structure)
    colours, legend = site_colours(
        [site.specie.symbol for site in structure], structure.site_properties.get("region")
    )
    fig, ax = plt.subplots(figsize=(4.5, 7))
    plot_atoms(atoms, ax, rotation="-90x", radii=0.5, colors=colours)
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    handles = [
        Line2D([], [], ls="", marker="o", ms=8, mfc=colour, mec="k", mew=0.5, label=label)
        for label, colour in legend.items()
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(len(handles), 3),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    return fig


def interface_picture(structure: Any, title: str, path: Path) -> Path:
    """Write :func:`interface_figure` of an interface model to a PNG."""
    return _save(interface_figure(structure, title), path, dpi=110)


def _save(fig: Any, path: Path, dpi: int) -> Path:
    """Write ``fig`` to ``path`` (legends outside the axes included) and close it."""
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def parity_plot(system: str, parity: dict[str, dict[str, list[float]]], path: Path) -> Path:
    """Parity of a fitted potential: energy per atom (meV/atom) and force components (meV/A).

    ``parity`` maps a set name ('train', '300 K', ...) to reference and predicted values, as
    stored with each fit (eV/atom, eV/A); each set has its colour and its RMSE in the legend.
    """
    import numpy as np

    plt = _pyplot()
    fig, (ax_e, ax_f) = plt.subplots(1, 2, figsize=(9, 4.2))
    for name, values in parity.items():
        e_ref, e_pred = np.array(values["energy_reference"]), np.array(values["energy_predicted"])
        f_ref, f_pred = np.array(values["force_reference"]), np.array(values["force_predicted"])
        e_rmse = 1000 * float(np.sqrt(np.mean((e_pred - e_ref) ** 2)))
        f_rmse = 1000 * float(np.sqrt(np.mean((f_pred - f_ref) ** 2)))
        ax_e.scatter(e_ref, e_pred, s=8, label=f"{name}: {e_rmse:.1f} meV/atom")
        ax_f.scatter(f_ref, f_pred, s=2, alpha=0.5, label=f"{name}: {f_rmse:.0f} meV/A")
    for ax, unit in ((ax_e, "energy (eV/atom)"), (ax_f, "force component (eV/A)")):
        low, high = ax.get_xlim()
        ax.plot([low, high], [low, high], color="k", linewidth=0.8)
        ax.set_xlabel(f"reference {unit}")
        ax.set_ylabel(f"MTP {unit}")
        ax.legend(fontsize=8)
    fig.suptitle(f"MTP fit: {system}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def safe_filename(text: str) -> str:
    """``text`` with anything but letters, digits, - _ . replaced by _ (for file names)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def msd_plot(doc: dict[str, Any]) -> Any:
    """MSD vs lag time per group (in-plane, out-of-plane and total panels), fitted lines.

    ``doc`` is a DiffusionDocument as a dict; the shaded band is the fit window of each group.
    Groups by origin ("Li metal", "Li compound") take the colours of the model pictures
    (:func:`interfacial.palette.group_colours`). Returns the figure.
    """
    from interfacial.palette import group_colours

    plt = _pyplot()
    components = ("in-plane", "out-of-plane", "total")
    fig, axes = plt.subplots(1, len(components), figsize=(12, 3.8), sharex=True)
    lags = doc["msd"]["lag_times"]
    fits = {(r["group"], r["component"]): r for r in doc["diffusivities"]}
    colours = group_colours(g["group"] for g in doc["msd"]["groups"])
    for ax, comp in zip(axes, components, strict=True):
        for group in doc["msd"]["groups"]:
            if comp not in group["msd"]:
                continue
            colour = colours[group["group"]]
            ax.plot(lags, group["msd"][comp], color=colour, lw=1.2, label=group["group"])
            fit = fits.get((group["group"], comp))
            if fit is None:
                continue
            t0, t1 = fit["fit_window"]
            slope = 2 * fit["dimension"] * fit["D"] * 1e4  # A^2/ps
            ax.plot(
                [t0, t1],
                [fit["intercept"] + slope * t0, fit["intercept"] + slope * t1],
                color=colour,
                ls="--",
                lw=1.0,
            )
            ax.axvspan(t0, t1, color="0.92", zorder=-1)
        ax.set_title(comp, fontsize=10)
        ax.set_xlabel("lag time (ps)")
    axes[0].set_ylabel(r"MSD ($\AA^2$)")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"{doc['system']} at {doc['temperature']:g} K: MSD (drift removed), GLS fit (dashed) "
        "over the shaded window",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def msd_figure(doc: dict[str, Any], path: Path) -> Path:
    """Write :func:`msd_plot` of a DiffusionDocument (dict) to a PNG."""
    return _save(msd_plot(doc), path, dpi=130)


def arrhenius_figure(system: str, fits: list[dict[str, Any]], path: Path) -> Path:
    """log10 D* vs 1000/T with GLS error bars and the weighted fit, Ea annotated, per group.

    ``fits`` are ArrheniusDocuments (dicts) of one system and potential; one panel per
    component (in-plane, out-of-plane, total). Temperatures left out of a fit (caged, run too
    short) are drawn greyed: a caged one as a downward triangle at its upper bound D_upper, any
    other as a circle at its D* when positive, both with a grey face and an edge in the group's
    colour (:func:`interfacial.palette.group_colours`); the legend says what they are.
    """
    import numpy as np

    from interfacial.palette import group_colours

    plt = _pyplot()
    components = [
        c for c in ("in-plane", "out-of-plane", "total") if any(f["component"] == c for f in fits)
    ]
    fig, axes = plt.subplots(
        1, max(len(components), 1), figsize=(4.2 * max(len(components), 1), 3.8), squeeze=False
    )
    colours = group_colours(sorted({f["group"] for f in fits}))
    for ax, comp in zip(axes[0], components, strict=False):
        shown_caged = shown_short = False
        for fit in sorted((f for f in fits if f["component"] == comp), key=lambda f: f["group"]):
            colour = colours[fit["group"]]
            label = fit["group"]
            if fit["temperatures"]:
                inv_t = 1000.0 / np.asarray(fit["temperatures"])
                d = np.asarray(fit["D"])
                sd = np.asarray(fit["sigma_D"])
                # Error bars of log10 D, first order, clipped to stay drawable on a log axis.
                lower = np.minimum(sd, 0.999 * d)
                ax.errorbar(inv_t, d, yerr=[lower, sd], fmt="o", color=colour, ms=4, capsize=2)
            if fit.get("Ea") is not None:
                grid = np.linspace(inv_t.min(), inv_t.max(), 50)
                kb = 8.617333262e-2  # meV/K
                ax.plot(
                    grid, fit["D0"] * np.exp(-fit["Ea"] * grid / (1000.0 * kb)), color=colour, lw=1
                )
                label += f": Ea = {fit['Ea']:.0f} ± {fit['sigma_Ea']:.0f} meV"
            elif fit.get("D_upper") is not None:
                label += f": no fit, D* < {fit['D_upper']:.1e}"
            ax.plot([], [], color=colour, marker="o", ls="-", label=label)
            for x in fit.get("excluded", []):
                at = 1000.0 / x["temperature"]
                # Greyed (grey face), the edge in the group's colour says whose point it is.
                if x.get("status") == "caged" and x.get("D_upper"):
                    ax.plot(at, x["D_upper"], "v", mfc="0.8", mec=colour, ms=6, ls="none")
                    shown_caged = True
                elif x.get("D", 0) > 0:
                    ax.plot(at, x["D"], "o", mfc="0.8", mec=colour, ms=5, ls="none")
                    shown_short = True
        if shown_caged:
            ax.plot([], [], "v", mfc="0.8", mec="0.4", ls="none", label="caged: D* below")
        if shown_short:
            ax.plot([], [], "o", mfc="0.8", mec="0.4", ls="none", label="too short: left out")
        ax.set_yscale("log")
        ax.set_xlabel("1000 / T (1/K)")
        ax.set_title(comp, fontsize=10)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(r"D* (cm$^2$/s)")
    fig.suptitle(
        f"{system}: Arrhenius plot over diffusive temperatures (GLS errors, data covariance); "
        "grey: left out",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def anisotropy_plot(docs: list[dict[str, Any]]) -> Any:
    """In-plane vs out-of-plane D* per group and temperature (bars with GLS errors).

    Only out-of-plane transport crosses an interface: the pair of bars shows whether ions move
    along the interface (filled) or through it (hatched). Each group has its colour, the
    origin groups those of the model pictures (:func:`interfacial.palette.group_colours`).
    Returns the figure.
    """
    import numpy as np
    from matplotlib.patches import Patch

    from interfacial.palette import group_colours

    plt = _pyplot()
    rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    for doc in sorted(docs, key=lambda d: (d["system"], d["temperature"])):
        fits = {(r["group"], r["component"]): r for r in doc["diffusivities"]}
        for group in [g["group"] for g in doc["msd"]["groups"]]:
            if (group, "in-plane") in fits and (group, "out-of-plane") in fits:
                rows.append(
                    (
                        f"{doc['system']}\n{group}, {doc['temperature']:g} K",
                        group,
                        fits[group, "in-plane"],
                        fits[group, "out-of-plane"],
                    )
                )
    colours = group_colours(r[1] for r in rows)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) + 2), 4))
    x = np.arange(len(rows))
    bar_colours = [colours[r[1]] for r in rows]
    in_plane = [r[2] for r in rows]
    out_of_plane = [r[3] for r in rows]
    for offset, picked, hatch in ((-0.2, in_plane, None), (0.2, out_of_plane, "//")):
        ax.bar(
            x + offset,
            [p["D"] for p in picked],
            0.4,
            yerr=[p["sigma_D"] for p in picked],
            capsize=2,
            color="white" if hatch else bar_colours,
            edgecolor=bar_colours,
            hatch=hatch,
        )
    handles = [Patch(facecolor=colour, label=group) for group, colour in colours.items()]
    handles += [
        Patch(facecolor="0.6", edgecolor="0.3", label="in-plane"),
        Patch(facecolor="white", edgecolor="0.3", hatch="//", label="out-of-plane"),
    ]
    ax.set_xticks(x, [r[0] for r in rows], fontsize=7, rotation=30, ha="right")
    ax.set_ylabel(r"D* (cm$^2$/s)")
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(handles=handles, fontsize=8)
    ax.set_title("In-plane vs out-of-plane tracer diffusivity", fontsize=10)
    fig.tight_layout()
    return fig


def anisotropy_bars(docs: list[dict[str, Any]], path: Path) -> Path:
    """Write :func:`anisotropy_plot` of DiffusionDocuments (dicts) to a PNG."""
    return _save(anisotropy_plot(docs), path, dpi=130)


def _screened(doc: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(candidate, best tier result) of a screening, grouped by product, by W within a group.

    Products in the document's order; within a product the refined candidates first (by their
    refined W), then the pre-screen-only ones (by their pre-screen W): W of two tiers, often of
    two calculators, are not ranked against each other. Candidates with no result are left out.
    """
    order = {p["label"]: i for i, p in enumerate(doc["products"])}
    rows = [(c, c.get("refine") or c.get("prescreen")) for c in doc["candidates"]]
    kept = [(c, best) for c, best in rows if best is not None]
    return sorted(
        kept,
        key=lambda r: (
            order.get(r[0]["product"], len(order)),
            r[0].get("refine") is None,
            -r[1]["W_adhesion"],
        ),
    )


def screening_plot(doc: dict[str, Any]) -> Any:
    """W_adhesion (Eq. 4) of every candidate of a screening (the study's Figure 2, per metal).

    ``doc`` is a ScreeningDocument (dict). Bars are grouped by product and sorted by W within a
    group (refined candidates first, see :func:`_screened`), each product in its colour
    (:func:`interfacial.palette.group_colours`); a refined candidate's bar (W of the refine tier) is
    hatched with a black edge, a pre-screen-only bar plain. The wetting condition W > 2 gamma_metal
    (Young-Dupre) is drawn at 2 gamma_metal of each candidate's metal facet on its tier: one dashed
    line across the axes when every candidate shares the value, a short dash over each bar
    otherwise. Dominant candidates (the largest W of their product) are labelled. Returns the
    figure.
    """
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from interfacial.palette import group_colours

    plt = _pyplot()
    rows = _screened(doc)
    colours = group_colours(p["label"] for p in doc["products"])
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(rows) + 2.5), 5.0))
    x = np.arange(len(rows))
    for xi, (c, best) in zip(x, rows, strict=True):
        refined = c.get("refine") is not None
        (bar,) = ax.bar(
            xi,
            best["W_adhesion"],
            0.8,
            color=colours[c["product"]],
            edgecolor="k" if refined else colours[c["product"]],
            linewidth=1.0 if refined else 0.5,
            hatch="//" if refined else None,
        )
        bar.set_gid(c["candidate_id"])  # which bar is which, for readers of the figure
    wetting = [2 * best["gamma_metal"] for _, best in rows]
    wet_label = r"wetting: W > 2$\gamma_{metal}$"
    if rows and max(wetting) - min(wetting) < 1e-6:
        ax.axhline(wetting[0], color="k", linestyle="--", linewidth=1.0, label=wet_label)
        wet_handle = Line2D([], [], color="k", linestyle="--", label=wet_label)
    else:
        for xi, level in zip(x, wetting, strict=True):
            ax.hlines(level, xi - 0.45, xi + 0.45, colors="k", linestyles="--", linewidth=1.0)
        wet_handle = Line2D([], [], color="k", linestyle="--", label=wet_label + " (per bar)")
    dominant = set(doc.get("dominant", {}).values())
    for xi, (c, best) in zip(x, rows, strict=True):
        if c["candidate_id"] in dominant:
            top = max(best["W_adhesion"], 0.0)
            ax.annotate(
                "dominant",
                (xi, top),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                rotation=90,
            )
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [c["candidate_id"] for c, _ in rows], fontsize=6, rotation=90)
    ax.set_ylabel(r"W$_{ad}$ (Eq. 4, J/m$^2$)")
    refine_name = doc.get("refine_calculator") or doc["calculator"]
    handles: list[Any] = [
        Patch(facecolor=colours[p["label"]], label=p["label"]) for p in doc["products"]
    ]
    handles += [
        Patch(facecolor="white", edgecolor="k", hatch="//", label=f"refined ({refine_name})"),
        Patch(facecolor="0.7", edgecolor="0.7", label=f"pre-screen only ({doc['calculator']})"),
        wet_handle,
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    # Room above the bars and the wetting marks for the "dominant" labels.
    values = [best["W_adhesion"] for _, best in rows] + wetting + [0.0]
    ax.set_ylim(min(values) * 1.1, max(values) * 1.3 + 0.05)
    left_out = len(doc["candidates"]) - len(rows)
    ax.set_title(
        f"{doc['electrolyte']} against {doc['metal']}: {doc['reaction']}\n"
        f"W of {len(rows)} candidates (best tier)"
        + (f"; {left_out} without a result not shown" if left_out else ""),
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def screening_figure(doc: dict[str, Any], path: Path) -> Path:
    """Write :func:`screening_plot` of a ScreeningDocument (dict) to a PNG."""
    return _save(screening_plot(doc), path, dpi=130)


def product_fractions_plot(doc: dict[str, Any]) -> Any:
    """Molar and volume fractions of the reduction products of a screening (grouped bars).

    Molar fraction = coefficient / sum of the products' coefficients; volume fraction = share
    of the products' bulk volume. Plain bars molar, hatched bars volume (absent where the
    document has none), each product in its colour of :func:`screening_plot`. Returns the
    figure.
    """
    import numpy as np
    from matplotlib.patches import Patch

    from interfacial.palette import group_colours

    plt = _pyplot()
    products = doc["products"]
    colours = group_colours(p["label"] for p in products)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.3 * len(products) + 2), 3.8))
    x = np.arange(len(products))
    for xi, p in zip(x, products, strict=True):
        colour = colours[p["label"]]
        (molar,) = ax.bar(xi - 0.2, p["molar_fraction"], 0.4, color=colour)
        molar.set_gid(f"molar {p['label']}")
        if p.get("volume_fraction") is not None:
            (volume,) = ax.bar(
                xi + 0.2, p["volume_fraction"], 0.4, color="white", edgecolor=colour, hatch="//"
            )
            volume.set_gid(f"volume {p['label']}")
    ax.set_xticks(x, [p["label"] for p in products])
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of the products")
    ax.legend(
        handles=[
            Patch(facecolor="0.6", label="molar"),
            Patch(facecolor="white", edgecolor="0.3", hatch="//", label="volume"),
        ],
        fontsize=8,
    )
    ax.set_title(doc["reaction"], fontsize=9)
    fig.tight_layout()
    return fig


def product_fractions_figure(doc: dict[str, Any], path: Path) -> Path:
    """Write :func:`product_fractions_plot` of a ScreeningDocument (dict) to a PNG."""
    return _save(product_fractions_plot(doc), path, dpi=130)
