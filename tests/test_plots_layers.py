"""Shared figure layers: the PNG drawn from a shared base plus the highlight is, pixel for pixel,
the PNG of the whole figure drawn in full, for every chart that shares its base.

The full figure (``result.fig``) and the shared path are two different code paths in matplotlib
(a full ``savefig`` against restoring the base's pixels and drawing only the highlight), so
equality here is a real check of :mod:`icsresearch.plots.layers`, not of one path against itself.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from icsresearch.plots import funnel_plot, layers, tile_map
from icsresearch.plots.style import LayeredPlotResult, PlotResult
from icsresearch.reports.figures import scatter_highlight


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.delenv("ICSRESEARCH_SHARED_LAYERS", raising=False)
    layers.clear()
    yield
    layers.clear()


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def full_png(result) -> bytes:
    buf = io.BytesIO()
    result.fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def trusts(seed: int = 3, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    den = rng.integers(2_000, 90_000, n)
    share = np.clip(rng.normal(0.72, 0.08, n), 0.3, 0.99)
    return pd.DataFrame(
        {
            "trust": [f"T{i:03d}" for i in range(n)],
            "num": np.round(den * share).astype(int),
            "den": den,
            "x": rng.normal(10, 3, n),
            "y": rng.normal(70, 8, n),
        }
    )


def funnel(data, highlight):
    return funnel_plot(
        data,
        numerator="num",
        denominator="den",
        unit="trust",
        overdispersion="additive",
        fdr=0.05,
        highlight=highlight,
        highlight_name="This system's trusts",
        title="Share within 4 hours",
        source_note="a test table",
    )


def scatter(data, highlight):
    return scatter_highlight(
        data.assign(hl=data["trust"].isin(highlight)),
        x="x",
        y="y",
        highlight="hl",
        label="trust",
        xlabel="Managers per 100 beds (FTE)",
        ylabel="A&E within 4 hours (%)",
        title="A scatter",
        source_note="a test table",
    )


def tiles(highlight):
    layout = layout_codes()
    values = layout.assign(value=np.linspace(60, 80, len(layout)))
    return tile_map(values, value="value", highlight=highlight, units="%", source_note="a test")


def layout_codes() -> pd.DataFrame:
    """The 42 systems of the 2022 tile layout (a project table, no data file needed)."""
    from icsresearch.plots.maps import tile_layout

    return tile_layout("2022")[["icb_code"]]


CHARTS = {
    "funnel": (funnel, ["T001", "T050", "T099"]),
    "scatter": (scatter, ["T002", "T040"]),
}


@pytest.mark.parametrize("kind", sorted(CHARTS))
def test_the_shared_path_draws_the_same_pixels_as_the_whole_figure(kind):
    draw, highlight = CHARTS[kind]
    data = trusts()
    for hl in (highlight, highlight[:1], []):
        shared = draw(data, hl)
        assert isinstance(shared, LayeredPlotResult)
        fast = shared.png(100)
        # a second chart with the same base reuses it and still matches the full figure
        again = draw(data, hl)
        assert again.png(100) == fast
        assert np.array_equal(pixels(fast), pixels(full_png(again)))
    # one base for every highlight, and one without the highlight's legend entry
    assert len(layers._BASES) == 2


def test_the_tile_map_outline_is_drawn_over_the_shared_map():
    codes = layout_codes()["icb_code"].tolist()
    pngs = {}
    for code in (codes[0], codes[20]):
        shared = tiles(code)
        pngs[code] = shared.png(100)
        assert np.array_equal(pixels(pngs[code]), pixels(full_png(tiles(code))))
    assert len(layers._BASES) == 1
    assert pngs[codes[0]] != pngs[codes[20]]  # the outline moved


def test_the_highlight_is_drawn_once_per_chart_and_the_base_is_built_once(monkeypatch):
    built = []
    original = layers.Layers.__init__

    def spy(self, key, build_base, add_highlight):
        def counting():
            built.append(key)
            return build_base()

        original(self, key, counting, add_highlight)

    monkeypatch.setattr(layers.Layers, "__init__", spy)
    data = trusts()
    first = funnel(data, ["T001"]).png(100)
    second = funnel(data, ["T002"]).png(100)
    assert len(built) == 1 and first != second
    # the base holds no highlight after a chart is drawn: the next chart does not show T001
    none = funnel(data, []).png(100)
    assert np.array_equal(pixels(none), pixels(full_png(funnel(data, []))))


def test_other_data_never_reuses_a_base():
    data = trusts()
    before = funnel(data, ["T001"]).png(100)
    changed = data.copy()
    changed.loc[5, "num"] = changed.loc[5, "den"] // 3  # one trust moves
    after = funnel(changed, ["T001"])
    assert after.png(100) != before
    assert np.array_equal(pixels(after.png(100)), pixels(full_png(funnel(changed, ["T001"]))))
    assert len(layers._BASES) == 2


def test_what_a_user_adds_to_the_figure_is_saved(tmp_path):
    res = funnel(trusts(), ["T001"])
    shared = res.png(100)
    res.fig.axes[0].text(0.5, 0.5, "my note", transform=res.fig.axes[0].transAxes, fontsize=30)
    written = res.save(tmp_path / "chart", dpi=100)
    assert Image.open(written["png"]).size == Image.open(io.BytesIO(shared)).size
    assert not np.array_equal(pixels(written["png"].read_bytes()), pixels(shared))


def test_layers_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ICSRESEARCH_SHARED_LAYERS", "0")
    res = funnel(trusts(), ["T001"])
    assert type(res) is PlotResult
    assert not layers._BASES


def test_a_highlight_below_the_base_is_refused():
    from matplotlib.lines import Line2D

    def base(ax):
        ax.plot([0, 1], [0, 1], zorder=5)

    def low(ax):
        return [ax.add_line(Line2D([0, 1], [1, 0], zorder=2))]

    res = layers.layered_result(
        layers.digest("test-low"), base, low, pd.DataFrame(), {}, kind="test", size=(4, 3)
    )
    with pytest.raises(RuntimeError, match="not above"):
        res.png(100)
