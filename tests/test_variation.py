"""icsresearch.variation against brute force, closed forms and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from icsresearch import variation
from icsresearch.errors import InvalidParameterError
from test_docstrings import docstring_problems

# --- variance_shares ------------------------------------------------------------------------------


def _unbalanced(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(9):
        effect = rng.normal(0, 2)
        for _ in range(rng.integers(2, 7)):
            rows.append({"g": f"G{g}", "y": 10 + effect + rng.normal(0, 1)})
    return pd.DataFrame(rows)


def test_variance_shares_one_way_matches_sums_of_squares_by_hand():
    df = _unbalanced()
    out = variation.variance_shares(df, "y", "g")
    y, grand = df["y"], df["y"].mean()
    means = df.groupby("g")["y"].transform("mean")
    ss_between = float(((means - grand) ** 2).sum())
    ss_within = float(((y - means) ** 2).sum())
    n, k = len(df), df["g"].nunique()
    sizes = df.groupby("g").size().to_numpy()
    n0 = (n - (sizes**2).sum() / n) / (k - 1)  # the classic unbalanced one-way ANOVA n0
    msb, msw = ss_between / (k - 1), ss_within / (n - k)
    var_b = (msb - msw) / n0
    assert out["observations"] == n and out["groups"] == k and out["periods"] == 1
    assert out["ss_total"] == pytest.approx(ss_between + ss_within)
    assert out["ss_between"] == pytest.approx(ss_between)
    assert out["ss_within"] == pytest.approx(ss_within)
    assert out["ss_time"] == pytest.approx(0, abs=1e-9)
    assert out["between_share"] == pytest.approx(ss_between / (ss_between + ss_within))
    assert out["expected_share_if_no_groups"] == pytest.approx((k - 1) / (n - 1))
    assert out["var_within"] == pytest.approx(msw)
    assert out["var_between"] == pytest.approx(var_b)
    assert out["icc"] == pytest.approx(var_b / (var_b + msw))


def test_variance_shares_balanced_two_way_matches_anova_and_reml():
    rng = np.random.default_rng(7)
    groups, years = 12, 4
    effect = rng.normal(0, 1.5, groups)
    trend = np.array([0.0, 1.0, 3.0, 2.0])
    df = pd.DataFrame(
        [
            {"g": f"G{g:02d}", "year": 2020 + t, "y": effect[g] + trend[t] + rng.normal(0, 1)}
            for g in range(groups)
            for t in range(years)
        ]
    )
    out = variation.variance_shares(df, "y", "g", time="year")
    grand = df["y"].mean()
    g_means = df.groupby("g")["y"].mean()
    t_means = df.groupby("year")["y"].mean()
    ss_time = groups * float(((t_means - grand) ** 2).sum())
    ss_group = years * float(((g_means - grand) ** 2).sum())
    fitted = df["g"].map(g_means) + df["year"].map(t_means) - grand
    ss_resid = float(((df["y"] - fitted) ** 2).sum())
    assert out["periods"] == years
    assert out["ss_time"] == pytest.approx(ss_time)
    assert out["ss_between"] == pytest.approx(ss_group)
    assert out["ss_within"] == pytest.approx(ss_resid)
    assert out["expected_share_if_no_groups"] == pytest.approx((groups - 1) / (len(df) - years))
    # Balanced data with a positive estimate: the ANOVA components equal REML's.
    reml = smf.mixedlm("y ~ C(year)", df, groups=df["g"]).fit(reml=True)
    assert out["var_between"] == pytest.approx(float(reml.cov_re.iloc[0, 0]), rel=1e-4)
    assert out["var_within"] == pytest.approx(float(reml.scale), rel=1e-4)


def test_variance_shares_unbalanced_with_time_is_sequential_anova():
    df = _unbalanced(11)
    df["year"] = np.arange(len(df)) % 3
    df = df.iloc[:-2]  # unbalanced in both directions
    out = variation.variance_shares(df, "y", "g", time="year")
    import statsmodels.api as sm

    table = sm.stats.anova_lm(smf.ols("y ~ C(year) + C(g)", df).fit(), typ=1)
    assert out["ss_time"] == pytest.approx(table.loc["C(year)", "sum_sq"])
    assert out["ss_between"] == pytest.approx(table.loc["C(g)", "sum_sq"])
    assert out["ss_within"] == pytest.approx(table.loc["Residual", "sum_sq"])
    assert out["var_within"] == pytest.approx(table.loc["Residual", "mean_sq"])


def test_variance_shares_groups_that_do_not_matter():
    # Identical group means: nothing between groups, the component is truncated at zero.
    df = pd.DataFrame({"g": list("AAABBBCCC"), "y": [1, 2, 3, 3, 2, 1, 2, 1, 3.0]})
    out = variation.variance_shares(df, "y", "g")
    assert out["ss_between"] == pytest.approx(0, abs=1e-12)
    assert out["var_between"] == 0 and out["icc"] == 0
    assert out["expected_share_if_no_groups"] == pytest.approx(2 / 8)


def test_variance_shares_drops_missing_and_refuses_bad_input():
    df = _unbalanced()
    with_gap = pd.concat([df, pd.DataFrame({"g": ["G0"], "y": [np.nan]})], ignore_index=True)
    assert variation.variance_shares(with_gap, "y", "g")["observations"] == len(df)
    with pytest.raises(InvalidParameterError, match=r"\['year'\] are not in the data"):
        variation.variance_shares(df, "y", "g", time="year")
    with pytest.raises(InvalidParameterError, match="need at least two groups"):
        variation.variance_shares(df.assign(g="one"), "y", "g")
    with pytest.raises(InvalidParameterError, match="need at least two groups"):
        variation.variance_shares(df.drop_duplicates("g"), "y", "g")


# --- bootstrap of shares --------------------------------------------------------------------------


def _units(nums, dens, codes=None) -> pd.DataFrame:
    codes = codes or [f"U{i:02d}" for i in range(len(nums))]
    return pd.DataFrame({"unit": codes, "num": nums, "den": dens})


def test_patient_replicates_are_binomial_draws():
    df = _units([30, 500, 900], [1000, 2000, 1000])
    b = variation.share_replicates(
        df, numerator="num", denominator="den", unit="unit", reps=20000, seed=5
    )
    p = np.array([0.03, 0.25, 0.9])
    n = np.array([1000, 2000, 1000])
    assert b.resample == "patients" and b.numerator_reps.shape == (20000, 3)
    assert (b.denominator_reps == n).all()
    assert b.numerator_reps.mean(axis=0) == pytest.approx(n * p, rel=0.01)
    assert b.numerator_reps.var(axis=0) == pytest.approx(n * p * (1 - p), rel=0.05)
    again = variation.share_replicates(
        df, numerator="num", denominator="den", unit="unit", reps=20000, seed=5
    )
    assert (again.numerator_reps == b.numerator_reps).all()


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (_units([5, 12], [10, 10]), {}, "0 <= 'num' <= 'den'"),
        (_units([5, -1], [10, 10]), {}, "0 <= 'num' <= 'den'"),
        (_units([5, np.nan], [10, 10]), {}, "missing for 1 row"),
        (_units([5, 2.5], [10, 10]), {}, "whole-number counts"),
        (_units([5, 2], [10, 10], ["A", "A"]), {}, "more than once"),
        (_units([5, 2], [10, 10]), {"reps": 0}, "reps must be a positive"),
    ],
)
def test_share_replicates_refuses_bad_input(frame, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        variation.share_replicates(frame, numerator="num", denominator="den", unit="unit", **kwargs)
    with pytest.raises(InvalidParameterError, match=r"\['size'\] are not in the data"):
        variation.share_replicates(
            _units([1], [2]), numerator="num", denominator="size", unit="unit"
        )


def test_ratio_of_extremes_against_the_delta_method():
    # Two extremes far from the rest: the interval of max/min is the log-ratio's normal interval.
    nums, dens = [200, 5000, 5200, 5400, 6000], [20000] * 5
    df = _units(nums, dens)
    r = variation.ratio_of_extremes(
        df, numerator="num", denominator="den", unit="unit", reps=20000, seed=11
    )
    p_hi, p_lo = 6000 / 20000, 200 / 20000
    assert r["estimate"] == pytest.approx(p_hi / p_lo)
    assert (r["highest"], r["lowest"]) == ("U04", "U00")
    assert r["p_same_highest"] > 0.99 and r["p_same_lowest"] == 1.0
    se = np.sqrt((1 - p_hi) / (20000 * p_hi) + (1 - p_lo) / (20000 * p_lo))
    z = stats.norm.ppf(0.975)
    assert r["ci_low"] == pytest.approx(p_hi / p_lo * np.exp(-z * se), rel=0.02)
    assert r["ci_high"] == pytest.approx(p_hi / p_lo * np.exp(z * se), rel=0.02)
    assert r["share_infinite"] == 0 and r["units"] == 5 and r["resample"] == "patients"


def test_ratio_of_extremes_with_a_zero_share_is_infinite():
    df = _units([0, 3, 40], [50, 50, 50])
    r = variation.ratio_of_extremes(
        df, numerator="num", denominator="den", unit="unit", reps=500, seed=1
    )
    assert r["estimate"] == np.inf and r["ci_high"] == np.inf and r["share_infinite"] == 1.0
    with pytest.raises(InvalidParameterError, match="level must be"):
        variation.ratio_of_extremes(df, numerator="num", denominator="den", unit="unit", level=95)


def test_top_share_by_hand_and_against_the_delta_method():
    nums = [900, 800, 700, 100, 90, 80, 70, 60]
    dens = [3000, 4000, 5000, 2000, 9000, 1000, 1000, 1000]
    df = _units(nums, dens)
    t = variation.top_share(
        df, numerator="num", denominator="den", unit="unit", k=3, reps=20000, seed=4
    )
    top, rest = 900 + 800 + 700, 100 + 90 + 80 + 70 + 60
    assert t.attrs["top_units"] == ["U00", "U01", "U02"]
    assert t.attrs["membership"]["U00"] == 1.0
    assert t.loc["top_k_share_of_numerator", "estimate"] == pytest.approx(top / (top + rest))
    assert t.loc["their_share_of_denominator", "estimate"] == pytest.approx(12000 / 26000)
    assert t.loc["relative_concentration", "estimate"] == pytest.approx(
        (top / (top + rest)) / (12000 / 26000)
    )
    # The k largest by denominator are U04, U02, U01: 18000 of 26000.
    assert t.attrs["largest_units"] == ["U04", "U02", "U01"]
    assert t.loc["k_largest_at_equal_rates", "estimate"] == pytest.approx(18000 / 26000)
    # Independent binomials, delta method for top / (top + rest).
    var = lambda ns, ds: sum(n * (1 - n / d) for n, d in zip(ns, ds, strict=True))  # noqa: E731
    v_top, v_rest = var(nums[:3], dens[:3]), var(nums[3:], dens[3:])
    sd = np.sqrt(rest**2 * v_top + top**2 * v_rest) / (top + rest) ** 2
    lo, hi = t.loc["top_k_share_of_numerator", ["ci_low", "ci_high"]]
    assert hi - lo == pytest.approx(2 * stats.norm.ppf(0.975) * sd, rel=0.05)


def test_top_share_equal_rates_is_not_concentrated():
    dens = [10000, 8000, 6000, 4000, 2000]
    df = _units([d // 10 for d in dens], dens)
    t = variation.top_share(df, numerator="num", denominator="den", unit="unit", k=2, seed=3)
    assert t.loc["relative_concentration", "estimate"] == pytest.approx(1.0)
    assert t.loc["top_k_share_of_numerator", "estimate"] == pytest.approx(
        t.loc["k_largest_at_equal_rates", "estimate"]
    )
    with pytest.raises(InvalidParameterError, match="k must be between 1 and 4"):
        variation.top_share(df, numerator="num", denominator="den", unit="unit", k=5)


def test_rank_intervals_by_hand():
    # U00 and U01 are a near tie at the top; the others are far apart.
    df = _units([5000, 5010, 2000, 1000, 100], [20000] * 5)
    r = variation.rank_intervals(
        df, numerator="num", denominator="den", unit="unit", reps=4000, seed=8
    )
    assert r["unit"].tolist() == ["U01", "U00", "U02", "U03", "U04"]
    assert r["rank"].tolist() == [1, 2, 3, 4, 5]
    tie = r.set_index("unit").loc[["U00", "U01"]]
    assert (tie["rank_low"] == 1).all() and (tie["rank_high"] == 2).all()
    assert tie["p_top"].sum() == pytest.approx(1.0, abs=0.01)
    assert 0.35 < tie.loc["U01", "p_top"] < 0.65
    far = r.set_index("unit").loc[["U02", "U03", "U04"]]
    assert (far["rank_low"] == far["rank"]).all() and (far["rank_high"] == far["rank"]).all()
    assert far["share"].tolist() == pytest.approx([0.1, 0.05, 0.005])
    assert (far["share_low"] < far["share"]).all() and (far["share"] < far["share_high"]).all()
    low_first = variation.rank_intervals(
        df, numerator="num", denominator="den", unit="unit", highest_first=False, seed=8
    )
    assert low_first["unit"].tolist()[:3] == ["U04", "U03", "U02"]


def test_public_functions_are_documented():
    for name in variation.__all__:
        assert docstring_problems(getattr(variation, name)) == [], name
