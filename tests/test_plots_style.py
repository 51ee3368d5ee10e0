"""House style: footer, synthetic stamp, palette accessibility, results and lazy imports."""

from __future__ import annotations

import datetime as dt
import itertools
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from icsresearch.errors import InvalidParameterError
from icsresearch.plots import style

# --- financial years and labels ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "label"),
    [(2012, "2012/13"), (1999, "1999/00"), (2009, "2009/10"), (2019.0, "2019/20")],
)
def test_financial_year_labels(year, label):
    assert style.format_financial_year(year) == label


@pytest.mark.parametrize("bad", [2012.5, True])
def test_financial_year_rejects_non_years(bad):
    with pytest.raises(InvalidParameterError, match="whole year"):
        style.format_financial_year(bad)


def test_axis_label_adds_units_once():
    assert style.axis_label("A&E 4-hour share", "%") == "A&E 4-hour share (%)"
    assert style.axis_label("Beds (count)", "count") == "Beds (count)"
    assert style.axis_label("Index", None) == "Index"


# --- footer and synthetic stamp ---------------------------------------------------------------


def test_footer_text_layout():
    text = style.footer_text("NHS England", "file.csv sha256 abc", dt.date(2024, 5, 1))
    assert text == "Source: NHS England | Produced 2024-05-01 | file.csv sha256 abc"


def test_footer_on_figure_and_synthetic_stamp():
    fig, ax = style.new_figure()
    ax.plot([1, 2], [3, 4])
    style.add_footer(fig, "NHS England", note="demo", produced="2024-05-01")
    text = style.figure_text(fig)
    assert "Source: NHS England | Produced 2024-05-01 | demo" in text.replace("\n", " ")
    assert "synthetic demo data" not in text.lower()

    style.add_footer(fig, "icsresearch demo", synthetic=True)
    text = style.figure_text(fig).lower()
    # footer replaced, not duplicated; the stamp is in footer, badge and watermark
    assert text.count("source:") == 1
    assert text.count("synthetic demo data") >= 3


def test_add_footer_reads_what_the_figure_draws():
    from icsresearch.panel import ics_year_panel

    fig, ax = style.new_figure()
    style.add_footer(fig, data=ics_year_panel("demo"))
    text = style.figure_text(fig)
    assert "Source: synthetic demo data" in text and "SYNTHETIC DEMO DATA" in text
    style.add_footer(fig, data=pd.DataFrame({"x": [1]}))  # a frame nobody documented
    footer = style.figure_text(fig).replace("\n", " ")
    assert "Source: source unknown" in footer and "SYNTHETIC" not in footer
    with pytest.raises(InvalidParameterError, match="synthetic=False"):
        style.add_footer(fig, data=ics_year_panel("demo"), synthetic=False)
    with pytest.raises(InvalidParameterError, match="synthetic='no'"):
        style.add_footer(fig, synthetic="no")
    with pytest.warns(DeprecationWarning, match="source_note"):
        style.add_footer(fig, source="NHS England")


def test_footer_reserves_space_below_axes():
    fig, ax = style.new_figure()
    ax.set_xlabel("x label")
    footer = style.add_footer(fig, "A long source " * 20)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    label_box = ax.xaxis.label.get_window_extent(renderer)
    footer_box = footer.get_window_extent(renderer)
    assert footer_box.y1 <= label_box.y0 + 1  # the footer sits below the x label


def test_provenance_from_reader_attrs():
    df = pd.DataFrame({"a": [1]})
    df.attrs = {
        "source": "hm_ae",
        "path": "/x/AE.csv",
        "sha256": "f180728e89fdb7ee",
        "verified": True,
    }
    assert style.provenance_note(df) == "AE.csv sha256 f180728e89fd (verified)"
    src = style.source_from_attrs(df)
    assert src.startswith("NHS England") and "hm_ae" in src


# --- palette ------------------------------------------------------------------------------------

# Machado, Oliveira & Fernandes (2009) CVD simulation matrices (severity 1.0), linear RGB.
_CVD = {
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _lab_under(hex_colour: str, kind: str) -> np.ndarray:
    srgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    lin = np.clip(np.array(_CVD[kind]) @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    t = (xyz @ lin) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _min_delta_e(colours, kind):
    return min(
        np.linalg.norm(_lab_under(a, kind) - _lab_under(b, kind))
        for a, b in itertools.combinations(colours, 2)
    )


@pytest.mark.parametrize("kind", sorted(_CVD))
def test_series_palette_stays_distinct_under_colour_blindness(kind):
    # the 7 line colours (yellow is kept for fills) differ by > 12 CIELAB units for every CVD
    assert _min_delta_e(style.SERIES_COLOURS[:7], kind) > 12
    # ... while the NHS identity blues collapse together: why they carry no categories
    blues = [style.NHS_COLOURS[k] for k in ("nhs_blue", "bright_blue", "light_blue", "aqua_blue")]
    assert _min_delta_e(blues, kind) < 10
    # SPC improvement (blue) and concern (orange) stay far apart
    spc = [
        style.SPC_COLOURS["special_cause_improvement"],
        style.SPC_COLOURS["special_cause_concern"],
    ]
    assert _min_delta_e(spc, kind) > 50


def test_text_colour_contrast():
    assert style.text_colour_for(style.NHS_COLOURS["dark_blue"]) == "white"
    assert style.text_colour_for("#DCEAF6") == "black"
    assert style.text_colour_for("#FFFFFF") == "black"


# --- results ------------------------------------------------------------------------------------


def test_plot_result_save_writes_figure_and_data(tmp_path):
    fig, ax = style.new_figure()
    ax.plot([1, 2, 3], [1, 4, 9])
    data = pd.DataFrame({"x": [1, 2, 3], "y": [1, 4, 9]})
    res = style.PlotResult(
        fig, data, {"n": np.int64(3), "when": dt.date(2024, 1, 1)}, {"extra": data.head(1)}
    )
    paths = res.save(tmp_path / "sub" / "chart.png")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pd.read_csv(paths["csv"]).equals(data)
    assert '"n": 3' in paths["json"].read_text()
    assert len(pd.read_csv(paths["extra"])) == 1
    assert res._repr_png_()[:4] == b"\x89PNG"


def test_require_columns_names_missing():
    with pytest.raises(InvalidParameterError, match=r"\['b'\] not found"):
        style.require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "demo")


def test_numeric_column_names_bad_values():
    df = pd.DataFrame({"v": ["1", "*", "3"]})
    with pytest.raises(InvalidParameterError, match=r"'\*'"):
        style.numeric_column(df, "v", "demo")


def test_place_labels_avoid_each_other():
    fig, ax = style.new_figure()
    xs, ys = [1, 1.01, 1.02, 1.03], [1, 1.0, 1.01, 1.0]
    ax.scatter(xs, ys)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    anns = style.place_labels(ax, xs, ys, ["Alpha", "Bravo", "Charlie", "Delta"])
    r = FigureCanvasAgg(fig).get_renderer()
    fig.draw(r)
    boxes = [a.get_window_extent(r) for a in anns]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


# --- imports ------------------------------------------------------------------------------------


def test_import_icsresearch_does_not_load_matplotlib():
    code = (
        "import sys, icsresearch, icsresearch.plots; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib loaded'; "
        "from icsresearch.plots import funnel_plot; "
        "assert 'matplotlib' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- every chart made from demo data says so ------------------------------------------------------


def _demo(df):
    """Mark a table as the demo's, the way the package does: its typed provenance record."""
    from icsresearch import demo

    df.attrs["provenance"] = demo.record()
    return df


def _charts():
    from icsresearch import plots

    lay = plots.tile_layout("2022")
    square = np.array([[0, 50], [1, 50], [1, 51], [0, 51]], float)
    return {
        "funnel": lambda: plots.funnel_plot(
            _demo(pd.DataFrame({"u": list("ABC"), "o": [5, 9, 40], "n": [10, 20, 50]})),
            numerator="o", denominator="n", unit="u",
        ),
        "spc": lambda: plots.spc_chart(
            _demo(pd.DataFrame({"v": [1.0, 2, 1, 2, 1, 2]})), value="v", baseline="all"
        ),
        "tile_map": lambda: plots.tile_map(
            _demo(pd.DataFrame({"icb_code": lay["icb_code"], "v": range(42)})), value="v"
        ),
        "choropleth": lambda: plots.choropleth(
            pd.DataFrame({"icb_code": ["QYG"], "geometry": [[[square]]]}),
            _demo(pd.DataFrame({"icb_code": ["QYG"], "v": [1.0]})), value="v",
        ),
        "trend": lambda: plots.trend_plot(
            _demo(pd.DataFrame({"series": ["a", "a"], "year": [2012, 2013], "v": [1.0, 2.0]})),
            value="v",
        ),
        "ics_vs_england": lambda: plots.ics_vs_england(
            _demo(pd.Series([1.0, 2.0], index=[2012, 2013])),
            pd.Series([1.5, 2.5], index=[2012, 2013]),
        ),
        "coefplot": lambda: plots.coef_plot(
            _demo(pd.DataFrame({"term": ["x"], "estimate": [1.0], "ci_low": [0.5], "ci_high": [1.5]}))
        ),
    }  # fmt: skip


@pytest.mark.parametrize("chart", sorted(_charts()))
def test_every_chart_from_demo_data_is_stamped(chart):
    res = _charts()[chart]()
    text = style.figure_text(res.fig).lower()
    assert "synthetic demo data" in text
    assert "source:" in text and "produced" in text
    assert isinstance(res.data, pd.DataFrame) and len(res.data)
    res.close()


# --- the rendering canvas: cached font metrics, identical pixels ----------------------------------


def _rgba_on(fig, canvas_class, dpi=100) -> bytes:
    import io

    original = fig.canvas
    canvas_class(fig)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="rgba", dpi=dpi)
        return buf.getvalue()
    finally:
        fig.set_canvas(original)


def _text_heavy_chart():
    """Multi-line, rotated, bold, mathtext and several sizes of text under constrained layout."""
    fig, ax = style.new_figure(figsize=(6, 4))
    ax.plot([2012, 2020], [0.1, 0.9])
    ax.set_xticks(range(2012, 2021))
    ax.set_xticklabels([style.format_financial_year(y) for y in range(2012, 2021)], rotation=45)
    ax.set_ylabel("Delayed discharges\nper 100 beds ($\\alpha$)")
    ax.set_title("Bold title", fontweight="bold", fontsize=14)
    ax.text(0.5, 0.5, "small\ntwo lines", fontsize=6, transform=ax.transAxes, rotation=90)
    style.finish_figure(fig, source_note="a test", synthetic=True)
    return style.PlotResult(fig, pd.DataFrame({"x": [1]}))


@pytest.mark.parametrize("chart", [*sorted(_charts()), "text_heavy"])
@pytest.mark.parametrize("dpi", [100, 150])
def test_cached_font_canvas_renders_the_same_pixels_as_matplotlib(chart, dpi):
    """The cached font height metrics change nothing: every chart, bit for bit, at two dpi."""
    import io

    from PIL import Image

    from icsresearch.plots import _agg

    assert _agg.HOOK_USED, "this Matplotlib no longer asks the renderer: the cache is dead code"

    def make():
        return _text_heavy_chart() if chart == "text_heavy" else _charts()[chart]()

    # each on a fresh figure: constrained layout can move a pixel between a figure's first and
    # second render whatever the canvas
    plain = _rgba_on(make().fig, FigureCanvasAgg, dpi)
    cached = _rgba_on(make().fig, _agg.CachedFontCanvas, dpi)
    assert cached == plain
    # and the PNG the package writes is those pixels (a layered chart's PNG is its shared base
    # plus its highlight: compared with the full figure in test_plots_layers.py)
    res = make()
    if isinstance(res, style.LayeredPlotResult):
        return
    png = Image.open(io.BytesIO(res.png(dpi)))
    w = int(res.fig.get_figwidth() * dpi)
    pixels = np.frombuffer(plain, np.uint8).reshape(-1, w, 4)
    assert np.array_equal(np.asarray(png.convert("RGBA")), pixels)
    res.close()


def test_cached_font_metrics_follow_the_font_settings():
    """A change of font family between renders is not answered from the old font's cache."""
    from icsresearch.plots import _agg

    def serif_chart():
        res = _text_heavy_chart()
        for t in res.fig.findobj(matplotlib.text.Text):
            t.set_family("serif")
        return res.fig

    sans = _rgba_on(_text_heavy_chart().fig, _agg.CachedFontCanvas)  # fills the cache
    # the same family name ("serif") resolves to another font file under other settings
    with matplotlib.rc_context({"font.serif": ["DejaVu Serif"]}):
        serif_cached = _rgba_on(serif_chart(), _agg.CachedFontCanvas)
    with matplotlib.rc_context({"font.serif": ["DejaVu Sans"]}):
        sans_as_serif_cached = _rgba_on(serif_chart(), _agg.CachedFontCanvas)
        sans_as_serif_plain = _rgba_on(serif_chart(), FigureCanvasAgg)
    assert sans_as_serif_cached == sans_as_serif_plain
    assert serif_cached != sans_as_serif_cached and serif_cached != sans


def test_rendering_gives_the_figure_its_canvas_back():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    canvas, base_dpi = fig.canvas, fig._original_dpi
    res = style.PlotResult(fig, pd.DataFrame())
    res.png(150)
    assert fig.canvas is canvas and fig._original_dpi == base_dpi
    plt.close(fig)


@pytest.mark.parametrize("chart", sorted(_charts()))
def test_is_stamped_agrees_with_every_text_of_the_figure(chart):
    from matplotlib.text import Text

    res = _charts()[chart]()
    every_text = any("synthetic demo data" in t.get_text().lower() for t in res.fig.findobj(Text))
    assert style.is_stamped(res.fig) is every_text is True
    fig, ax = style.new_figure()
    ax.set_xticks([1], ["synthetic demo data"])  # a tick label is never the stamp
    assert not style.is_stamped(fig)


def test_close_empties_the_figure():
    res = _text_heavy_chart()
    res.close()
    assert res.fig.axes == [] and res.fig.texts == [] and res.fig.get_children()[1:] == []


@pytest.mark.parametrize("opaque", [True, False])
def test_encode_png_round_trips_through_pillow(opaque):
    """The hand-written PNG writer: Pillow reads back every pixel, the dpi and the software."""
    import io

    from PIL import Image

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    pixels[:10] = 255  # a run of identical pixels, as charts have
    pixels[..., 3] = 255
    if not opaque:
        pixels[3, 5, 3] = 0
    png = style.encode_png(pixels, 150)
    image = Image.open(io.BytesIO(png))
    image.load()  # checks every chunk's CRC and the zlib stream
    assert image.mode == ("RGB" if opaque else "RGBA")
    assert image.size == (53, 37)
    assert np.array_equal(np.asarray(image.convert("RGBA")), pixels)
    assert image.info["dpi"] == pytest.approx((150, 150), abs=0.02)  # whole pixels per metre
    assert image.info["Software"].startswith("icsresearch with Matplotlib")


def test_encode_png_refuses_what_is_not_an_rgba_image():
    with pytest.raises(InvalidParameterError, match="RGBA"):
        style.encode_png(np.zeros((4, 4, 3), np.uint8), 100)
