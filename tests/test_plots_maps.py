"""ICS tile layout table, tile maps and choropleths (synthetic polygons and real boundaries)."""

from __future__ import annotations

import csv
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from icsresearch.errors import InvalidParameterError
from icsresearch.plots import choropleth, maps, tile_layout, tile_map
from icsresearch.plots.style import MISSING_COLOUR, figure_text
from icsresearch.sources import boundaries

# The 42 ICBs of July 2022 (ODS code -> name), as listed by NHS England.
ICBS_2022 = {
    "QE1": "Lancashire and South Cumbria", "QF7": "South Yorkshire",
    "QGH": "Herefordshire and Worcestershire", "QH8": "Mid and South Essex",
    "QHG": "Bedfordshire, Luton and Milton Keynes", "QHL": "Birmingham and Solihull",
    "QHM": "North East and North Cumbria", "QJ2": "Derby and Derbyshire",
    "QJG": "Suffolk and North East Essex", "QJK": "Devon", "QJM": "Lincolnshire",
    "QK1": "Leicester, Leicestershire and Rutland", "QKK": "South East London",
    "QKS": "Kent and Medway", "QM7": "Hertfordshire and West Essex",
    "QMF": "North East London", "QMJ": "North Central London", "QMM": "Norfolk and Waveney",
    "QNC": "Staffordshire and Stoke-on-Trent", "QNQ": "Frimley", "QNX": "Sussex",
    "QOC": "Shropshire, Telford and Wrekin", "QOP": "Greater Manchester",
    "QOQ": "Humber and North Yorkshire",
    "QOX": "Bath and North East Somerset, Swindon and Wiltshire", "QPM": "Northamptonshire",
    "QR1": "Gloucestershire", "QRL": "Hampshire and Isle of Wight", "QRV": "North West London",
    "QSL": "Somerset", "QT1": "Nottingham and Nottinghamshire",
    "QT6": "Cornwall and the Isles of Scilly",
    "QU9": "Buckinghamshire, Oxfordshire and Berkshire West", "QUA": "Black Country",
    "QUE": "Cambridgeshire and Peterborough",
    "QUY": "Bristol, North Somerset and South Gloucestershire", "QVV": "Dorset",
    "QWE": "South West London", "QWO": "West Yorkshire", "QWU": "Coventry and Warwickshire",
    "QXU": "Surrey Heartlands", "QYG": "Cheshire and Merseyside",
}  # fmt: skip
# April 2026 mergers: new system -> 2022 ICBs it takes area from.
MERGERS_2026 = {
    "S1Y5D": {"QHG", "QUE", "QM7"},
    "D7T5G": {"QM7", "QH8", "QJG"},
    "T6Y0W": {"QJG", "QMM"},
    "S0E4D": {"QU9", "QNQ"},
    "S9B9J": {"QXU", "QNX", "QNQ"},
    "QRL": {"QRL", "QNQ"},
    "Z9B2Z": {"QMJ", "QRV"},
}
REGIONS = {
    "North East and Yorkshire", "North West", "Midlands", "East of England", "London",
    "South East", "South West",
}  # fmt: skip


# --- the layout table ---------------------------------------------------------------------------


def test_layout_2022_has_the_42_icbs():
    lay = tile_layout("2022")
    assert dict(zip(lay["icb_code"], lay["icb_name"], strict=True)) == ICBS_2022
    assert set(lay["region"]) == REGIONS
    assert not lay[["col", "row"]].duplicated().any()
    assert lay["short_name"].str.len().max() <= 15


def test_layout_2026_has_36_systems_and_consistent_lineage():
    lay26 = tile_layout(2026)
    assert len(lay26) == 36 and lay26["icb_code"].is_unique
    assert not lay26[["col", "row"]].duplicated().any()
    merged = {c for s in MERGERS_2026.values() for c in s} - {"QRL"}
    unchanged = set(ICBS_2022) - merged - {"QRL"}
    assert set(lay26["icb_code"]) == unchanged | set(MERGERS_2026)
    preds = {
        r.icb_code: {p.replace("(part)", "").strip() for p in r.predecessors.split(";")}
        for r in lay26.itertuples()
    }
    for new, olds in MERGERS_2026.items():
        assert preds[new] == olds
    lin = maps.ics_lineage()
    # the 2022 -> 2026 map read from the 2022 rows agrees with the 2026 rows' predecessors
    for new, olds in preds.items():
        assert set(lin.loc[lin["icb_code_2026"] == new, "icb_code_2022"]) == olds
    # ICBs split in three ways are marked as parts
    assert lin.loc[lin["icb_code_2022"] == "QNQ", "part"].all()
    assert len(lin.loc[lin["icb_code_2022"] == "QNQ"]) == 3
    # unchanged systems keep their region
    lay22 = tile_layout(2022).set_index("icb_code")
    for r in lay26.itertuples():
        if r.icb_code in unchanged:
            assert lay22.loc[r.icb_code, "region"] == r.region


def test_layout_is_roughly_geographic():
    lay = tile_layout("2022").set_index("icb_code")
    assert lay.loc["QHM", "row"] == lay["row"].min()  # North East at the top
    assert lay.loc["QT6", "col"] == lay["col"].min()  # Cornwall furthest west
    assert lay.loc["QKS", "col"] == lay["col"].max()  # Kent furthest east
    london = lay[lay["region"] == "London"]
    assert london["col"].max() - london["col"].min() <= 2
    assert london["row"].max() - london["row"].min() <= 1


def test_bad_footprint():
    with pytest.raises(InvalidParameterError, match="footprint"):
        tile_layout("2024")


# --- tile map -----------------------------------------------------------------------------------


def _values(codes, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"icb_code": list(codes), "v": rng.uniform(50, 90, len(codes))})


def test_tile_map_colours_highlight_and_missing():
    lay = tile_layout("2022")
    df = _values(lay["icb_code"][1:])  # the first system has no value
    df.loc[0, "v"], df.loc[1, "v"] = 10.0, 100.0
    res = tile_map(df, value="v", units="%", highlight="QYG", source_note="demo", synthetic=True)
    d = res.data.set_index("icb_code")
    assert d.loc[df.loc[0, "icb_code"], "colour"].lower() == maps.SEQUENTIAL[0].lower()
    assert d.loc[df.loc[1, "icb_code"], "colour"].lower() == maps.SEQUENTIAL[-1].lower()
    assert d.loc[lay["icb_code"][0], "colour"] == MISSING_COLOUR
    assert res.summary["missing"] == [lay["icb_code"][0]]
    assert d["highlighted"].sum() == 1 and d.loc["QYG", "highlighted"]
    thick = [p for p in res.ax.patches if isinstance(p, Rectangle) and p.get_linewidth() >= 3]
    assert len(thick) == 1
    x0, y0 = thick[0].get_xy()
    assert (round(x0 + 0.47), round(-(y0 + 0.47))) == (d.loc["QYG", "col"], d.loc["QYG", "row"])
    text = figure_text(res.fig)
    assert "v (%)" in text  # colour bar label with units
    assert "no data" in text and "synthetic demo data" in text.lower()


def test_tile_map_accepts_ons_codes_including_2023_ones():
    lay = tile_layout("2022")
    codes = lay["icb_ons_code"].replace({"E54000052": "E54000063", "E54000053": "E54000064"})
    df = pd.DataFrame({"ons": codes, "v": np.arange(42.0)})
    res = tile_map(df, value="v", code="ons")
    d = res.data.set_index("icb_code")
    assert d.loc["QXU", "value"] == float(lay.index[lay["icb_code"] == "QXU"][0])
    assert d.loc["QNX", "value"] == float(lay.index[lay["icb_code"] == "QNX"][0])
    assert res.summary["n_with_data"] == 42


def test_tile_map_categorical_and_2026():
    lay = tile_layout("2026")
    df = pd.DataFrame({"icb_code": lay["icb_code"], "band": np.where(lay["row"] < 4, "N", "S")})
    res = tile_map(df, value="band", footprint="2026", highlight="S9B9J")
    assert res.summary["categorical"]
    assert res.data.groupby("value")["colour"].nunique().eq(1).all()
    assert res.data["colour"].nunique() == 2
    labels = [t.get_text() for t in res.ax.get_legend().get_texts()]
    assert labels == ["N", "S"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (pd.DataFrame({"icb_code": ["QYG", "XXX"], "v": [1, 2]}), {}, "XXX"),
        (pd.DataFrame({"icb_code": ["S9B9J"], "v": [1]}), {}, "footprint=2026"),
        (pd.DataFrame({"icb_code": ["QYG", "E54000008"], "v": [1, 2]}), {}, "more than one"),
        (pd.DataFrame({"icb_code": ["QYG"], "v": [1]}), {"highlight": "QQQ"}, "QQQ"),
        (pd.DataFrame({"code": ["QYG"], "v": [1]}), {}, r"\['icb_code'\] not found"),
    ],
)
def test_tile_map_errors(frame, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        tile_map(frame, value="v", **kwargs)


# --- choropleth ---------------------------------------------------------------------------------


def _square(x0, y0, size):
    return np.array([[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]])


def _polygons():
    outer = _square(-2.0, 52.0, 1.0)
    hole = _square(-1.7, 52.3, 0.4)  # same (anticlockwise) orientation as the outer ring
    return pd.DataFrame(
        {
            "icb_ons_code": ["E54000008", "E54000057"],
            "geometry": [
                [[outer, hole]],  # Cheshire and Merseyside: a square with a hole
                [[_square(-0.8, 52.0, 0.5)], [_square(-0.8, 52.6, 0.3)[::-1]]],  # two parts
            ],
        }
    )


def test_choropleth_joins_q_codes_to_ons_polygons_and_keeps_holes():
    data = pd.DataFrame({"icb_code": ["QYG", "QOP"], "v": [1.0, 3.0]})
    res = choropleth(_polygons(), data, value="v", highlight="QOP", units="%")
    d = res.data.set_index("icb_code")
    assert d.loc["QYG", "colour"].lower() == maps.SEQUENTIAL[0].lower()
    assert d.loc["QOP", "colour"].lower() == maps.SEQUENTIAL[-1].lower()
    assert d.loc["QOP", "n_polygons"] == 2 and d.loc["QOP", "highlighted"]
    # render with Agg (non-zero fill rule): the hole, given with the outer ring's orientation,
    # must stay empty; both parts of the multipolygon are filled
    canvas = FigureCanvasAgg(res.fig)
    canvas.draw()
    img = np.asarray(canvas.buffer_rgba())

    def pixel(x, y):
        px, py = res.ax.transData.transform((x, y))
        return "#{:02x}{:02x}{:02x}".format(*img[int(img.shape[0] - py), int(px)][:3])

    assert pixel(-1.5, 52.5) == "#ffffff"  # in the hole
    assert pixel(-1.9, 52.1) == maps.SEQUENTIAL[0].lower()  # in the ring
    assert pixel(-0.65, 52.75) == pixel(-0.55, 52.25) == maps.SEQUENTIAL[-1].lower()
    # equirectangular correction around the mid-latitude (52 + 53) / 2
    assert res.summary["aspect"] == pytest.approx(1 / math.cos(math.radians(52.5)))
    assert res.ax.get_aspect() == pytest.approx(res.summary["aspect"])
    assert "North West" not in figure_text(res.fig)  # only the highlight is labelled
    assert "Greater Manchester" in figure_text(res.fig)


def test_choropleth_missing_value_is_hatched_and_projected_coordinates_allowed():
    polys = _polygons()
    polys["geometry"] = [
        [[np.array(r) * 1000 + 400000 for r in p] for p in g] for g in polys["geometry"]
    ]
    res = choropleth(polys, pd.DataFrame({"icb_code": ["QYG"], "v": [2.0]}), value="v")
    assert res.summary["missing"] == ["QOP"]
    assert res.summary["coordinates"].startswith("projected")
    assert any(p.get_hatch() == "///" for p in res.ax.patches)


@pytest.mark.parametrize(
    ("geometry", "match"),
    [
        ([[np.array([[0, 0], [1, 1]])]], r"shape \(2, 2\)"),
        ("POLYGON((0 0, 1 0, 1 1))", "list of polygons"),
        ([[np.array([[0, 0], [1, np.nan], [1, 1]])]], "missing coordinates"),
    ],
)
def test_choropleth_bad_geometry_names_the_system(geometry, match):
    polys = pd.DataFrame({"icb_code": ["QYG"], "geometry": [geometry]})
    with pytest.raises(InvalidParameterError, match=f"'QYG'.*{match}|{match}"):
        choropleth(polys)


def test_choropleth_unmatched_data_codes():
    with pytest.raises(InvalidParameterError, match="no polygon"):
        choropleth(_polygons(), pd.DataFrame({"icb_code": ["QKS"], "v": [1]}), value="v")


# --- real data ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_layout_codes_names_against_lsoa_lookup(mirror):
    import pyreadr

    lk = next(
        iter(
            pyreadr.read_r(
                mirror / "geographr/data/lookup_lsoa11_sicbl22_icb22_ltla22.rda"
            ).values()
        )
    )
    pairs = lk[["icb22_code_h", "icb22_code", "icb22_name"]].drop_duplicates()
    lay = tile_layout("2022").set_index("icb_code")
    assert set(pairs["icb22_code_h"]) == set(lay.index)
    for r in pairs.itertuples():
        assert lay.loc[r.icb22_code_h, "icb_ons_code"] == r.icb22_code
        assert r.icb22_name == f"NHS {lay.loc[r.icb22_code_h, 'icb_name']} Integrated Care Board"


@pytest.mark.realdata
def test_2023_ons_codes_against_imd_icb24(mirror):
    import pyreadr

    imd = next(iter(pyreadr.read_r(mirror / "IMD/data/imd2025_england_icb24.rda").values()))
    names = dict(zip(imd["icb24_code"], imd["icb24_name"], strict=True))
    lay = tile_layout("2022").set_index("icb_code")
    for ons, q in maps.ONS_CODES_2023.items():
        assert names[ons] == f"NHS {lay.loc[q, 'icb_name']} Integrated Care Board"


@pytest.mark.realdata
def test_layout_regions_against_ods_trust_regions(mirror):
    """Every open trust's ODS region (Y-code) matches its ICB's region in the layout."""
    y_codes = {
        "Y56": "London", "Y58": "South West", "Y59": "South East", "Y60": "Midlands",
        "Y61": "East of England", "Y62": "North West", "Y63": "North East and Yorkshire",
    }  # fmt: skip
    lay = tile_layout("2022").set_index("icb_code")
    path = mirror / "open-nhs-hospital-use-data/data/etr_tidy.csv"
    checked = 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["close_date"] in ("", "NA") and row["stp_code"] in lay.index:
                assert y_codes[row["region_code"]] == lay.loc[row["stp_code"], "region"], row
                checked += 1
    assert checked > 150


@pytest.mark.realdata
def test_real_boundaries_choropleth_and_tile_positions(mirror):
    import warnings

    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdata warns about sf classes it has no constructor for
        sf = rdata.read_rda(mirror / "geographr/data/boundaries_icb22.rda")["boundaries_icb22"]
    polys = pd.DataFrame({"icb_ons_code": sf["icb22_code"].astype(str), "geometry": sf["geometry"]})
    lay = tile_layout("2022")
    data = pd.DataFrame({"icb_code": lay["icb_code"], "v": lay["row"].astype(float)})
    res = choropleth(polys, data, value="v", highlight="QYG")
    assert res.summary["n_systems"] == 42 and res.summary["missing"] == []
    assert 50 < res.summary["lat0"] < 54
    # tiles keep the geography: columns follow longitude, rows follow latitude
    d = res.data.set_index("icb_code").join(lay.set_index("icb_code")[["col", "row"]])
    rho_col = d["col"].rank().corr(d["label_lon"].rank())
    rho_row = d["row"].rank().corr(-d["label_lat"].rank())
    assert rho_col > 0.85 and rho_row > 0.85


def test_lineage_agrees_with_the_project_merger_table():
    """The tile table's 2022 -> 2026 pairs equal those of tables/icb_2026_changes.csv."""
    path = maps.LAYOUT_FILE.with_name("icb_2026_changes.csv")  # package data: always there
    with open(path, encoding="utf-8", newline="") as f:
        pairs = {(r["icb2022_code"], r["icb2026_code"]) for r in csv.DictReader(f)}
    lin = maps.ics_lineage()
    changed = lin[lin["icb_code_2022"] != lin["icb_code_2026"]]
    mine = set(zip(changed["icb_code_2022"], changed["icb_code_2026"], strict=True))
    assert mine | {("QRL", "QRL")} == pairs


@pytest.mark.realdata
def test_choropleth_from_the_project_boundaries_reader(mirror):
    polys = boundaries.read_icb_boundaries()
    lay = tile_layout("2022")
    data = pd.DataFrame({"icb_code": lay["icb_code"], "v": lay["col"].astype(float)})
    res = choropleth(polys, data, value="v", highlight="QYG")
    assert res.summary["missing"] == [] and res.data["highlighted"].sum() == 1
    text = figure_text(res.fig).replace("\n", " ")
    assert "icb_boundaries" in text  # the footer names the boundary file
