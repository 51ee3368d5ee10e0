"""Funnel plots: limits worked by hand, over-dispersion by formula, flags, errors, real A&E data."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.plots import funnel_data, funnel_plot
from icsresearch.plots.style import figure_text

Z95 = 1.959963984540054  # published normal quantiles
Z998 = 3.090232306167813


def _binom_cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(r + 1)) if r >= 0 else 0.0


def _poisson_cdf(r: int, mu: float) -> float:
    return sum(math.exp(-mu) * mu**k / math.factorial(k) for k in range(r + 1)) if r >= 0 else 0.0


def _exact_limit(cdf, prob: float, upper_r: int, scale: float) -> float:
    """Spiegelhalter (2005) appendix: r_p smallest r with F(r) >= p, interpolated."""
    r = next(r for r in range(upper_r + 1) if cdf(r) >= prob)
    alpha = (cdf(r) - prob) / (cdf(r) - cdf(r - 1))
    return (r - alpha) / scale


def _one_unit_frame(n_units_den, nums):
    return pd.DataFrame({"u": [f"U{i}" for i in range(len(nums))], "o": nums, "n": n_units_den})


# --- limits worked by hand ------------------------------------------------------------------------


def test_exact_binomial_limits_by_hand():
    df = _one_unit_frame([100, 400], [55, 190])
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", target=0.5)
    u = fa.data.set_index("unit").loc["U0"]
    cdf = lambda r: _binom_cdf(r, 100, 0.5)  # noqa: E731
    for level, tag in ((0.95, "95"), (0.998, "998")):
        lo = _exact_limit(cdf, (1 - level) / 2, 100, 100)
        hi = _exact_limit(cdf, 1 - (1 - level) / 2, 100, 100)
        assert u[f"lower_{tag}"] == pytest.approx(lo * 100, abs=1e-9)
        assert u[f"upper_{tag}"] == pytest.approx(hi * 100, abs=1e-9)
    # worked out: r_0.975 = 60, F(60) = 0.98240, F(59) = 0.97156 -> 0.5932
    assert u["upper_95"] == pytest.approx(59.32, abs=0.01)


def test_exact_poisson_limits_by_hand():
    df = _one_unit_frame([20.0, 50.0], [25, 45])
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", kind="ratio", target=1.0)
    u = fa.data.set_index("unit").loc["U0"]
    cdf = lambda r: _poisson_cdf(r, 20.0)  # noqa: E731
    assert u["lower_95"] == pytest.approx(_exact_limit(cdf, 0.025, 100, 20.0), abs=1e-9)
    assert u["upper_95"] == pytest.approx(_exact_limit(cdf, 0.975, 100, 20.0), abs=1e-9)
    assert u["upper_998"] == pytest.approx(_exact_limit(cdf, 0.999, 100, 20.0), abs=1e-9)
    assert fa.summary["multiplier"] == 1.0


def test_normal_proportion_limits_and_z_by_hand():
    # p0 = 0.8, n = 400: s = sqrt(0.8 * 0.2 / 400) = 0.02
    df = _one_unit_frame([400, 900], [336, 700])
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", target=0.8, method="normal")
    u = fa.data.set_index("unit").loc["U0"]
    assert u["lower_95"] == pytest.approx(100 * (0.8 - Z95 * 0.02))
    assert u["upper_95"] == pytest.approx(100 * (0.8 + Z95 * 0.02))
    assert u["upper_998"] == pytest.approx(100 * (0.8 + Z998 * 0.02))
    assert u["value"] == pytest.approx(84.0)
    assert u["z"] == pytest.approx((0.84 - 0.8) / 0.02)


def test_ratio_sqrt_scale_normal_limits_by_hand():
    # sqrt scale: (sqrt(1) +/- z / (2 sqrt(E)))^2, E = 100 -> (1 +/- 0.098)^2
    df = _one_unit_frame([100.0, 400.0], [120, 390])
    fa = funnel_data(
        df, numerator="o", denominator="n", unit="u", kind="ratio", target=1, method="normal"
    )
    u = fa.data.set_index("unit").loc["U0"]
    assert u["lower_95"] == pytest.approx((1 - Z95 / 20) ** 2)
    assert u["upper_95"] == pytest.approx((1 + Z95 / 20) ** 2)
    assert u["z"] == pytest.approx((math.sqrt(1.2) - 1) / (1 / 20))
    assert fa.summary["scale"] == "sqrt"


def test_log_scale_matches_shmi_convention():
    df = _one_unit_frame([100.0, 400.0], [120, 390])
    fa = funnel_data(
        df,
        numerator="o",
        denominator="n",
        unit="u",
        kind="ratio",
        target=1,
        method="normal",
        scale="log",
    )
    u = fa.data.set_index("unit").loc["U0"]
    assert u["z"] == pytest.approx(math.log(1.2) * math.sqrt(100))
    assert u["upper_95"] == pytest.approx(math.exp(Z95 / 10))


def test_pooled_mean_is_the_default_target():
    df = _one_unit_frame([1000, 2000, 2600], [900, 1700, 2500])
    fa = funnel_data(df, numerator="o", denominator="n", unit="u")
    assert fa.summary["target"] == pytest.approx(100 * 5100 / 5600)
    assert fa.summary["target_source"] == "pooled mean"


def test_limits_narrow_as_n_grows():
    df = _one_unit_frame([50, 5000], [40, 4100])
    for method in ("normal", "exact"):
        fa = funnel_data(df, numerator="o", denominator="n", unit="u", method=method)
        c = fa.limits
        width = c["upper_998"] - c["lower_998"]
        # exact limits step with the discrete counts, so compare decades, not neighbours
        at = [width[c["denominator"] >= n].iloc[0] for n in (60, 600, 4000)]
        assert at[0] > at[1] > at[2]
        if method == "normal":
            assert (np.diff(width.to_numpy()) <= 1e-12).all()


# --- flags ----------------------------------------------------------------------------------------


def test_flags_against_limits():
    # target 0.5, n = 400: s = 0.025; 95% band 0.451-0.549, 99.8% band 0.4227-0.5773
    nums = [200, 224, 240, 176, 160]  # 0.50, 0.56, 0.60, 0.44, 0.40
    df = _one_unit_frame([400] * 5, nums)
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", target=0.5, method="normal")
    assert fa.data["flag"].tolist() == [
        "within",
        "above 95%",
        "above 99.8%",
        "below 95%",
        "below 99.8%",
    ]
    assert fa.summary["flag_counts"]["within"] == 1


def test_excluded_units_are_reported_not_dropped_silently():
    df = _one_unit_frame([100, 0, 200, np.nan], [50, 0, 90, 3])
    fa = funnel_data(df, numerator="o", denominator="n", unit="u")
    assert fa.data["flag"].tolist()[1:] == ["excluded", "within", "excluded"]
    assert fa.summary["excluded"] == {"U1": "n <= 0", "U3": "missing n"}
    assert fa.summary["target"] == pytest.approx(100 * 140 / 300)


# --- over-dispersion ------------------------------------------------------------------------------


def _od_frame():
    n = np.array([200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100])
    p = np.array([0.70, 0.74, 0.78, 0.80, 0.81, 0.83, 0.84, 0.86, 0.90, 0.95])
    return pd.DataFrame({"u": [f"T{i}" for i in range(10)], "o": np.round(n * p), "n": n})


def test_multiplicative_phi_from_winsorised_z_by_hand():
    df = _od_frame()
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", overdispersion="multiplicative")
    o, n = df["o"].to_numpy(), df["n"].to_numpy()
    p0 = o.sum() / n.sum()
    z = (o / n - p0) / np.sqrt(p0 * (1 - p0) / n)
    zs = np.sort(z)
    # 10th/90th percentiles with linear interpolation: position 0.1 * (10 - 1) = 0.9
    q10 = zs[0] + 0.9 * (zs[1] - zs[0])
    q90 = zs[8] + 0.1 * (zs[9] - zs[8])
    zw = np.minimum(np.maximum(z, q10), q90)
    phi = np.mean(zw**2)
    assert fa.summary["phi_estimated"] == pytest.approx(phi)
    assert fa.summary["phi"] == pytest.approx(phi)
    # exactly the lowest and the highest z-score were pulled in (10% of 10 each side)
    assert fa.data["winsorised"].sum() == 2
    assert set(fa.data.loc[fa.data["winsorised"], "unit"]) == {
        df["u"][np.argmin(z)],
        df["u"][np.argmax(z)],
    }
    u = fa.data.iloc[3]
    s = math.sqrt(p0 * (1 - p0) / 500)
    assert u["upper_95"] == pytest.approx(100 * (p0 + Z95 * math.sqrt(phi) * s))
    assert u["z_adjusted"] == pytest.approx(z[3] / math.sqrt(phi))


def test_additive_tau2_dersimonian_laird_by_hand():
    df = _od_frame()
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", overdispersion="additive")
    o, n = df["o"].to_numpy(), df["n"].to_numpy()
    p0 = o.sum() / n.sum()
    s = np.sqrt(p0 * (1 - p0) / n)
    z = (o / n - p0) / s
    lo, hi = (
        np.sort(z)[0] + 0.9 * np.diff(np.sort(z)[:2])[0],
        np.sort(z)[8] + 0.1 * np.diff(np.sort(z)[8:])[0],
    )
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    w = 1 / s**2
    tau2 = (10 * phi - 9) / (w.sum() - (w**2).sum() / w.sum())
    assert tau2 > 0
    assert fa.summary["tau2"] == pytest.approx(tau2)
    u = fa.data.iloc[0]
    assert u["lower_998"] == pytest.approx(100 * (p0 - Z998 * math.sqrt(s[0] ** 2 + tau2)))
    assert u["z_adjusted"] == pytest.approx((o[0] / n[0] - p0) / math.sqrt(s[0] ** 2 + tau2))
    # random effects widen the band most for the largest units, relative to their own s
    no_od = funnel_data(df, numerator="o", denominator="n", unit="u", method="normal")
    ratio = (fa.data["upper_95"] - fa.summary["target"]) / (
        no_od.data["upper_95"] - no_od.summary["target"]
    )
    assert (np.diff(ratio.to_numpy()) > 0).all()


def test_phi_one_and_tau2_zero_reduce_to_plain_normal_limits():
    df = _od_frame()
    plain = funnel_data(df, numerator="o", denominator="n", unit="u", method="normal")
    mult = funnel_data(
        df, numerator="o", denominator="n", unit="u", overdispersion="multiplicative", phi=1.0
    )
    add = funnel_data(
        df, numerator="o", denominator="n", unit="u", overdispersion="additive", tau2=0.0
    )
    cols = ["lower_95", "upper_95", "lower_998", "upper_998", "flag"]
    pd.testing.assert_frame_equal(plain.data[cols], mult.data[cols])
    pd.testing.assert_frame_equal(plain.data[cols], add.data[cols])
    np.testing.assert_allclose(plain.data["z"], mult.data["z_adjusted"])


def test_under_dispersed_data_never_narrow_limits():
    # every unit exactly at target: phi_hat = 0, tau2 = 0, limits as without over-dispersion
    df = pd.DataFrame(
        {"u": list("ABCDE"), "o": [80, 160, 240, 320, 400], "n": [100, 200, 300, 400, 500]}
    )
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", overdispersion="multiplicative")
    assert fa.summary["phi_estimated"] == pytest.approx(0.0)
    assert fa.summary["phi"] == 1.0
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", overdispersion="additive")
    assert fa.summary["tau2"] == 0.0


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "frame", "match"),
    [
        ({"numerator": "x"}, None, r"\['x'\] not found"),
        ({}, pd.DataFrame({"u": ["A", "B"], "o": [11, 5], "n": [10, 10]}), "exceeds"),
        ({"method": "exact", "overdispersion": "additive"}, None, "normal"),
        ({"target": 95}, None, "fraction"),
        ({}, pd.DataFrame({"u": ["A", "A"], "o": [1, 2], "n": [10, 10]}), "more than once"),
        ({}, pd.DataFrame({"u": ["A", "B"], "o": ["*", 2], "n": [10, 10]}), "not numbers"),
        (
            {"kind": "ratio", "scale": "log"},
            pd.DataFrame({"u": ["A", "B"], "o": [0, 2], "n": [1.5, 2.0]}),
            "scale='sqrt'",
        ),
        ({"highlight": ["ZZZ"]}, None, "ZZZ"),
        ({"scale": "sqrt"}, None, "not available"),
        ({}, pd.DataFrame({"u": ["A", "B"], "o": [5, 5], "n": [10.5, 10]}), "whole-number"),
        ({"phi": 2.0}, None, "multiplicative"),
    ],
)
def test_bad_input_gives_clear_errors(kwargs, frame, match):
    df = frame if frame is not None else _od_frame()
    args = {"numerator": "o", "denominator": "n", "unit": "u"} | kwargs
    with pytest.raises(InvalidParameterError, match=match):
        funnel_data(df, **args)


# --- the plot -----------------------------------------------------------------------------------


def test_funnel_plot_draws_limits_labels_and_footer():
    df = _od_frame()
    df["name"] = [f"Trust {c}" for c in "ABCDEFGHIJ"]
    res = funnel_plot(
        df,
        numerator="o",
        denominator="n",
        unit="u",
        label="name",
        highlight=["T2", "T7"],
        highlight_name="Demo ICS trusts",
        source_note="NHS England (demo)",
        synthetic=True,
        overdispersion="additive",
    )
    text = figure_text(res.fig).replace("\n", " ")
    assert "Trust C" in text and "Trust H" in text and "Trust A" not in text
    assert "Source: NHS England (demo)" in text
    assert "additive random-effects" in text
    assert "synthetic demo data" in text.lower()
    assert "(%)" in res.ax.get_ylabel()
    assert res.data["highlighted"].sum() == 2
    assert {"lower_95", "upper_998"} <= set(res.tables["limits"].columns)
    # the drawn 99.8% upper curve is the table's
    lines = [ln for ln in res.ax.get_lines() if ln.get_label() == "99.8% limits"]
    np.testing.assert_allclose(lines[0].get_ydata(), res.tables["limits"]["lower_998"])


# --- real data ------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_ae_march_2019_type1(mirror):
    """Type-1 A&E, March 2019: pooled target and 99.8% flags agree with an independent count."""
    import pyreadr

    raw = next(iter(pyreadr.read_r(mirror / "NHSRdatasets/data/ae_attendances.rda").values()))
    period = pd.to_datetime(raw["period"])
    m = raw[(period == pd.Timestamp("2019-03-01")) & (raw["type"].astype(str) == "1")]
    m = m[m["attendances"] > 0]
    seen = (m["attendances"] - m["breaches"]).to_numpy(float)
    att = m["attendances"].to_numpy(float)
    df = pd.DataFrame({"trust": m["org_code"].astype(str).to_numpy(), "seen": seen, "att": att})
    fa = funnel_data(df, numerator="seen", denominator="att", unit="trust", method="normal")
    p0 = seen.sum() / att.sum()
    assert fa.summary["target_natural"] == pytest.approx(p0)
    s = np.sqrt(p0 * (1 - p0) / att)
    above = int(((seen / att) > p0 + Z998 * s).sum())
    below = int(((seen / att) < p0 - Z998 * s).sum())
    assert fa.summary["flag_counts"].get("above 99.8%", 0) == above
    assert fa.summary["flag_counts"].get("below 99.8%", 0) == below
    # real performance data are heavily over-dispersed: most trusts sit outside plain limits,
    # a handful outside the random-effects limits
    assert above + below > len(df) / 2
    od = funnel_data(
        df, numerator="seen", denominator="att", unit="trust", overdispersion="additive"
    )
    assert od.summary["phi_estimated"] > 10
    outside = sum(v for k, v in od.summary["flag_counts"].items() if "99.8" in k)
    assert outside < len(df) * 0.05


def test_ratio_axis_units_follow_the_multiplier():
    df = _one_unit_frame([100.0, 400.0], [120, 390])
    res = funnel_plot(df, numerator="o", denominator="n", unit="u", kind="ratio", target=1)
    assert res.ax.get_ylabel().endswith("(ratio)")
    res = funnel_plot(
        df,
        numerator="o",
        denominator="n",
        unit="u",
        kind="ratio",
        multiplier=1000,
        ylabel="Admissions",
    )
    assert res.ax.get_ylabel() == "Admissions (per 1,000)"
    assert res.data["value"].iloc[0] == pytest.approx(1200.0)


def test_target_line_can_be_named():
    import pandas as pd

    from icsresearch.plots import funnel_plot

    df = pd.DataFrame(
        {"unit": list("ABCDE"), "o": [80, 90, 70, 95, 60], "n": [100, 120, 90, 110, 80]}
    )
    res = funnel_plot(
        df, numerator="o", denominator="n", unit="unit", target_name="England average"
    )
    labels = (
        [t.get_text() for t in res.fig.axes[0].get_legend().get_texts()]
        if res.fig.axes[0].get_legend()
        else [line.get_label() for line in res.fig.axes[0].get_lines()]
    )
    pooled = 100 * df["o"].sum() / df["n"].sum()  # shown as a percentage
    assert f"England average {pooled:.3g}" in labels, labels
    res.close()


# --- issue 14: unit labels, impossible limits, FDR, the over-dispersion note, alt text --------


def _brute_force_bh(p, q):
    """BH by its definition: reject every p at or below the largest p_(k) <= k q / m."""
    m = len(p)
    ranked = sorted(p)
    cut = max((ranked[k - 1] for k in range(1, m + 1) if ranked[k - 1] <= k * q / m), default=-1)
    return [pi <= cut for pi in p]


def test_benjamini_hochberg_matches_brute_force():
    from icsresearch.plots.funnel import benjamini_hochberg

    rng = np.random.default_rng(14)
    for _ in range(200):
        m = int(rng.integers(1, 30))
        p = np.where(rng.random(m) < 0.3, rng.random(m) * 0.01, rng.random(m))
        if rng.random() < 0.3:
            p[: m // 2] = p[0]  # ties
        qv = benjamini_hochberg(p)
        for q in (0.01, 0.05, 0.2):
            assert (qv <= q).tolist() == _brute_force_bh(p.tolist(), q)
        # adjusted p-values by definition: min over p_j >= p_i of m p_j / rank_j
        ranks = np.argsort(np.argsort(p, kind="stable"), kind="stable") + 1
        for i in range(m):
            want = min(min(m * p[j] / ranks[j] for j in range(m) if p[j] >= p[i]), 1.0)
            assert qv[i] == pytest.approx(want)


def test_fdr_flags_units_under_the_over_dispersed_null():
    df = _od_frame()
    fa = funnel_data(
        df, numerator="o", denominator="n", unit="u", overdispersion="additive", fdr=0.2
    )
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(fa.data["z_adjusted"]))
    np.testing.assert_allclose(fa.data["p_value"], p)
    flagged = _brute_force_bh(p.tolist(), 0.2)
    assert (fa.data["fdr_flag"] != "within").tolist() == flagged
    direction = np.where(fa.data["z_adjusted"] > 0, "above", "below")
    assert (fa.data["fdr_flag"] == np.where(flagged, direction, "within")).all()
    assert fa.summary["fdr"]["n_flagged"] == sum(flagged)
    assert "false discovery rate of 20%" in fa.summary["fdr"]["note"]
    # without fdr= there is no flag column, but the p- and q-values are there
    plain = funnel_data(df, numerator="o", denominator="n", unit="u")
    assert "fdr_flag" not in plain.data and {"p_value", "q_value"} <= set(plain.data)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "5%", True])
def test_bad_fdr_is_one_clear_error(bad):
    with pytest.raises(InvalidParameterError, match=r"fdr must be .*Fix: pass fdr=0\.05"):
        funnel_data(_od_frame(), numerator="o", denominator="n", unit="u", fdr=bad)


def test_additive_note_explains_the_flat_funnel():
    df = _od_frame()
    fa = funnel_data(df, numerator="o", denominator="n", unit="u", overdispersion="additive")
    note = fa.summary["overdispersion_note"]
    tau2 = fa.summary["tau2"]
    p0 = fa.summary["target_natural"]
    s2 = p0 * (1 - p0) / np.median(df["n"])
    assert note.startswith("Why the funnel is nearly flat: the acute trusts differ")
    assert "DerSimonian-Laird; Spiegelhalter 2005" in note
    share = tau2 / (s2 + tau2)
    assert f"tau^2 is {'over 99%' if share > 0.99 else f'{share:.0%}'} of the total" in note
    none = funnel_data(
        df, numerator="o", denominator="n", unit="u", overdispersion="additive", tau2=0.0
    )
    assert "tau^2 = 0" in none.summary["overdispersion_note"]
    assert (
        funnel_data(df, numerator="o", denominator="n", unit="u").summary["overdispersion_note"]
        is None
    )


def _near_100_frame():
    # a target of 97%: the upper normal limit passes 100% for small trusts
    n = np.array([15, 30, 60, 200, 800, 2000, 5000])
    return pd.DataFrame({"u": [f"T{i}" for i in range(7)], "o": np.round(n * 0.97), "n": n})


@pytest.fixture(scope="module")
def near_100_plot():
    res = funnel_plot(
        _near_100_frame(),
        numerator="o",
        denominator="n",
        unit="u",
        target=0.97,
        method="normal",
        highlight=["T1"],
        highlight_name="Demo ICS trusts",
        fdr=0.05,
        synthetic=True,
        title="Demo",
    )
    yield res
    res.close()


def test_limits_are_cut_only_where_impossible_and_the_axis_shows_it(near_100_plot):
    res = near_100_plot
    lim = res.tables["limits"]
    s = np.sqrt(0.97 * 0.03 / lim["denominator"])
    raw = 100 * (0.97 + Z998 * s)
    # exactly the curve beyond 100% is cut to 100; everywhere else the formula stands
    np.testing.assert_allclose(lim["upper_998"], np.minimum(raw, 100.0))
    assert (raw > 100).any() and (raw < 100).any()
    cut = [c for c in res.summary["clipped_limits"] if c["level"] == 0.998]
    assert cut[0]["side"] == "upper" and cut[0]["bound"] == 100.0
    assert cut[0]["denominator_to"] == pytest.approx(lim["denominator"][raw >= 100].max())
    bound = [ln for ln in res.ax.get_lines() if ln.get_gid() == "funnel-bound-100"]
    assert len(bound) == 1 and bound[0].get_ydata()[0] == 100.0
    lo, hi = res.ax.get_ylim()
    # 100% in view, and only a sliver (not a band of impossible values) beyond it
    assert 100.0 < hi < 100.0 + 0.02 * (hi - lo)
    assert "limits cut here" in " ".join(t.get_text() for t in res.ax.get_legend().get_texts())


def test_points_are_acute_trusts_by_default(near_100_plot):
    labels = [t.get_text() for t in near_100_plot.ax.get_legend().get_texts()]
    assert "Acute trusts (7)" in labels
    assert not any(lbl.startswith("Units") for lbl in labels)
    assert near_100_plot.summary["unit_name"] == "acute trusts"
    res = funnel_plot(_od_frame(), numerator="o", denominator="n", unit="u", unit_name="NHS trusts")
    assert "NHS trusts (10)" in [t.get_text() for t in res.ax.get_legend().get_texts()]
    assert " 10 NHS trusts." in res.summary["alt_text"]
    res.close()


def test_alt_text_names_limits_clipping_fdr_and_highlighted(near_100_plot):
    alt = near_100_plot.summary["alt_text"]
    d = near_100_plot.data.set_index("unit")
    assert alt.startswith("Demo. Funnel plot of o / n (%) against n for 7 acute trusts.")
    assert "95% and 99.8% control limits" in alt
    assert "The 99.8% upper limit is cut at 100 (an impossible value beyond it)" in alt
    assert "flagged at a false discovery rate of 5%" in alt
    assert f"Demo ICS trusts: T1 {d.loc['T1', 'value']:.3g} ({d.loc['T1', 'flag']})." in alt
    assert alt.endswith("Made from synthetic demo data.")
