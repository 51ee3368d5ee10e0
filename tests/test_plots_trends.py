"""Trend lines by financial year: gaps stay gaps, labels, units, errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.plots import ics_vs_england, trend_plot
from icsresearch.plots.style import figure_text


def _long():
    return pd.DataFrame(
        {
            "series": ["ICS"] * 4 + ["England"] * 5,
            "year": [2012, 2013, 2016, 2017, 2012, 2013, 2014, 2016, 2017],
            "v": [91.0, 90.0, 86.0, 84.0, 93.0, 92.0, 90.0, 89.0, 88.0],
        }
    )


def _line(ax, label):
    return next(ln for ln in ax.get_lines() if ln.get_label() == label)


def test_gap_years_break_the_lines():
    res = trend_plot(_long(), value="v", focus="ICS", units="%", ylabel="Seen in 4 hours")
    ics = _line(res.ax, "ICS")
    assert list(ics.get_xdata()) == [2012, 2013, 2014, 2015, 2016, 2017]
    y = np.asarray(ics.get_ydata(), float)
    assert np.isnan(y[[2, 3]]).all() and not np.isnan(y[[0, 1, 4, 5]]).any()
    eng = np.asarray(_line(res.ax, "England").get_ydata(), float)
    assert np.isnan(eng).tolist() == [False, False, False, True, False, False]
    assert res.summary["no_data_years"] == [2015]
    assert res.summary["gap_years"] == {"ICS": [2014, 2015], "England": [2015]}
    assert res.data["financial_year"].tolist()[:3] == ["2012/13", "2013/14", "2014/15"]
    assert len(res.data) == 12  # 2 series x 6 years, gaps included as NaN


def test_labels_units_and_styles():
    res = trend_plot(
        _long(),
        value="v",
        focus="ICS",
        units="%",
        ylabel="Seen in 4 hours",
        title="Demo",
        synthetic=True,
    )
    ticks = [t.get_text() for t in res.ax.get_xticklabels()]
    assert ticks == ["2012/13", "2013/14", "2014/15", "2015/16", "2016/17", "2017/18"]
    assert res.ax.get_ylabel() == "Seen in 4 hours (%)"
    assert res.ax.get_xlabel() == "Financial year"
    assert _line(res.ax, "ICS").get_linewidth() > _line(res.ax, "England").get_linewidth()
    text = figure_text(res.fig)
    assert "no data" in text and "synthetic demo data" in text.lower()


def test_units_from_reader_attrs():
    df = _long()
    df.attrs = {"columns": {"v": {"label": "A&E 4-hour share", "unit": "%"}}}
    res = trend_plot(df, value="v")
    assert res.ax.get_ylabel() == "A&E 4-hour share (%)"


def test_ics_vs_england_with_region_and_series_inputs():
    ics = pd.Series([80.0, 82.0, 85.0], index=[2016, 2017, 2018])
    eng = pd.DataFrame({"year": [2015, 2016, 2017, 2018], "value": [84.0, 85.0, 86.0, 86.5]})
    reg = pd.DataFrame({"year": [2016, 2018], "value": [83.0, 84.0]})
    res = ics_vs_england(ics, eng, reg, ics_name="Demo ICS", region_name="Midlands", units="%")
    assert res.summary["series"] == ["Demo ICS", "England", "Midlands"]
    assert res.summary["gap_years"]["Midlands"] == [2015, 2017]
    legend = [t.get_text() for t in res.ax.get_legend().get_texts()]
    assert legend == ["Demo ICS", "England", "Midlands"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "match"),
    [
        (
            pd.DataFrame({"series": ["a", "a"], "year": [2012, 2012], "v": [1, 2]}),
            {},
            "same series",
        ),
        (pd.DataFrame({"series": ["a"], "year": [2012.5], "v": [1]}), {}, "whole years"),
        (pd.DataFrame({"series": ["a"], "year": ["2012/13"], "v": [1]}), {}, "not numbers"),
        (pd.DataFrame({"series": ["a"], "year": [2012], "v": [1]}), {"focus": "b"}, "focus"),
    ],
)
def test_errors(frame, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        trend_plot(frame, value="v", **kwargs)
