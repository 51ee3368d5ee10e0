"""Event-time plot: CS, imputation and event_study results, tables, provenance, alt text, errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models.staggered import callaway_santanna, imputation_did
from icsresearch.plots.event_time import event_time_plot
from icsresearch.plots.style import figure_text
from icsresearch.provenance import Provenance
from test_models_staggered import _sim


@pytest.fixture(scope="module")
def fits():
    data = _sim(never=6)
    data.attrs["provenance"] = Provenance.record(synthetic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cs = callaway_santanna(
            data, "y", entity="ics", time="year", cohort="g", base_period="universal"
        )
        bjs = imputation_did(data, "y", entity="ics", time="year", cohort="g")
    return data, cs, bjs


def _errorbar_extent(ax, label):
    cont = next(c for c in ax.containers if c.get_label() == label)
    segs = cont.lines[2][0].get_segments()
    return [(s[0][1], s[1][1]) for s in segs]


def test_callaway_santanna_points_intervals_reference_and_lines(fits):
    _, cs, _ = fits
    plot = event_time_plot(cs, alpha=0.1)
    table = cs.event_table(alpha=0.1)
    d = plot.data
    assert list(d["rel_time"]) == list(table["rel_time"])
    est = d[~d["reference"]]
    extent = _errorbar_extent(plot.ax, "Callaway & Sant'Anna")
    assert np.allclose([lo for lo, _ in extent], est["ci_low"])
    assert np.allclose([hi for _, hi in extent], est["ci_high"])
    assert d.loc[d["reference"], "rel_time"].tolist() == [-1]
    # a dashed line at the base period -1 and a solid one at zero
    vlines = [ln for ln in plot.ax.lines if ln.get_linestyle() == "--"]
    assert any(np.allclose(ln.get_xdata(), -1) for ln in vlines)
    assert any(np.allclose(ln.get_ydata(), 0) for ln in plot.ax.lines)
    assert "90% CI" in plot.ax.get_ylabel()
    # post-adoption periods shaded from -0.5 on
    spans = [p for p in plot.ax.patches if p.get_x() == pytest.approx(-0.5)]
    assert spans
    plot.close()


def test_alt_text_and_synthetic_stamp(fits):
    _, cs, bjs = fits
    plot = event_time_plot({"CS": cs, "Imputation": bjs})
    alt = plot.summary["alt_text"]
    assert "2 estimate series (CS, Imputation)" in alt and "base period -1" in alt
    assert "pre-adoption intervals exclude zero" in alt
    assert "SYNTHETIC DEMO DATA" in figure_text(plot.fig)
    # the two series are dodged either side of each event time
    d = plot.data.set_index(["series", "rel_time"])
    assert d.loc[("CS", 0), "x"] < 0 < d.loc[("Imputation", 0), "x"]
    with pytest.raises(InvalidParameterError, match="synthetic=False"):
        event_time_plot(cs, synthetic=False)
    plot.close()


def test_event_study_result_and_plain_table(fits):
    from icsresearch.models.did import event_study

    data, _, _ = fits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = event_study(
            data, "y", entity="ics", time="year", cohort="g", window=(-4, 4), endpoints="drop"
        )
    plot = event_time_plot(es)
    ref = es.event_table()
    assert list(plot.data["rel_time"]) == list(ref["rel_time"])
    assert np.allclose(plot.data["ci_low"].dropna(), ref["ci_low"].dropna())
    plot.close()
    table = pd.DataFrame(
        {"rel_time": [-2, 0, 1], "estimate": [0.1, 1.0, 1.2], "ci_low": [-0.2, 0.5, 0.6]}
    ).assign(ci_high=lambda d: 2 * d["estimate"] - d["ci_low"])
    plot = event_time_plot(table, base_period=None, title="Effect")
    assert plot.summary["base_period"] is None and "Effect" in figure_text(plot.fig)
    assert "source unknown" in figure_text(plot.fig)
    plot.close()


def test_bad_inputs_are_clear_errors(fits):
    _, cs, _ = fits
    with pytest.raises(InvalidParameterError, match="Fix"):
        event_time_plot(42)
    table = pd.DataFrame(
        {"rel_time": [0, 1], "estimate": [1.0, 1.0], "ci_low": [0.9, 0.1], "ci_high": [0.1, 2.0]}
    )
    with pytest.raises(InvalidParameterError, match="outside their own interval"):
        event_time_plot(table)
    with pytest.raises(InvalidParameterError, match="rel_time"):
        event_time_plot(table.drop(columns="rel_time"))
    with pytest.raises(InvalidParameterError, match="whole periods"):
        event_time_plot(table.assign(rel_time=[0.5, 1], ci_low=[0.5, 0.5], ci_high=[2, 2]))
    with pytest.raises(InvalidParameterError, match="no results"):
        event_time_plot({})


def test_save_writes_figure_and_data(fits, tmp_path):
    _, cs, _ = fits
    plot = cs.plot()
    written = plot.save(tmp_path / "event")
    assert written["png"].stat().st_size > 0
    back = pd.read_csv(written["csv"])
    assert list(back.columns) == [
        "series",
        "rel_time",
        "estimate",
        "ci_low",
        "ci_high",
        "reference",
        "x",
    ]
    plot.close()
