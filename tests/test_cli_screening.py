"""The screening funnel as users meet it: `screen`, `query screening`, the report, campaigns.

Stored screenings are hand-built documents (tests/screening_data.py) inserted into the derived
``screening`` collection: every expected order, mark and number below is read off those
hand-chosen values, not off the code's output. Charts are checked through their matplotlib
objects (bars, hatches, lines, texts), not pixels.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")

import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from typer.testing import CliRunner

from interfacial.cli import app
from interfacial.settings import InterfacialSettings
from screening_data import li6ps5cl, na3ps4, store_surfaces

runner = CliRunner()
WORKFLOWS = Path(__file__).parents[1] / "workflows"

#: Li6PS5Cl's candidates by product, in the order the hand-chosen W (best tier) puts them.
LI2S_BY_W = [
    "Li(110)t0-Li|Li2S(111)t0-Li2S#0",  # refined 0.42 (pre-screen 0.50)
    "Li(110)t0-Li|Li2S(110)t0-Li2S#0",  # refined 0.38 (pre-screen 0.55)
    "Li(100)t0-Li|Li2S(111)t0-Li2S#0",  # pre-screen only, 0.45: after the refined ones
]
LI3P_BY_W = ["Li(100)t0-Li|Li3P(001)t0-Li3P#0", "Li(110)t0-Li|Li3P(001)t0-Li3P#1"]
LICL_BY_W = ["Li(110)t0-Li|LiCl(100)t0-LiCl#0"]  # its (100)|(100) candidate failed
FAILED = "Li(100)t0-Li|LiCl(100)t0-LiCl#0"
#: Bars of the chart: products in the reaction's order (Li3P, Li2S, LiCl), by W within each.
CHART_ORDER = LI3P_BY_W + LI2S_BY_W + LICL_BY_W
CHART_W = [0.70, 0.40, 0.42, 0.38, 0.45, 0.05]


def insert(data_dir: Path, *docs: dict[str, Any]) -> None:
    """Store screening documents the way the screening builder does (key run_uuid)."""
    from interfacial.stores import SCREENING, derived_store

    store = derived_store(SCREENING, "run_uuid", InterfacialSettings(data_dir=data_dir))
    store.connect()
    try:
        store.update(
            [{**d, "run_uuid": f"run-{i}-{d['screening_id']}"} for i, d in enumerate(docs)],
            key="run_uuid",
        )
    finally:
        store.close()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(data))
    return data


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------- query screening


def rows_of(out: str, ids: list[str]) -> list[str]:
    """The table lines that hold one of ``ids``, in the order they are printed."""
    return [line for line in out.splitlines() if any(i in line for i in ids)]


def test_query_screening_ranks_candidates_by_w_with_their_marks(data_dir: Path) -> None:
    insert(data_dir, li6ps5cl())
    result = runner.invoke(app, ["query", "screening"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl" in out
    # One table per product: refined candidates by refined W, then pre-screen-only ones.
    for expected in (LI2S_BY_W, LI3P_BY_W, [*LICL_BY_W, FAILED]):
        rows = rows_of(out, expected)
        assert [next(i for i in expected if i in row) for row in rows[: len(expected)]] == expected
    li2s = rows_of(out, LI2S_BY_W)
    # The pre-screen's second is the refine tier's first: dominant (*), its two W side by side.
    assert li2s[0].split("│")[1].strip() == "*"
    assert "refine" in li2s[0] and "0.420" in li2s[0] and "0.500" in li2s[0]
    assert li2s[2].split("│")[1].strip() == "" and "prescreen" in li2s[2]
    # Li(100)||Li3P(001): W 0.70 > 2 x 0.329 wets; strong adhesion (> 0.7) it is not.
    (li3p,) = rows_of(out, LI3P_BY_W[:1])
    assert "wets" in li3p and "7.1%" in li3p
    (failed,) = rows_of(out, [FAILED])
    assert "relaxation did not converge" in failed
    # Molar fractions 1/7, 5/7, 1/7; LiCl's stability note.
    assert re.search(r"Li2S\s*│\s*S\s*│\s*5\s*│\s*71\.4%\s*│\s*74\.0%", out)
    assert "12 meV/atom above the hull" in out
    assert "Spearman rank correlation not computed: 2 candidate(s) on both tiers" in out
    assert f"  {LI2S_BY_W[0]}: largest W of Li2S" in out
    assert f"  {LI3P_BY_W[1]}: dominant mismatch 7.1 % > 5 %" in out
    assert "note: Li(111)|LiCl(110) skipped: no match within 15 %" in out
    assert "note: Li2S (100) polar (Tasker 3): reported, not paired" in out
    assert "refine tier: calculator CHGNet, metal_thickness 12, gaps [2, 2.5]" in out


def test_query_screening_json_is_the_stored_document(data_dir: Path) -> None:
    doc = li6ps5cl()
    insert(data_dir, doc)
    result = runner.invoke(app, ["query", "screening", "--json"])
    assert result.exit_code == 0, result.output
    (read,) = json.loads(result.stdout)
    assert read["screening_id"] == doc["screening_id"]
    assert [c["candidate_id"] for c in read["candidates"]] == [
        c["candidate_id"] for c in doc["candidates"]
    ]
    assert read["candidates"][1]["refine"]["W_adhesion"] == pytest.approx(0.42)
    assert read["dominant"] == doc["dominant"]


def test_query_screening_filters_by_electrolyte_and_metal(data_dir: Path) -> None:
    insert(data_dir, li6ps5cl(), na3ps4())
    na = runner.invoke(app, ["query", "screening", "--metal", "Na"])
    assert na.exit_code == 0, na.output
    assert "Na3PS4 + 8 Na -> Na3P + 4 Na2S" in na.stdout and "Li6PS5Cl" not in na.stdout
    li = runner.invoke(app, ["query", "screening", "--electrolyte", "Li6PS5Cl", "--json"])
    assert [d["electrolyte"] for d in json.loads(li.stdout)] == ["Li6PS5Cl"]
    none = runner.invoke(app, ["query", "screening", "--electrolyte", "Li3PS4"])
    assert none.exit_code == 0
    assert f"no screening of Li3PS4 stored yet in {data_dir.resolve()}" in none.stdout


def test_query_screening_on_a_fresh_directory_creates_nothing(data_dir: Path) -> None:
    result = runner.invoke(app, ["query", "screening"])
    assert result.exit_code == 0, result.output
    assert f"no screening stored yet in {data_dir.resolve()}" in result.stdout
    assert not data_dir.exists()


# ---------------------------------------------------------------------------- screen --dry-run


@pytest.mark.slow
def test_dry_run_plans_li6ps5cl_on_built_in_structures_and_stores_nothing(data_dir: Path) -> None:
    # ~60 s: the upper bound matches every facet pair of the four materials.
    data_dir.mkdir()
    before = snapshot(data_dir)
    result = runner.invoke(app, ["screen", "Li6PS5Cl", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "reaction: Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl" in out
    # Molar fractions of 1 Li3P + 5 Li2S + 1 LiCl: 1/7, 5/7, 1/7.
    for label, share in (("Li3P", "14.3%"), ("Li2S", "71.4%"), ("LiCl", "14.3%")):
        assert re.search(rf"^  {label}: {re.escape(share)}, ", out, re.M), label
    # Nothing stored: every material's facets are still to be computed, the count a bound.
    for material in ("Li", "Li3P", "Li2S", "LiCl"):
        assert re.search(rf"^  {material}: to be computed", out, re.M), material
    assert "candidates: at most " in out and "upper bound" in out
    assert "estimated cost: " in out
    assert out.rstrip().endswith("dry run: nothing was computed or stored")
    assert snapshot(data_dir) == before


#: A narrow screen: two products, one metal facet, two product facets (a dry run in seconds).
NARROW = [
    "screen",
    "Li3PS4",
    "--compounds",
    "Li2S,Li3P",
    "--metal-facets",
    "110",
    "--compound-facets",
    "111,001",
    "--dry-run",
]


def test_dry_run_json_has_the_plan_keys(data_dir: Path) -> None:
    result = runner.invoke(app, [*NARROW, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["reaction"] == "Li3PS4 + 8 Li -> Li3P + 4 Li2S"
    # 1 Li3P + 4 Li2S: molar fractions 1/5 and 4/5.
    assert {p["label"]: p["molar_fraction"] for p in plan["products"]} == pytest.approx(
        {"Li3P": 0.2, "Li2S": 0.8}
    )
    # Li2S has no (001) facet of its own but (001) is (100) of cubic Li2S: polar, no pair;
    # Li3P (001) and (111) and Li2S (111) on Li (110): at most three facet pairs.
    assert set(plan["pairs"]) <= {"Li(110)|Li3P(001)", "Li(110)|Li3P(111)", "Li(110)|Li2S(111)"}
    assert plan["exact"] is False and plan["n_candidates"] >= len(plan["pairs"]) >= 1
    assert all(v.startswith("to be computed") for v in plan["facets"].values())
    assert set(plan["estimated_cost"]) >= {"total_s", "basis"}
    assert plan["reused"] == []
    assert not data_dir.exists()


def test_dry_run_prints_the_narrow_plan(data_dir: Path) -> None:
    data_dir.mkdir()
    result = runner.invoke(app, NARROW)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "  Li3P: 20.0%, " in out and "  Li2S: 80.0%, " in out
    (li,) = [line for line in out.splitlines() if line.startswith("  Li: ")]
    assert li.startswith("  Li: to be computed") and "(110)" in li and "(100)" not in li
    assert "candidates: at most " in out
    assert out.rstrip().endswith("dry run: nothing was computed or stored")
    assert not any(data_dir.iterdir())


@pytest.fixture(scope="module")
def stored_surfaces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real CHGNet surfaces of Li, Li2S, Li3P, LiCl (index <= 1): copy before writing."""
    return store_surfaces(tmp_path_factory.mktemp("surfaces") / "data")


def test_dry_run_on_stored_surfaces_is_exact_and_reuses_them(
    stored_surfaces: Path, data_dir: Path
) -> None:
    shutil.copytree(stored_surfaces, data_dir)
    before = snapshot(data_dir)
    narrow = ["--compounds", "Li2S,Li3P", "--metal-facets", "110", "--compound-facets", "111"]
    result = runner.invoke(app, ["screen", "Li3PS4", *narrow, "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "reused from the database: Li, Li2S, Li3P" in out
    for material in ("Li", "Li3P", "Li2S"):
        assert re.search(rf"^  {material} \(stored surfaces reused\): \(", out, re.M), material
    # Li(110) on Li3P(111) and Li2S(111), each with its terminations, one cell per pair.
    (count,) = re.findall(r"^candidates: (\d+) \(exact", out, re.M)
    pairs = re.findall(r"^  Li\(110\)\S*\|(Li3P|Li2S)\(111\)\S*$", out, re.M)
    assert sorted(set(pairs)) == ["Li2S", "Li3P"]
    assert int(count) == len(pairs)
    assert "estimated cost: " in out and "surfaces 0 s" in out
    assert snapshot(data_dir) == before


def test_plan_lines_say_whether_the_count_is_exact() -> None:
    from interfacial.cli.render import screen_plan_lines

    plan: dict[str, Any] = {
        "reaction": "Li3PS4 + 8 Li -> Li3P + 4 Li2S",
        "products": [
            {"label": "Li3P", "element": "P", "molar_fraction": 0.2, "volume_fraction": 0.25},
            {"label": "Li2S", "element": "S", "molar_fraction": 0.8, "volume_fraction": None},
        ],
        "facets": {
            "Li": [{"miller_index": [1, 1, 0], "terminations": ["t0-Li"]}],
            "Li2S": "to be computed (up to max_index 1)",
        },
        "pairs": ["Li(110)|Li2S(111)", {"pair": "Li(110)|Li3P(001)"}],
        "n_candidates": 4,
        "exact": True,
        "atoms_per_model": {"Li(110)|Li2S(111)": 58},
        "estimated_cost": {
            "surfaces_s": 30,
            "prescreen_s": 600,
            "refine_s": 9000,
            "total_s": 9630,
            "basis": "CHGNet steps per atom",
        },
        "reused": ["Li"],
    }
    lines = screen_plan_lines(plan)
    assert "  Li3P: 20.0%, 25.0% (carries P)" in lines
    assert "  Li2S: 80.0%, - (carries S)" in lines
    assert "  Li (stored surfaces reused): (110) t0-Li" in lines
    assert "  Li2S: to be computed (up to max_index 1)" in lines
    assert "facet pairs: 2" in lines and "  Li(110)|Li3P(001)" in lines
    assert "candidates: 4 (exact: the stored surfaces fix every pair)" in lines
    # 30 s, 10 min, 2.5 h; total 9630 s = 2.7 h.
    assert (
        "estimated cost: 2.7 h (surfaces 30 s, pre-screen 10 min, refine 2.5 h); "
        "CHGNet steps per atom"
    ) in lines
    plan["exact"] = False
    assert "candidates: at most 4 (upper bound: surfaces still to be computed)" in (
        screen_plan_lines(plan)
    )


# ------------------------------------------------------------------------------ option parsing


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["110,100"], [[1, 1, 0], [1, 0, 0]]),
        (["1,1,0"], [[1, 1, 0]]),
        (["1 1 0", "110"], [[1, 1, 0]]),
        (["3,2,1"], [[3, 2, 1]]),
        (["(111)", "001,110"], [[1, 1, 1], [0, 0, 1], [1, 1, 0]]),
        (["-1,1,0"], [[-1, 1, 0]]),
    ],
)
def test_facet_lists(values: list[str], expected: list[list[int]]) -> None:
    from interfacial.cli.screening import parse_facets

    assert parse_facets(values, "--metal-facets") == expected


def test_compound_lists() -> None:
    from interfacial.cli.screening import parse_compounds

    assert parse_compounds(["Li2S,Li3P", "LiCl", "Li2S"]) == ["Li2S", "Li3P", "LiCl"]
    assert parse_compounds(None) is None


# -------------------------------------------------------------------------------------- charts


def bars(ax: Any) -> list[Rectangle]:
    """The candidate bars of a screening chart (gid: the candidate id), left to right."""
    found = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid()]
    return sorted(found, key=lambda p: p.get_x())


def test_screening_chart_groups_sorts_and_marks_the_candidates() -> None:
    from interfacial.palette import OTHER_COLOURS
    from interfacial.plots import screening_plot

    doc = li6ps5cl()
    fig = screening_plot(doc)
    ax = fig.axes[0]
    shown = bars(ax)
    assert [b.get_gid() for b in shown] == CHART_ORDER
    assert [b.get_height() for b in shown] == pytest.approx(CHART_W)
    assert [t.get_text() for t in ax.get_xticklabels()] == CHART_ORDER
    # One colour per product, from the shared palette (products are no origin groups).
    colour = {cid: to_hex(b.get_facecolor()) for cid, b in zip(CHART_ORDER, shown, strict=True)}
    by_product = {p: {colour[c] for c in CHART_ORDER if f"|{p}(" in c} for p in ("Li3P", "Li2S")}
    by_product["LiCl"] = {colour[LICL_BY_W[0]]}
    assert all(len(v) == 1 for v in by_product.values())
    assert len(set().union(*by_product.values())) == 3
    assert set().union(*by_product.values()) <= {to_hex(c) for c in OTHER_COLOURS}
    # Refined bars (the two Li2S(110)/(111) on Li(110)) hatched; pre-screen-only ones plain.
    refined = {LI2S_BY_W[0], LI2S_BY_W[1]}
    assert {c for c, b in zip(CHART_ORDER, shown, strict=True) if b.get_hatch()} == refined
    # Metal gammas differ (Li(100) 0.329, Li(110) 0.320, refine tier +0.01): a mark per bar.
    expected = [0.658, 0.640, 0.660, 0.660, 0.658, 0.640]
    segments = [
        seg for c in ax.collections if isinstance(c, LineCollection) for seg in c.get_segments()
    ]
    levels = [seg[0][1] for seg in sorted(segments, key=lambda seg: seg[0][0])]
    assert levels == pytest.approx(expected)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("wetting: W > 2") for t in legend)
    assert {"Li3P", "Li2S", "LiCl", "refined (CHGNet)", "pre-screen only (CHGNet)"} <= set(legend)
    # The dominant candidate of each product is labelled, over its own bar.
    dominant = {doc["dominant"][p] for p in ("Li2S", "Li3P", "LiCl")}
    labelled = [t.xy[0] for t in ax.texts if t.get_text() == "dominant"]
    assert sorted(labelled) == sorted(CHART_ORDER.index(c) for c in dominant)
    assert "1 without a result not shown" in ax.get_title()


def test_one_wetting_line_when_every_candidate_shares_the_metal_gamma() -> None:
    from interfacial.plots import screening_plot

    doc = na3ps4()
    for c in doc["candidates"]:
        c["prescreen"]["gamma_metal"] = 0.22
    ax = screening_plot(doc).axes[0]
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
    wetting = [line for line in ax.lines if line.get_label().startswith("wetting")]
    assert len(wetting) == 1
    assert wetting[0].get_ydata()[0] == pytest.approx(0.44)


def test_product_fractions_chart() -> None:
    from interfacial.plots import product_fractions_plot

    ax = product_fractions_plot(li6ps5cl()).axes[0]
    heights = {p.get_gid(): p.get_height() for p in ax.patches if isinstance(p, Rectangle)}
    assert heights["molar Li2S"] == pytest.approx(5 / 7)
    assert heights["molar LiCl"] == pytest.approx(1 / 7)
    assert heights["volume Li2S"] == pytest.approx(0.74)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Li3P", "Li2S", "LiCl"]


def test_report_writes_the_screening_figures(data_dir: Path, tmp_path: Path) -> None:
    insert(data_dir, li6ps5cl(), na3ps4())
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in (
        "screening-Li6PS5Cl-Li.png",
        "screening-products-Li6PS5Cl-Li.png",
        "screening-Na3PS4-Na.png",
        "screening-products-Na3PS4-Na.png",
    ):
        assert (out / name).stat().st_size > 1000, name
        assert f"wrote {out / name}" in result.stdout


def test_file_names_are_stable_when_calculators_differ() -> None:
    from interfacial.api.report import screening_file_names

    older = li6ps5cl(completed=1)
    newer = li6ps5cl(refine_calculator="VASP", completed=2)
    named = dict(screening_file_names([older, newer]))
    assert named["Li6PS5Cl-Li"]["refine_calculator"] == "VASP"
    assert named["Li6PS5Cl-Li-CHGNet"]["refine_calculator"] == "CHGNet"


# ----------------------------------------------------------------------------------- campaigns


def test_screen_entries_validate_and_describe(tmp_path: Path) -> None:
    from interfacial.campaign import load_campaign

    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\ncalculators: {surfaces: CHGNet, interfaces: VASP}\nscreen:\n"
        "  - {electrolyte: Li6PS5Cl, metal: Li, metal_millers: ['110', [1, 0, 0]], "
        "max_gamma_ratio: 1.2}\n"
        "  - {electrolyte: Na3PS4, refine_calculator: chgnet, n_refine: 1}\n"
    )
    campaign = load_campaign(path)
    first, second = campaign.screen
    assert first.metal_millers == [[1, 1, 0], [1, 0, 0]]
    assert campaign.screen_calculators(first) == ("CHGNet", "VASP")
    assert campaign.screen_calculators(second) == ("CHGNet", "CHGNet")
    assert first.screen_options() == {
        "max_index": 1,
        "max_gamma_ratio": 1.2,
        "metal_millers": [[1, 1, 0], [1, 0, 0]],
    }
    lines = campaign.describe()
    assert (
        "  Li6PS5Cl against Li (CHGNet pre-screen, VASP refine): max_gamma_ratio 1.2, "
        "metal_millers [[1, 1, 0], [1, 0, 0]]"
    ) in lines
    assert "  Na3PS4 (CHGNet pre-screen, CHGNet refine): n_refine 1" in lines


def test_screen_stage_is_routed_to_dft() -> None:
    from interfacial.campaign import STAGE_ROUTE

    assert STAGE_ROUTE["screen"] == "dft"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("screen_li.yaml", {("Li3PS4", "Li"), ("Li6PS5Cl", "Li"), ("LiPON", "Li")}),
        ("screen_na.yaml", {("Na3PS4", "Na")}),
        ("screen_li6pscl_embedded.yaml", {("Li6PS5Cl", "Li")}),
    ],
)
def test_shipped_screen_campaigns_build_their_flows(
    name: str, expected: set[tuple[str, str]], data_dir: Path
) -> None:
    from interfacial.campaign import load_campaign

    campaign = load_campaign(WORKFLOWS / name)
    assert {(s.electrolyte, s.metal) for s in campaign.screen} == expected
    cluster = name != "screen_li6pscl_embedded.yaml"
    for spec in campaign.screen:
        assert campaign.screen_calculators(spec) == ("CHGNet", "VASP" if cluster else "CHGNet")
    # Built (not run) as `interfacial run` and `submit` build them: VASP flows need no VASP.
    flows = campaign.flows(local=not cluster)
    assert [stage for stage, _ in flows] == ["screen"] * len(expected)
    assert all(flow.jobs for _, flow in flows)
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_submitting_a_screen_campaign_routes_every_job(data_dir: Path) -> None:
    from interfacial.campaign import load_campaign, submit

    class Recording:
        def __init__(self) -> None:
            self.workflows: list[Any] = []

        def add_wf(self, workflow: Any) -> None:
            self.workflows.append(workflow)

    lpad = Recording()
    added = submit(load_campaign(WORKFLOWS / "screen_na.yaml"), lpad)
    assert [(a["stage"], a["category"]) for a in added] == [("screen", "dft")]
    (workflow,) = lpad.workflows
    assert {fw.spec["_category"] for fw in workflow.fws} == {"dft"}


def test_screen_campaign_errors_name_the_entry(tmp_path: Path) -> None:
    from interfacial.campaign import load_campaign
    from interfacial.errors import InterfacialError

    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\nscreen:\n  - {electrolyte: Li6PS5Cl}\n  - {electrolyte: Li3PS4, metal: Na}\n"
    )
    with pytest.raises(InterfacialError, match=r"^screen\[1\] \(Li3PS4\): .*Na"):
        load_campaign(path).flows()


# ---------------------------------------------------------------------------- end to end (slow)


#: The tiny tiers of tests/test_screening_flow.py, as a campaign entry: LiCl against Li on two
#: Li facets and LiCl (100), one candidate per product refined.
TINY_CAMPAIGN = """
name: tiny-screen
screen:
  - electrolyte: LiCl
    metal: Li
    metal_millers: [[1, 1, 0], [1, 0, 0]]
    compound_millers: [[1, 0, 0]]
    n_refine: 1
    prescreen: {metal_thickness: 4.0, compound_thickness: 4.0, max_atoms: 60}
    refine:
      metal_thickness: 5.0
      compound_thickness: 5.0
      registries: [[0.0, 0.0], [0.5, 0.5]]
      gaps: [2.0]
      max_atoms: 80
"""


@pytest.mark.slow
def test_a_tiny_screen_runs_end_to_end_from_the_command_line(
    stored_surfaces: Path, data_dir: Path, tmp_path: Path
) -> None:
    """`interfacial run` of a tiny screen on stored surfaces, then query and report."""
    shutil.copytree(stored_surfaces, data_dir)
    campaign = tmp_path / "tiny.yaml"
    campaign.write_text(TINY_CAMPAIGN)
    run = runner.invoke(app, ["run", str(campaign)])
    assert run.exit_code == 0, run.output
    # LiCl is its own full reduction product: no metal on the left.
    assert "LiCl against Li (CHGNet): LiCl -> LiCl" in run.stdout
    assert "Li || LiCl:" in run.stdout

    (doc,) = json.loads(runner.invoke(app, ["query", "screening", "--json"]).stdout)
    assert doc["electrolyte"] == "LiCl" and doc["metal"] == "Li"
    # The stored surfaces were reused, not recomputed.
    assert all(f["reused"] for f in doc["facets"])
    done = [c for c in doc["candidates"] if c["prescreen"]]
    assert done, doc["candidates"]
    assert {tuple(c["metal_miller"]) for c in doc["candidates"]} <= {(1, 1, 0), (1, 0, 0)}
    # One refined: the pre-screen's best W (read off the pre-screen results).
    best = max(done, key=lambda c: c["prescreen"]["W_adhesion"])
    assert [c["candidate_id"] for c in doc["candidates"] if c["refine"]] == [best["candidate_id"]]
    assert doc["dominant"] == {"LiCl": best["candidate_id"]}
    # Every tier result is an interface of `query interfaces`: the same W for that interface.
    interfaces = json.loads(runner.invoke(app, ["query", "interfaces", "--all", "--json"]).stdout)
    by_model = {d["model_id"]: d for d in interfaces}
    for c in done:
        for tier in ("prescreen", "refine"):
            result = c[tier]
            if result:
                assert by_model[result["model_id"]]["W_adhesion"] == pytest.approx(
                    result["W_adhesion"]
                )
                assert by_model[result["model_id"]]["tier"] == tier
                assert tier in result["interface_id"]

    table = runner.invoke(app, ["query", "screening"]).stdout
    assert best["candidate_id"] in table and "Spearman rank correlation not computed" in table
    out = tmp_path / "report"
    report = runner.invoke(app, ["report", "--out", str(out)])
    assert report.exit_code == 0, report.output
    assert (out / "screening-LiCl-Li.png").is_file()
    assert (out / "screening-products-LiCl-Li.png").is_file()
    # The candidates have their own chart: no adhesion bars repeating each pair once per tier,
    # and one side view per refined model (named by terminations and tier), none overwritten.
    assert not list(out.glob("adhesion_*.png"))
    refined = [c for c in doc["candidates"] if c["refine"]]
    models = sorted(p.name for p in out.glob("model_*.png"))
    assert len(models) == len(refined) and all(m.endswith("_refine.png") for m in models)
    written = [line.split()[-1] for line in report.stdout.splitlines() if line.startswith("wrote")]
    assert len(written) == len(set(written)), written
