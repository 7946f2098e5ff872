"""Figures by origin: model pictures, MSD curves and D* bars share the colours of Li+ by origin.

The matplotlib objects are inspected (patch and line colours, legend entries), not pixels.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")

import pytest
from ase.data import atomic_numbers
from ase.data.colors import jmol_colors
from matplotlib.colors import to_hex
from matplotlib.patches import Circle, Rectangle
from pymatgen.core import Structure

from interfacial.palette import (
    ORIGIN_COLOURS,
    OTHER_COLOURS,
    group_colours,
    origin_of_group,
    site_colours,
)
from interfacial.plots import (
    anisotropy_bars,
    anisotropy_plot,
    interface_figure,
    interface_picture,
    msd_figure,
    msd_plot,
)
from interfacial.structures.interfaces import build_interface_models
from interfacial.structures.library import load_structure
from interfacial.structures.matching import find_matches

METAL = to_hex(ORIGIN_COLOURS["metal"])
COMPOUND = to_hex(ORIGIN_COLOURS["compound"])


def jmol(symbol: str) -> str:
    """ASE's default (Jmol) colour of an element, read from ASE itself."""
    return to_hex(jmol_colors[atomic_numbers[symbol]])


@pytest.fixture(scope="module")
def model() -> Structure:
    """A real Li(110) | Li2S(110) model from the interface builder (site property region)."""
    metal, compound = load_structure("Li"), load_structure("Li2S")
    candidate = find_matches(metal, compound, (1, 1, 0), (1, 1, 0), max_area=30)[0]
    thin = {"metal_thickness": 6.0, "compound_thickness": 6.0}
    return build_interface_models(metal, compound, candidate, registries=[(0, 0)], **thin)[
        0
    ].structure


def population(structure: Structure) -> Counter:
    """Sites per (element, region) of a model: the oracle the figure is checked against."""
    return Counter(
        (site.specie.symbol, region)
        for site, region in zip(structure, structure.site_properties["region"], strict=True)
    )


# --------------------------------------------------------------------------------- palette


def test_origin_colours_are_distinct_and_not_reused_by_other_groups():
    assert METAL != COMPOUND
    assert {METAL, COMPOUND}.isdisjoint(to_hex(c) for c in OTHER_COLOURS)
    # ... nor an element colour of the study's atoms in the pictures.
    assert {METAL, COMPOUND}.isdisjoint(jmol(s) for s in ("Li", "Na", "S", "P", "Cl"))


@pytest.mark.parametrize(
    ("group", "origin"),
    [
        ("Li metal", "metal"),
        ("Li compound", "compound"),
        ("Na metal", "metal"),
        ("Li", None),
        ("S", None),
        ("metal", None),
        ("top", None),
        ("Li interface", None),
    ],
)
def test_origin_of_group(group, origin):
    assert origin_of_group(group) == origin


def test_group_colours_origin_fixed_others_in_turn_whatever_the_order():
    a = group_colours(["Li", "S", "Li metal", "Li compound"])
    b = group_colours(["Li compound", "Li metal", "S", "Li", "top"])
    assert a["Li metal"] == b["Li metal"] == METAL
    assert a["Li compound"] == b["Li compound"] == COMPOUND
    assert a["Li"] != a["S"]
    assert len(set(b.values())) == 5


def test_site_colours_split_the_metal_element_by_region_only():
    symbols = ["Li", "Li", "Li", "S", "Li", "Cl"]
    regions = ["metal", "metal", "compound", "compound", "compound", "compound"]
    colours, legend = site_colours(symbols, regions)
    assert colours == [METAL, METAL, COMPOUND, jmol("S"), COMPOUND, jmol("Cl")]
    assert list(legend) == ["Li metal", "Li compound", "S", "Cl"]
    # Without regions (a bulk cell) every atom keeps its element colour.
    plain, legend = site_colours(symbols)
    assert plain == [jmol(s) for s in symbols]
    assert list(legend) == ["Li", "S", "Cl"]


# ------------------------------------------------------------------------------ model picture


def test_picture_colours_li_by_origin_with_a_legend(model):
    counts = population(model)
    assert counts["Li", "metal"] > 0
    assert counts["Li", "compound"] > 0
    fig = interface_figure(model, "Li(110) | Li2S(110)")
    try:
        (ax,) = fig.axes
        circles = Counter(to_hex(p.get_facecolor()) for p in ax.patches if isinstance(p, Circle))
        # One disc per atom (ASE draws no periodic images here), coloured by population.
        assert sum(circles.values()) == len(model)
        assert circles[METAL] == counts["Li", "metal"]
        assert circles[COMPOUND] == counts["Li", "compound"]
        assert circles[jmol("S")] == counts["S", "compound"]
        assert circles[jmol("Li")] == 0  # no Li left in the plain element colour
        legend = ax.get_legend()
        assert legend is not None
        entries = {
            t.get_text(): to_hex(h.get_markerfacecolor())
            for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)
        }
        assert entries == {"Li metal": METAL, "Li compound": COMPOUND, "S": jmol("S")}
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_picture_file_is_written(model, tmp_path):
    path = interface_picture(model, "model", tmp_path / "pics" / "model.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------- MSD and D*


def _doc(groups: list[str], temperature: float = 800.0) -> dict[str, Any]:
    """A DiffusionDocument (dict) with straight MSDs: group k has D = (k + 1) 1e-6 cm^2/s."""
    lags = [0.1 * i for i in range(21)]
    records, curves = [], []
    for k, group in enumerate(groups):
        d = (k + 1) * 1e-6
        msd = {}
        for comp, dim in (("in-plane", 2), ("out-of-plane", 1), ("total", 3)):
            msd[comp] = [2 * dim * d * 1e4 * t for t in lags]
            records.append(
                {
                    "group": group,
                    "component": comp,
                    "dimension": dim,
                    "D": d,
                    "sigma_D": 0.1 * d,
                    "intercept": 0.0,
                    "fit_window": [0.4, 1.0],
                }
            )
        curves.append({"group": group, "msd": msd})
    return {
        "system": "Li(110)|Li2S(110)",
        "temperature": temperature,
        "msd": {"lag_times": lags, "groups": curves},
        "diffusivities": records,
    }


GROUPS = ["Li", "S", "Li metal", "Li compound"]


def test_msd_lines_of_li_by_origin_take_the_picture_colours(model):
    picture = interface_figure(model, "model")
    figure = msd_plot(_doc(GROUPS))
    try:
        handles = picture.axes[0].get_legend().legend_handles
        texts = [t.get_text() for t in picture.axes[0].get_legend().get_texts()]
        picture_colour = dict(
            zip(texts, (to_hex(h.get_markerfacecolor()) for h in handles), strict=True)
        )
        for ax in figure.axes:
            by_label = {
                line.get_label(): to_hex(line.get_color())
                for line in ax.get_lines()
                if not line.get_label().startswith("_")
            }
            assert set(by_label) == set(GROUPS)
            assert by_label["Li metal"] == picture_colour["Li metal"]
            assert by_label["Li compound"] == picture_colour["Li compound"]
            assert {by_label["Li"], by_label["S"]}.isdisjoint({METAL, COMPOUND})
            # The dashed fit line of a group has the colour of its curve.
            dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
            assert METAL in {to_hex(line.get_color()) for line in dashed}
        legend = figure.axes[0].get_legend()
        assert {t.get_text() for t in legend.get_texts()} == set(GROUPS)
    finally:
        import matplotlib.pyplot as plt

        plt.close(picture)
        plt.close(figure)


def test_anisotropy_bars_colour_groups_and_hatch_out_of_plane():
    docs = [_doc(GROUPS, 600.0), _doc(GROUPS, 800.0)]
    fig = anisotropy_plot(docs)
    try:
        (ax,) = fig.axes
        bars = [
            p for p in ax.patches if isinstance(p, Rectangle) and abs(p.get_width() - 0.4) < 1e-9
        ]
        assert len(bars) == 2 * len(GROUPS) * len(docs)
        filled = [b for b in bars if not b.get_hatch()]
        hatched = [b for b in bars if b.get_hatch()]
        assert len(filled) == len(hatched) == len(GROUPS) * len(docs)
        # Rows are (temperature, group) in document order: the group of bar i is GROUPS[i % 4].
        for i, bar in enumerate(filled):
            group = GROUPS[i % len(GROUPS)]
            colour = to_hex(bar.get_facecolor())
            if group == "Li metal":
                assert colour == METAL
            elif group == "Li compound":
                assert colour == COMPOUND
            else:
                assert colour not in {METAL, COMPOUND}
            assert to_hex(hatched[i].get_edgecolor()) == colour
            # Heights are the D* of the document: in-plane of group k is (k + 1) 1e-6.
            assert bar.get_height() == pytest.approx((i % len(GROUPS) + 1) * 1e-6)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == [*GROUPS, "in-plane", "out-of-plane"]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_msd_and_bar_files_are_written(tmp_path: Path):
    docs = [_doc(GROUPS)]
    for path in (
        msd_figure(docs[0], tmp_path / "msd.png"),
        anisotropy_bars(docs, tmp_path / "bars.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
