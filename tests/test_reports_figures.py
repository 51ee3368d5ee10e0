"""Report figures: the highlighted scatter, the demo tile map, the trend grid, saving."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from icsresearch import geography
from icsresearch.demo.generate import REGIONS
from icsresearch.errors import InvalidParameterError
from icsresearch.plots import tile_layout
from icsresearch.plots.style import figure_text
from icsresearch.reports.figures import (
    BODY_FONT_PX,
    alt_text,
    chart_title,
    demo_tile_positions,
    display_width,
    ics_tile_map,
    scatter_highlight,
    show,
    trend_grid,
)


@pytest.fixture
def points():
    rng = np.random.default_rng(7)
    x = rng.uniform(5, 40, 60)
    y = 80 + 0.2 * x + rng.normal(0, 3, 60)
    df = pd.DataFrame({"code": [f"T{i:02d}" for i in range(60)], "x": x, "y": y})
    df.loc[3, "y"] = np.nan
    df["mine"] = df["code"].isin(["T01", "T02", "T03"])
    return df


def test_scatter_reports_the_least_squares_line_of_all_units(points):
    res = scatter_highlight(
        points, x="x", y="y", highlight="mine", label="code", xlabel="X (u)", ylabel="Y (%)",
        title="t", synthetic=True,
    )  # fmt: skip
    ok = points.dropna()
    fit = stats.linregress(ok["x"], ok["y"])
    assert res.summary["n"] == 59 and res.summary["n_missing"] == 1
    assert res.summary["pearson_r"] == pytest.approx(stats.pearsonr(ok["x"], ok["y"])[0])
    assert res.summary["slope"] == pytest.approx(fit.slope)
    assert res.summary["intercept"] == pytest.approx(fit.intercept)
    text = figure_text(res.fig)
    # T03 has no y value: drawn units only, highlighted ones labelled
    assert "T01" in text and "T02" in text and "T03" not in text
    assert "synthetic demo data" in text.lower() and "X (u)" in text and "Y (%)" in text
    assert int(res.data["highlighted"].sum()) == 2


def test_scatter_names_a_missing_column(points):
    with pytest.raises(InvalidParameterError, match="nurses"):
        scatter_highlight(
            points, x="nurses", y="y", highlight="mine", label="code", xlabel="", ylabel=""
        )


@pytest.mark.parametrize("footprint", [2022, 2026])
def test_demo_systems_take_the_tiles_of_their_model_region(footprint):
    icbs = geography.icbs(footprint, "demo")
    pos = demo_tile_positions(icbs, footprint)
    lay = tile_layout(str(footprint)).set_index("icb_code")
    assert sorted(pos["icb_code"]) == sorted(icbs["icb_code"])
    assert sorted(pos["layout_code"]) == sorted(lay.index)  # one system per tile
    model = {name: real for _, name, real in REGIONS}
    region = icbs.set_index("icb_code")["region_name"]
    for r in pos.itertuples():
        assert lay.loc[r.layout_code, "region"] == model[region[r.icb_code]]


def test_demo_tile_map_shows_demo_names_only():
    icbs = geography.icbs(2026, "demo")
    values = pd.DataFrame({"icb_code": icbs["icb_code"], "value": np.linspace(70, 95, len(icbs))})
    res = ics_tile_map(
        values, footprint=2026, highlight="ZN02", synthetic=True, icbs=icbs, units="%",
        value_format=".1f",
    )  # fmt: skip
    text = " ".join(figure_text(res.fig).split())
    for name in icbs["short_name"]:
        assert " ".join(name.split()) in text or all(w in text for w in name.split())
    real_names = [n for n in tile_layout("2026")["short_name"] if n not in set(icbs["short_name"])]
    tile_texts = {" ".join(t.get_text().split()) for t in res.ax.texts}
    assert not tile_texts & {" ".join(n.split()) for n in real_names}
    assert sorted(res.data["icb_code"]) == sorted(icbs["icb_code"])
    assert res.data.loc[res.data["highlighted"], "icb_code"].tolist() == ["ZN02"]
    shown = res.data.set_index("icb_code")["value"]
    assert shown["ZN02"] == pytest.approx(values.set_index("icb_code").loc["ZN02", "value"])
    assert "synthetic demo data" in text.lower()


def test_real_tile_map_uses_the_layout_directly():
    lay = tile_layout("2022")
    values = pd.DataFrame({"icb_code": lay["icb_code"], "value": np.arange(len(lay), dtype=float)})
    res = ics_tile_map(values, footprint=2022, highlight="QYG", synthetic=False)
    assert res.summary["highlight"] == "QYG"
    assert "Ches & Mers" in " ".join(figure_text(res.fig).split())


def test_trend_grid_draws_one_legend_and_keeps_gaps():
    years = list(range(2012, 2019))

    def series(shift, gap=None):
        v = [90.0 - i + shift for i in range(len(years))]
        if gap is not None:
            v[years.index(gap)] = np.nan
        return pd.DataFrame({"year": years, "value": v})

    panels = [
        {
            "series": {"ics": series(1, gap=2014), "region": series(0.5), "england": series(0)},
            "label": "A&E within 4 hours",
            "units": "%",
        },
        {
            "series": {"ics": series(2), "region": series(1), "england": series(0)},
            "label": "RTT within 18 weeks",
            "units": "%",
        },
    ]
    res = trend_grid(panels, ics_name="Sys", region_name="Reg region", title="Sys trends")
    assert len(res.fig.legends) == 1 and all(ax.get_legend() is None for ax in res.fig.axes)
    assert set(res.data["indicator"]) == {"A&E within 4 hours", "RTT within 18 weeks"}
    assert res.summary["gap_years"]["A&E within 4 hours"]["Sys"] == [2014]
    text = figure_text(res.fig)
    assert "Sys trends" in text and "England" in text and "Reg region" in text


def test_trend_grid_keeps_a_long_axis_label_beside_its_own_panel():
    years = list(range(2012, 2019))
    frame = pd.DataFrame({"year": years, "value": np.linspace(12, 17, len(years))})
    long = "Delayed discharges per 100 occupied G&A beds"
    panels = [
        {"series": {"ics": frame, "region": frame, "england": frame}, "label": label, "units": u}
        for label, u in ((long, "per 100 beds"), ("SHMI", "ratio"), ("RTT", "%"), ("Beds", "%"))
    ]
    res = trend_grid(panels, ics_name="Sys", region_name="Reg region", title="Sys trends")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(res.fig).get_renderer()
    res.fig.draw(renderer)  # the layout the saved PNG gets
    for ax in res.fig.axes:
        label = ax.yaxis.label.get_window_extent(renderer)
        panel = ax.get_window_extent(renderer)
        assert label.height <= panel.height, ax.get_ylabel()  # before: 1.4x the panel's height
    assert "\n" in res.fig.axes[0].get_ylabel()


def test_show_saves_png_and_data(tmp_path, points):
    res = scatter_highlight(
        points, x="x", y="y", highlight="mine", label="code", xlabel="X", ylabel="Y"
    )
    written = show(res, "scatter", tmp_path / "figures")
    png = tmp_path / "figures" / "scatter.png"
    assert written["png"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = pd.read_csv(tmp_path / "figures" / "scatter.csv")
    assert len(saved) == 59
    assert show(scatter_highlight(points, x="x", y="y", highlight="mine", label="code",
                                  xlabel="X", ylabel="Y"), "x", "") == {}  # fmt: skip


def _shown(published):
    """The one display bundle ``show`` published."""
    assert len(published) == 1
    return published[0]


@pytest.fixture
def published(monkeypatch):
    """Capture what ``IPython.display.display`` publishes (a list of (bundle, metadata))."""
    import IPython.display

    seen = []
    monkeypatch.setattr(
        IPython.display,
        "display",
        lambda obj, raw=False, metadata=None: seen.append((obj, metadata)),
    )
    return seen


def test_show_displays_a_numbered_figure_with_alt_text_and_a_data_link(tmp_path, points, published,
                                                                       monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    res = scatter_highlight(
        points, x="x", y="y", highlight="mine", label="code", xlabel="X (u)", ylabel="Y (%)",
        title="Y by X, 2018/19", highlight_name="Sys trusts",
    )  # fmt: skip
    written = show(res, "scatter", "figures", number=3)
    assert (tmp_path / written["csv"]).is_file()
    bundle, meta = _shown(published)
    html = bundle["text/html"]
    assert "<b>Figure 3.</b> Y by X, 2018/19." in html and 'id="figure-3"' in html
    assert 'href="figures/scatter.csv" download' in html  # relative to report.html
    alt = re.search(r'alt="([^"]*)"', html).group(1)
    assert alt == bundle["text/plain"].replace("&", "&amp;")
    # what the chart shows for this system: its trusts and their values
    assert alt.startswith("Scatter plot: Y by X, 2018/19. 59 trusts")
    assert "Sys trusts: T01:" in alt and "T03" not in alt  # T03 has no y value
    assert bundle["image/png"] and meta == {"image/png": {"width": display_width(res)}}
    # an absolute folder (papermill outside a batch) gets no link the HTML could not follow
    published.clear()
    show(scatter_highlight(points, x="x", y="y", highlight="mine", label="code", xlabel="X",
                           ylabel="Y"), "s2", tmp_path / "abs")  # fmt: skip
    assert "download" not in published[0][0]["text/html"]


def test_figure_text_is_shown_at_least_at_body_size(points):
    from icsresearch.plots.style import BASE_FONT_SIZE

    res = scatter_highlight(points, x="x", y="y", highlight="mine", label="code", xlabel="X",
                            ylabel="Y")  # fmt: skip
    width_px = display_width(res)
    px_per_point = width_px / (72 * res.fig.get_figwidth())
    assert BASE_FONT_SIZE * px_per_point >= BODY_FONT_PX
    assert BASE_FONT_SIZE * (width_px - 1) / (72 * res.fig.get_figwidth()) < BODY_FONT_PX


def test_alt_text_prefers_the_charts_own_and_never_is_generic(points):
    res = scatter_highlight(points, x="x", y="y", highlight="mine", label="code", xlabel="X",
                            ylabel="Y", title="T")  # fmt: skip
    res.summary["alt_text"] = "  The chart's own\n description. "
    assert alt_text(res) == "The chart's own description."
    del res.summary["alt_text"]
    res.summary.update(variation_label="Special cause concern", flag_counts={"above": 2})
    res.kind = "spc"
    text = alt_text(res)
    assert text.startswith("Statistical process control chart: T.")
    assert "Special cause concern" in text and "above 2" in text


def test_trend_grid_and_tile_map_alt_texts_name_the_system():
    years = np.arange(2012, 2016)
    panels = [
        {
            "series": {
                "ics": pd.DataFrame({"year": years, "value": [80.0, 81, np.nan, 83]}),
                "england": pd.DataFrame({"year": years, "value": [85.0, 84, 83, 82]}),
            },
            "label": "A&E within 4 hours",
            "units": "%",
        }
    ]
    res = trend_grid(panels, ics_name="Sys", region_name="Reg region", title="Sys trends")
    assert chart_title(res) == "Sys trends"
    assert res.summary["alt_text"] == (
        "Line charts: Sys trends. A&E within 4 hours, 2012/13 to 2015/16; in 2015/16: "
        "Sys 83, England 82."
    )
    icbs = geography.icbs(2022, "demo")
    values = pd.DataFrame({"icb_code": icbs["icb_code"], "value": np.arange(len(icbs), 0, -1.0)})
    tm = ics_tile_map(values, footprint=2022, highlight="ZQ02", icbs=icbs, synthetic=True, units="%",
                      legend_label="A&E (%)", title="A&E by system")  # fmt: skip
    assert "ZQ02 (outlined): A&E (%) 41.0, 2 of 42 from the highest" in tm.summary["alt_text"]
