"""SPC (Making Data Count): hand-worked rule examples, assurance, baselines, properties."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icsresearch.errors import InvalidParameterError
from icsresearch.plots import spc_analysis, spc_chart
from icsresearch.plots.style import figure_text

# Baseline alternating 7, 5: mean 6, every moving range 2 -> mean MR 2,
# process limits 6 +/- 2.66 * 2 = 0.68 / 11.32, two sigma 6 +/- 3.5467 = 2.4533 / 9.5467.
BASE = [7, 5, 7, 5, 7, 5, 7, 5]


def flagged(sa, rule):
    return np.flatnonzero(sa.data[rule].to_numpy()).tolist()


def test_limits_worked_by_hand():
    sa = spc_analysis([10, 12, 11, 13, 12, 14, 13, 11, 12, 30], baseline=9, improvement="up")
    # mean 108 / 9 = 12; moving ranges 2,1,2,1,2,1,2,1 -> 1.5; limits 12 +/- 3.99
    row = sa.data.iloc[0]
    assert row["mean"] == pytest.approx(12.0)
    assert row["upl"] == pytest.approx(15.99)
    assert row["lpl"] == pytest.approx(8.01)
    assert row["upper_two_sigma"] == pytest.approx(12 + 2.66 * 2 / 3 * 1.5)
    assert flagged(sa, "outside_limits") == [9]
    assert sa.data["variation"].iloc[9] == "special_cause_improvement"
    assert sa.summary["variation"] == "improvement_high"
    assert sa.data["moving_range"].iloc[9] == pytest.approx(18.0)


def test_shift_needs_seven_points_on_one_side():
    above = [6.5, 7, 6.5, 7, 6.5, 7, 6.5]  # above the mean 6, alternating: no trend
    sa = spc_analysis(BASE + above, baseline=8)
    assert flagged(sa, "shift") == list(range(8, 15))
    assert sa.data["direction"].iloc[8:].eq("high").all()
    sa = spc_analysis(BASE + above[:6] + [6], baseline=8)  # the 7th on the mean breaks it
    assert flagged(sa, "shift") == []
    sa = spc_analysis(BASE + above[:6], baseline=8, shift_run=6)  # configurable
    assert flagged(sa, "shift") == list(range(8, 14))


def test_trend_needs_six_increasing_points_and_sets_its_own_direction():
    rising = [4.0, 4.4, 4.8, 5.2, 5.6, 6.0]  # below or on the mean, but rising
    sa = spc_analysis(BASE + rising, baseline=8, improvement="up")
    assert flagged(sa, "trend") == list(range(8, 14))
    assert flagged(sa, "shift") == []
    # all signals point up, so the (below-mean) points are improvement
    assert sa.data["variation"].iloc[8:].eq("special_cause_improvement").all()
    sa = spc_analysis(BASE + rising[:5], baseline=8)
    assert flagged(sa, "trend") == []
    sa = spc_analysis(BASE + [4.0, 4.4, 4.8, 4.8, 5.2, 5.6, 6.0], baseline=8)  # a tie breaks it
    assert flagged(sa, "trend") == []
    falling = [8.0, 7.6, 7.2, 6.8, 6.4, 6.0]
    sa = spc_analysis(BASE + falling, baseline=8, improvement="up")
    assert flagged(sa, "trend") == list(range(8, 14))
    assert sa.data["variation"].iloc[8:].eq("special_cause_concern").all()


def test_two_of_three_beyond_two_sigma():
    sa = spc_analysis(BASE + [10, 6, 10.5], baseline=8, improvement="down")
    assert flagged(sa, "two_of_three") == [8, 10]  # the middle point is not flagged
    assert sa.data["variation"].iloc[[8, 10]].eq("special_cause_concern").all()
    assert sa.data["variation"].iloc[9] == "common_cause"
    sa = spc_analysis(BASE + [10, 6, 5, 10], baseline=8)  # too far apart
    assert flagged(sa, "two_of_three") == []
    sa = spc_analysis(BASE + [10, 2.0, 6], baseline=8)  # opposite sides do not pair
    assert flagged(sa, "two_of_three") == []
    sa = spc_analysis(BASE + [12, 10], baseline=8)  # a point beyond the limit counts too
    assert flagged(sa, "outside_limits") == [8]
    assert flagged(sa, "two_of_three") == [8, 9]


def test_mixed_signals_take_the_side_of_the_mean():
    # a falling trend that stays above the mean and shifts: shift says high, trend says low
    seq = BASE + [9.4, 9.0, 8.6, 8.2, 7.8, 7.4, 7.0]
    sa = spc_analysis(seq, baseline=8, improvement="up")
    assert flagged(sa, "shift") == list(range(8, 15))
    assert flagged(sa, "trend") == list(range(8, 15))
    assert sa.data["direction"].iloc[8:].eq("high").all()


def test_no_direction_gives_neither():
    sa = spc_analysis([10, 12, 11, 13, 12, 14, 13, 11, 12, 2], baseline=9)
    assert sa.data["variation"].iloc[-1] == "special_cause_neither"
    assert sa.summary["variation"] == "neither_low"


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [
        ("up", 0.5, "pass"),  # target below LPL 0.68: every value beats it
        ("up", 12.0, "fail"),  # above UPL 11.32: no value reaches it
        ("up", 6.0, "hit_and_miss"),
        ("down", 12.0, "pass"),
        ("down", 0.5, "fail"),
        ("down", 11.32, "hit_and_miss"),
    ],
)
def test_assurance(improvement, target, expected):
    sa = spc_analysis(BASE, baseline="all", improvement=improvement, target=target)
    assert sa.summary["assurance"] == expected
    assert (
        sa.summary["assurance_label"]
        .lower()
        .startswith(
            {
                "pass": "consistently passes",
                "fail": "consistently fails",
                "hit_and_miss": "hit and miss",
            }[expected]
        )
    )


def test_assurance_needs_a_direction():
    sa = spc_analysis(BASE, baseline="all", target=3)
    assert sa.summary["assurance"] is None
    assert any("direction" in w for w in sa.summary["warnings"])


def test_explicit_baseline_is_never_rebased():
    x = pd.date_range("2020-04-01", periods=12, freq="MS")
    values = [7, 5, 7, 5, 7, 5, 7, 5, 40, 41, 42, 43]
    df = pd.DataFrame({"month": x, "v": values})
    sa = spc_analysis(df, value="v", x="month", baseline=("2020-04-01", "2020-11-01"))
    assert sa.data["mean"].eq(6.0).all() and sa.data["upl"].eq(6 + 2.66 * 2).all()
    assert sa.data["baseline"].sum() == 8
    # a later extreme run moves nothing: limits stay those of the named baseline
    assert sa.summary["phases"][0]["n_baseline"] == 8
    assert len(sa.summary["phases"]) == 1


def test_recalculation_starts_a_new_phase():
    s = pd.Series(
        [7, 5, 7, 5, 7, 5, 20, 22, 20, 22, 20, 22],
        index=[f"{y}/{(y + 1) % 100:02d}" for y in range(2008, 2020)],
    )
    sa = spc_analysis(s, baseline="all", recalculate_at="2014/15")
    p1, p2 = sa.summary["phases"]
    assert (p1["mean"], p1["mean_moving_range"]) == (6.0, 2.0)
    assert (p2["mean"], p2["mean_moving_range"]) == (21.0, 2.0)
    assert sa.data["phase"].tolist() == [1] * 6 + [2] * 6
    assert not sa.data["special_cause"].any()  # each phase judged against its own limits
    sa = spc_analysis(s, baseline="all", recalculate_at="2014/15", recalc_baseline=3)
    assert sa.summary["phases"][1]["mean"] == pytest.approx(62 / 3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"baseline": 1}, "at least 2"),
        ({"baseline": 50}, "phase has"),
        ({"baseline": "first"}, "'all'"),
        ({"baseline": "all", "recalculate_at": 99}, "not one of the x values"),
        ({"baseline": "all", "improvement": "higher"}, "improvement"),
        ({"baseline": "all", "trend_run": 1}, "trend_run"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        spc_analysis(BASE, **kwargs)


def test_bad_data():
    with pytest.raises(InvalidParameterError, match="missing value"):
        spc_analysis([1, 2, np.nan, 4], baseline="all")
    df = pd.DataFrame({"t": [3, 2, 1], "v": [1, 2, 3]})
    with pytest.raises(InvalidParameterError, match="time order"):
        spc_analysis(df, value="v", x="t", baseline="all")
    with pytest.raises(InvalidParameterError, match="repeated"):
        spc_analysis(pd.Series([1, 2, 3], index=[1, 1, 2]), baseline="all")


def test_short_baseline_warns():
    sa = spc_analysis(BASE, baseline=8)
    assert any("fewer than 12" in w for w in sa.summary["warnings"])


def test_chart_carries_icons_as_text_and_units():
    df = pd.DataFrame(
        {
            "month": pd.date_range("2021-04-01", periods=16, freq="MS"),
            "pct": BASE + [6.5, 7, 6.5, 7, 6.5, 7, 6.5, 7],
        }
    )
    df.attrs["synthetic"] = True
    res = spc_chart(
        df,
        value="pct",
        x="month",
        baseline=8,
        improvement="up",
        target=0.5,
        units="%",
        ylabel="Seen within 4 hours",
        title="Demo",
    )
    text = figure_text(res.fig).replace("\n", " ")
    assert "Special cause variation: improvement" in text
    assert "Consistently passes the target" in text
    assert "synthetic demo data" in text.lower()
    assert res.ax.get_ylabel() == "Seen within 4 hours (%)"
    assert res.summary["assurance"] == "pass"
    assert set(res.data["colour"]) == {"#A6A6A6", "#0072B2"}


# --- properties -----------------------------------------------------------------------------------

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
series = st.lists(st.integers(-20, 20), min_size=4, max_size=40)
# random walks: long monotone stretches and runs on one side of the mean are common
walks = st.lists(st.sampled_from([-3, -1, 0, 1, 3]), min_size=4, max_size=40).map(
    lambda steps: np.cumsum(steps).tolist()
)


@SETTINGS
@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(2, 30))
def test_constant_series_has_no_signals(c, n):
    sa = spc_analysis([c] * n, baseline="all", improvement="up")
    assert not sa.data["special_cause"].any()
    assert sa.data["upl"].eq(sa.data["mean"]).all() and sa.data["lpl"].eq(sa.data["mean"]).all()


@SETTINGS
@given(series, st.integers(-10_000, 10_000))
def test_shifting_by_c_shifts_mean_and_limits(values, c):
    a = spc_analysis(values, baseline="all")
    b = spc_analysis([v + c for v in values], baseline="all")
    for col in ("mean", "upl", "lpl", "upper_two_sigma", "lower_two_sigma"):
        np.testing.assert_allclose(b.data[col], a.data[col] + c, atol=1e-6)
    flags = ["outside_limits", "shift", "trend", "two_of_three", "direction"]
    pd.testing.assert_frame_equal(a.data[flags], b.data[flags])


@SETTINGS
@given(series)
def test_limits_are_symmetric(values):
    d = spc_analysis(values, baseline="all").data
    np.testing.assert_allclose(d["upl"] - d["mean"], d["mean"] - d["lpl"], atol=1e-9)
    np.testing.assert_allclose(
        d["upper_two_sigma"] - d["mean"], (d["upl"] - d["mean"]) * 2 / 3, atol=1e-9
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(series, walks))
def test_rules_match_a_brute_force_window_search(values):
    """Each rule re-derived independently by scanning every window that contains a point."""
    sa = spc_analysis(values, baseline="all")
    d = sa.data
    x = np.asarray(values, float)
    mean, upl, lpl = d["mean"].iloc[0], d["upl"].iloc[0], d["lpl"].iloc[0]
    u2, l2 = d["upper_two_sigma"].iloc[0], d["lower_two_sigma"].iloc[0]
    n = len(x)

    def windows(i, k):
        return [range(s, s + k) for s in range(max(0, i - k + 1), min(i, n - k) + 1)]

    for i in range(n):
        shift = any(
            all(x[j] > mean for j in w) or all(x[j] < mean for j in w) for w in windows(i, 7)
        )
        trend = any(
            all(x[j + 1] > x[j] for j in list(w)[:-1]) or all(x[j + 1] < x[j] for j in list(w)[:-1])
            for w in windows(i, 6)
        )
        two = (x[i] > u2 and any(sum(x[j] > u2 for j in w) >= 2 for w in windows(i, 3))) or (
            x[i] < l2 and any(sum(x[j] < l2 for j in w) >= 2 for w in windows(i, 3))
        )
        assert d["shift"].iloc[i] == shift, (i, values)
        assert d["trend"].iloc[i] == trend, (i, values)
        assert d["two_of_three"].iloc[i] == two, (i, values)
        assert d["outside_limits"].iloc[i] == (x[i] > upl or x[i] < lpl)


# --- issue 14: default baseline, rebasing, run charts, icons, alt text ------------------------

# 20 baseline points alternating 7, 5 (mean 6, mean moving range 2, limits 0.68 / 11.32)
BASE20 = [7, 5] * 10


def test_default_baseline_is_the_first_20_points_or_all_when_fewer():
    later = [9.0, 3.0] * 5  # far from the mean would move it if these were in the baseline
    sa = spc_analysis(BASE20 + later)
    assert sa.data["baseline"].sum() == 20
    assert sa.data["mean"].eq(6.0).all() and sa.data["upl"].eq(6 + 2.66 * 2).all()
    assert sa.summary["baseline_rule"] == "default: the first 20 points"
    sa = spc_analysis(BASE20[:14])  # 14 points: all of them, still an XmR chart
    assert sa.summary["chart"] == "xmr" and sa.data["baseline"].all()
    assert sa.summary["baseline_rule"] == "default: all 14 points (fewer than 20)"


def test_sustained_shift_is_reported_never_rebased_silently():
    x = pd.date_range("2020-01-01", periods=28, freq="MS")
    values = BASE20 + [9.0, 9.5] * 4  # 8 points above the mean after the baseline
    sa = spc_analysis(pd.Series(values, index=x))
    assert len(sa.summary["phases"]) == 1  # limits unchanged
    assert sa.summary["rebase_suggestions"] == [x[20]]
    assert any(
        w.startswith("a sustained shift detected at 2021-09-01") and "consider rebasing" in w
        for w in sa.summary["warnings"]
    )
    # the user accepts: rebase= (NHSRplotthedots' name) starts a new phase there
    rebased = spc_analysis(pd.Series(values, index=x), rebase=["2021-09-01"])
    assert [p["mean"] for p in rebased.summary["phases"]] == [6.0, 9.25]
    assert rebased.summary["rebase_suggestions"] == []
    same = spc_analysis(pd.Series(values, index=x), recalculate_at=["2021-09-01"])
    pd.testing.assert_frame_equal(rebased.data, same.data)
    # a shift of 6 after the baseline is not sustained enough
    short = spc_analysis(BASE20 + [9.0, 9.5] * 3)
    assert short.summary["rebase_suggestions"] == []
    # a run that starts inside the baseline counts from its first point after it
    straddle = spc_analysis(BASE20[:-1] + [4.0] + [4.0, 3.5] * 4)  # run from position 19
    assert flagged(straddle, "shift")[0] == 19
    assert straddle.summary["rebase_suggestions"] == [21]  # the 21st point, x = 21
    assert spc_analysis(BASE20[:-1] + [4.0] + [4.0, 3.5] * 3).summary["rebase_suggestions"] == []


def test_rebase_and_recalculate_at_together_is_one_clear_error():
    with pytest.raises(InvalidParameterError, match="give one of them.*Fix:"):
        spc_analysis(BASE20, rebase=[5], recalculate_at=[5])
    with pytest.raises(InvalidParameterError, match="Fix:"):
        spc_analysis(BASE20, chart="pareto")
    # 8 points and no baseline is a run chart: rebasing it has no limits to rebase
    with pytest.raises(InvalidParameterError, match="needs process limits.*Fix: drop rebase="):
        spc_analysis(BASE, rebase=[5])


@pytest.mark.parametrize(
    ("values", "shift", "trend"),
    [
        # median 5: six below, then six above with one on the median (skipped, not a break)
        ([1, 2, 1, 2, 1, 2, 8, 9, 5, 8, 9, 8, 9], [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12], []),
        # five above then five below the median: no shift; repeats: no trend
        ([9, 9, 9, 9, 9, 1, 1, 1, 1, 1, 5], [], []),
        # 5 rising points with a repeat inside: a trend of 5 (the repeat neither counts nor breaks)
        ([5, 5, 5, 1, 2, 3, 3, 4, 5, 5, 5], [], [3, 4, 5, 6, 7, 8]),
        # 4 rising points: no trend
        ([3, 3, 3, 1, 2, 3, 4, 3, 3], [], []),
    ],
)
def test_run_chart_rules_with_known_signals(values, shift, trend):
    sa = spc_analysis(values, chart="run")
    assert sa.summary["chart"] == "run"
    assert sa.data["lpl"].isna().all() and sa.data["upl"].isna().all()
    assert flagged(sa, "shift") == shift
    assert flagged(sa, "trend") == trend
    assert sa.summary["median"] == pytest.approx(float(np.median(values)))


def test_short_series_becomes_a_run_chart_by_default():
    assert spc_analysis([5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5]).summary["chart"] == "run"
    assert spc_analysis([5, 6] * 6).summary["chart"] == "xmr"  # 12 points: limits


def test_run_chart_gives_no_assurance_and_says_why():
    sa = spc_analysis([5, 6, 5, 6, 5, 6], improvement="up", target=3)
    assert sa.summary["assurance"] is None
    assert any("run chart, not XmR" in w for w in sa.summary["warnings"])
    assert any("assurance needs process limits" in w for w in sa.summary["warnings"])
    # an explicit baseline (or chart='xmr') keeps process limits on a short series
    assert spc_analysis([5, 6, 5, 6, 5, 6], baseline="all").summary["chart"] == "xmr"
    assert spc_analysis([5, 6, 5, 6, 5, 6], chart="xmr").summary["chart"] == "xmr"
    assert spc_analysis(BASE20, chart="run").summary["chart"] == "run"


def _plant(run: list[float], at: int) -> list[float]:
    """BASE20 with ``run`` written over it from position ``at``."""
    out = list(map(float, BASE20)) + [6.0] * 10
    out[at : at + len(run)] = run
    return out


@pytest.mark.parametrize("at", [20, 22, 23])
@pytest.mark.parametrize(
    ("run", "rule", "expected"),
    [
        # the planted values, the rule, and which of them it must flag (offsets; [] = none)
        ([6.5] * 7, "shift", list(range(7))),  # 7 above the mean: a shift
        ([6.5] * 6, "shift", []),  # 6 is not enough
        # a high point first so the trend cannot start earlier; then 6 rising: a trend
        ([8.0, 6.1, 6.2, 6.3, 6.4, 6.5, 6.6], "trend", list(range(1, 7))),
        ([8.0, 6.1, 6.2, 6.3, 6.4, 6.5], "trend", []),  # 5 rising is not enough
        ([12.0], "outside_limits", [0]),  # beyond the upper process limit 11.32
        ([11.0], "outside_limits", []),  # inside it
        ([10.0, 6.0, 10.0], "two_of_three", [0, 2]),  # 2 of 3 beyond two sigma (9.55)
        ([10.0, 6.0, 6.0, 10.0], "two_of_three", []),  # too far apart
        ([2.0, 6.0, 2.4], "two_of_three", [0, 2]),  # the same below (two sigma 2.45)
    ],
)
def test_planted_signals_are_found_exactly(run, rule, expected, at):
    """Brute force: each MDC rule planted at several places in a flat series."""
    sa = spc_analysis(_plant(run, at), baseline=20)
    assert set(flagged(sa, rule)) == {at + k for k in expected}


@pytest.fixture(scope="module")
def shifted_chart():
    df = pd.DataFrame(
        {
            "month": pd.date_range("2021-04-01", periods=28, freq="MS"),
            "pct": BASE20 + [9.0, 9.5] * 4,
        }
    )
    df.attrs["synthetic"] = True
    res = spc_chart(
        df, value="pct", x="month", improvement="up", target=3, units="%", title="Demo A&E"
    )
    yield res
    res.close()


def _gids(fig) -> set[str]:
    return {a.get_gid() for a in fig.findobj(lambda a: bool(a.get_gid()))}


def test_mdc_icons_are_drawn_on_the_chart(shifted_chart):
    gids = _gids(shifted_chart.fig)
    assert "mdc-icons" in gids
    assert "mdc-icon-variation-improvement_high" in gids
    assert "mdc-icon-assurance-hit_and_miss" in gids
    rings = shifted_chart.fig.findobj(
        lambda a: a.get_gid() == "mdc-icon-variation-improvement_high"
    )
    from matplotlib.colors import to_hex

    assert to_hex(rings[0].get_edgecolor()) == "#0072b2"  # MDC blue: improvement
    text = figure_text(shifted_chart.fig)
    assert "H" in text.split("\n") and "?" in text.split("\n")


@pytest.mark.parametrize(
    ("kwargs", "variation_gid", "assurance_gid"),
    [
        ({"improvement": "down"}, "mdc-icon-variation-concern_high", None),
        ({}, "mdc-icon-variation-neither_high", None),
        ({"improvement": "up", "target": 20}, "mdc-icon-variation-improvement_high",
         "mdc-icon-assurance-fail"),
        ({"improvement": "up", "target": 0.1}, "mdc-icon-variation-improvement_high",
         "mdc-icon-assurance-pass"),
    ],
)  # fmt: skip
def test_icon_follows_direction_and_target(kwargs, variation_gid, assurance_gid):
    res = spc_chart(BASE20 + [9.0, 9.5] * 4, **kwargs)
    gids = _gids(res.fig)
    assert variation_gid in gids
    assert (assurance_gid in gids) if assurance_gid else not any("assurance" in g for g in gids)
    res.close()


def test_alt_text_describes_limits_signals_icons_and_shift(shifted_chart):
    alt = shifted_chart.summary["alt_text"]
    assert alt.startswith("Demo A&E. XmR (SPC) chart of pct (%), 28 points from 2021-04-01")
    assert "mean 6, process limits 0.68 to 11.32 (baseline of 20 points)" in alt
    assert "Target line at 3." in alt
    assert "8 of 28 points show special-cause variation: shift 8." in alt
    assert "Variation icon (latest point): Special cause variation: improvement" in alt
    assert "Assurance icon: Hit and miss" in alt
    assert "A sustained shift detected at 2022-12-01: consider rebasing." in alt
    assert alt.endswith("Made from synthetic demo data.")
    assert "consider rebasing" in figure_text(shifted_chart.fig).replace("\n", " ")


def test_short_series_draws_a_run_chart_with_median():
    res = spc_chart(pd.Series([5.0, 6, 5, 6, 5, 6, 7, 8]), improvement="up", ylabel="Beds")
    assert res.summary["chart"] == "run"
    assert "Median" in [t.get_text() for t in res.ax.get_legend().get_texts()]
    assert "Variation (run chart rules):" in figure_text(res.fig)
    assert res.summary["alt_text"].startswith("Run chart of Beds, 8 points")
    assert "synthetic" not in res.summary["alt_text"]
    res.close()
