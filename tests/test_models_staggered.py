"""Callaway & Sant'Anna and the imputation estimator, against independent implementations.

* Callaway & Sant'Anna: the PyPI port of R ``did`` (``csdid``, test dependency) on simulated
  staggered panels of 42 systems, with and without never-treated units: every ATT(g, t), its
  standard error, the event-time, simple and group aggregations and their standard errors.
* Imputation (Borusyak, Jaravel & Spiess): point estimates against Gardner's two-stage
  two-stage DiD (numerically the same estimator) run as two statsmodels regressions, to 1e-10,
  and as ``pyfixest.did2s``, to 1e-5 (its iterative demeaning stops at about 1e-6 on these
  panels); standard errors against a brute-force
  implementation of BJS's Theorem 3 written here (the weights ``v`` found by perturbing each
  outcome, the ``v^2``-weighted cohort x event-time averages of R ``didimputation``).
* Both recover planted effects exactly from noise-free data.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models.staggered import EventTimeResult, callaway_santanna, imputation_did


def _sim(seed: int = 7, noise: float = 0.3, never: int = 0) -> pd.DataFrame:
    """42 systems, 2016-2025, adoption staggered 2019-2024; the 2024 cohort adopts last."""
    rng = np.random.default_rng(seed)
    years = np.arange(2016, 2026)
    cohorts = np.r_[np.repeat([2019, 2020, 2021, 2022, 2024], 42 // 5 + 1)[: 42 - never]]
    cohorts = np.r_[cohorts, np.zeros(never, dtype=int)]
    unit_fe = rng.normal(0, 1, 42)
    year_fe = rng.normal(0, 0.5, years.size)
    rows = []
    for i in range(42):
        for j, t in enumerate(years):
            g = cohorts[i]
            e = t - g if g > 0 else -99
            tau = (1.0 + 0.3 * e + 0.1 * (g - 2019)) if g > 0 and e >= 0 else 0.0
            y = unit_fe[i] + year_fe[j] + tau + noise * rng.normal()
            rows.append({"ics": f"Q{i:02d}", "year": int(t), "g": int(g), "y": y, "tau": tau})
    return pd.DataFrame(rows)


def _csdid(data: pd.DataFrame, y: str, unit: str, base: str):
    from csdid.att_gt import ATTgt

    ids = data[unit].astype("category").cat.codes + 1
    d = data.assign(_id=ids)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        fit = ATTgt(
            yname=y, tname="year", idname="_id", gname="g", data=d, control_group="notyettreated"
        ).fit(est_method="dr", base_period=base, bstrap=False)
        aggs = {}
        for typ in ("dynamic", "simple", "group"):
            fit.aggte(typec=typ, bstrap=False)
            aggs[typ] = dict(fit.atte)
    gt = pd.DataFrame(
        {
            "group": fit.results["group"],
            "time": fit.results["year"],
            "att": fit.results["att"],
            "se": fit.results["se"],
        }
    )
    return gt, aggs


def _cs(data, y, unit, base):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return callaway_santanna(data, y, entity=unit, time="year", cohort="g", base_period=base)


@pytest.mark.parametrize("base", ["varying", "universal"])
@pytest.mark.parametrize("which", ["sim_never", "sim_no_never"])
def test_callaway_santanna_matches_csdid(which, base):
    data, y, unit = (_sim(never=8) if which == "sim_never" else _sim()), "y", "ics"
    res = _cs(data, y, unit, base)
    ref_gt, aggs = _csdid(data, y, unit, base)
    m = res.group_time.merge(ref_gt, on=["group", "time"], suffixes=("", "_ref"), validate="1:1")
    assert len(m) == len(ref_gt) == len(res.group_time)
    assert np.max(np.abs(m["att"] - m["att_ref"])) < 1e-10
    both = m["se"].notna()
    assert (both == m["se_ref"].notna()).all()
    assert np.max(np.abs(m.loc[both, "se"] - m.loc[both, "se_ref"])) < 1e-10
    dyn = aggs["dynamic"]
    ref_e = pd.DataFrame(
        {"rel_time": dyn["egt"], "e_ref": dyn["att_egt"], "se_ref": np.ravel(dyn["se_egt"])}
    )
    e = res.estimates.merge(ref_e, on="rel_time", validate="1:1")
    assert len(e) == len(res.estimates) == len(ref_e)
    assert np.max(np.abs(e["estimate"] - e["e_ref"])) < 1e-10
    ok = e["se"].notna()
    assert np.max(np.abs(e.loc[ok, "se"] - e.loc[ok, "se_ref"])) < 1e-10
    overall = res.overall.set_index("aggregation")
    for typ in ("dynamic", "simple", "group"):
        assert abs(overall.loc[typ, "estimate"] - aggs[typ]["overall_att"]) < 1e-10
        assert abs(overall.loc[typ, "se"] - aggs[typ]["overall_se"]) < 1e-10


def test_no_never_treated_last_cohort_is_control_only():
    data = _sim()
    with pytest.warns(UserWarning, match="serves only as the control"):
        res = callaway_santanna(data, "y", entity="ics", time="year", cohort="g")
    assert res.extra["control_only_cohort"] == 2024
    assert res.extra["dropped_periods"] == [2024.0, 2025.0]
    assert 2024 not in set(res.group_time["group"])
    assert res.group_time["time"].max() == 2023
    with pytest.raises(InvalidParameterError, match="no never-treated.*\n  Fix:"):
        callaway_santanna(
            data, "y", entity="ics", time="year", cohort="g", control_group="nevertreated"
        )


def test_planted_effects_recovered_exactly_without_noise():
    data = _sim(noise=0.0)
    truth = data[data["tau"] != 0].assign(e=lambda d: d["year"] - d["g"])
    cs = _cs(data, "y", "ics", "universal")
    gt = cs.group_time[cs.group_time["time"] >= cs.group_time["group"]]
    want = truth.groupby(["g", "year"])["tau"].first()
    got = gt.set_index(["group", "time"])["att"]
    assert np.max(np.abs(got - want.reindex(got.index).to_numpy())) < 1e-12
    pre = cs.event_table()
    assert np.max(np.abs(pre.loc[pre["rel_time"] < 0, "estimate"])) < 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        bjs = imputation_did(data, "y", entity="ics", time="year", cohort="g")
    identified = truth[truth["year"] < 2024]
    for _, row in bjs.estimates.iterrows():
        expect = identified.loc[identified["e"] == row["rel_time"], "tau"].mean()
        assert abs(row["estimate"] - expect) < 1e-10


def _two_stage(data: pd.DataFrame, y: str, unit: str, exact: bool) -> dict[int, float]:
    """Gardner's two-stage DiD: pyfixest's did2s, or the same two regressions in statsmodels."""
    d = data.copy()
    d["treat"] = ((d["g"] > 0) & (d["year"] >= d["g"])).astype(int)
    untreated_years = set(d.loc[d["treat"] == 0, "year"])
    d = d[d["year"].isin(untreated_years)]
    d["rel"] = np.where(d["treat"] == 1, d["year"] - d["g"], -1000)
    if exact:
        import statsmodels.formula.api as smf

        first = smf.ols(f"{y} ~ C({unit}) + C(year)", data=d[d["treat"] == 0]).fit()
        d["adj"] = d[y] - first.predict(d)
        second = smf.ols("adj ~ C(rel) - 1", data=d).fit()
        return {
            int(k.split("[")[1].rstrip("]")): v
            for k, v in second.params.items()
            if not k.endswith("[-1000]")
        }
    import pyfixest as pf

    fit = pf.did2s(
        d,
        yname=y,
        first_stage=f"~ 0 | {unit} + year",
        second_stage="~ i(rel, ref=-1000)",
        treatment="treat",
        cluster=unit,
    )
    return {int(float(k.split("::")[1].rstrip("]"))): v for k, v in fit.coef().items()}


@pytest.mark.parametrize("which", ["sim_no_never", "sim_never"])
def test_imputation_point_estimates_match_two_stage_did(which):
    data, y, unit = (_sim(never=8) if which == "sim_never" else _sim()), "y", "ics"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = imputation_did(data, y, entity=unit, time="year", cohort="g")
    mine = dict(zip(res.estimates["rel_time"], res.estimates["estimate"], strict=True))
    exact = _two_stage(data, y, unit, exact=True)
    assert sorted(mine) == sorted(exact)
    assert max(abs(mine[k] - exact[k]) for k in exact) < 1e-10
    # pyfixest's did2s agrees up to its iterative demeaning's tolerance
    did2s = _two_stage(data, y, unit, exact=False)
    assert max(abs(mine[k] - did2s[k]) for k in did2s) < 1e-5


def _bjs_brute_force(data, y, unit, weights_of):
    """BJS Theorem 3 by brute force: v from perturbing each outcome, then didimputation's tau_bar."""
    d = data.sort_values([unit, "year"]).reset_index(drop=True)
    treated = ((d["g"] > 0) & (d["year"] >= d["g"])).to_numpy()
    keep_years = set(d.loc[~treated, "year"])
    imputable = treated & d["year"].isin(keep_years).to_numpy()
    units = pd.get_dummies(d[unit]).to_numpy(float)
    years = pd.get_dummies(d["year"]).to_numpy(float)[:, 1:]
    Z = np.hstack([units, years])
    w = weights_of(d, imputable)

    def estimate(yv):
        coef = np.linalg.lstsq(Z[~treated], yv[~treated], rcond=None)[0]
        return float(np.sum(w * (yv - Z @ coef))), yv - Z @ coef

    yv = d[y].to_numpy(float)
    est, resid = estimate(yv)
    v = np.zeros(len(d))
    for j in range(len(d)):
        bumped = yv.copy()
        bumped[j] += 1.0
        v[j] = estimate(bumped)[0] - est
    v[treated & ~imputable] = 0.0
    cell = d["g"].astype(str) + "_" + (d["year"] - d["g"]).astype(str)
    v2 = np.where(imputable, v**2, 0.0)
    tau_bar = (
        pd.Series(v2 * resid).groupby(cell).transform("sum")
        / pd.Series(v2).groupby(cell).transform("sum")
    ).fillna(0.0)
    eps = np.where(treated, resid - tau_bar, resid)
    eps[treated & ~imputable] = 0.0
    by_unit = pd.Series(v * eps).groupby(d[unit]).sum()
    return est, float(np.sqrt(np.sum(by_unit**2)))


def test_imputation_standard_errors_match_brute_force():
    data = _sim(seed=3, never=6)
    res = imputation_did(data, "y", entity="ics", time="year", cohort="g")

    def at(h):
        def weights(d, imputable):
            sel = imputable & ((d["year"] - d["g"]).to_numpy() == h)
            return np.where(sel, 1.0 / sel.sum(), 0.0)

        return weights

    for h in (0, 2, 5):
        est, se = _bjs_brute_force(data, "y", "ics", at(h))
        row = res.estimates.set_index("rel_time").loc[h]
        assert abs(row["estimate"] - est) < 1e-10
        assert abs(row["se"] - se) < 1e-10
        assert abs(res.cov.loc[h, h] - se**2) < 1e-12

    def overall(d, imputable):
        return np.where(imputable, 1.0 / imputable.sum(), 0.0)

    est, se = _bjs_brute_force(data, "y", "ics", overall)
    att = res.att("overall").iloc[0]
    assert abs(att["estimate"] - est) < 1e-10
    assert abs(att["se"] - se) < 1e-10


def test_intervals_and_result_shape():
    res = _cs(_sim(never=8), "y", "ics", "universal")
    assert isinstance(res, EventTimeResult)
    tab = res.event_table(alpha=0.1)
    est = tab[~tab["reference"]]
    z = 1.6448536269514722
    assert np.allclose(est["ci_high"] - est["estimate"], z * est["se"], atol=1e-14)
    ref = tab[tab["reference"]]
    assert list(ref["rel_time"]) == [-1] and ref["estimate"].iloc[0] == 0.0
    beta, sigma, times = res.event_vector()
    assert -1 not in times and sigma.shape == (beta.size, beta.size)
    assert np.allclose(np.sqrt(np.diag(sigma)), est["se"].to_numpy(), atol=1e-15)
    assert res.provenance.parameters["function"] == "callaway_santanna"
    assert "ATT (simple)" in repr(res)
    with pytest.raises(InvalidParameterError, match="\n  Fix:"):
        res.att("overall")


def test_synthetic_provenance_flows_to_result():
    from icsresearch.provenance import Provenance

    data = _sim()
    data.attrs["provenance"] = Provenance.record(synthetic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert imputation_did(data, "y", entity="ics", time="year", cohort="g").provenance.synthetic


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"covariates": ["x"]}, "covariates"),
        (None, {"cluster": "region"}, "clusters on the unit"),
        (None, {"alpha": 1.5}, "alpha"),
        (None, {"base_period": "fixed"}, "base_period"),
        ("unbalanced", {}, "balanced panel"),
        ("cohort_varies", {}, "varies within units"),
        ("duplicate", {}, "not unique"),
        ("missing", {}, "missing values"),
        ("no_adoption", {}, "no unit adopts"),
    ],
)
def test_bad_input_is_one_clear_error(change, kwargs, match):
    data = _sim()
    if change == "unbalanced":
        data = data.iloc[1:]
    elif change == "cohort_varies":
        data.loc[0, "g"] = 2020
    elif change == "duplicate":
        data = pd.concat([data, data.iloc[[0]]])
    elif change == "missing":
        data.loc[3, "y"] = np.nan
    elif change == "no_adoption":
        data["g"] = 0
    with pytest.raises(InvalidParameterError, match=match) as err:
        callaway_santanna(data, "y", entity="ics", time="year", cohort="g", **kwargs)
    assert "\n  Fix: " in str(err.value)
    if "base_period" not in kwargs:
        with pytest.raises(InvalidParameterError, match=match):
            imputation_did(data, "y", entity="ics", time="year", cohort="g", **kwargs)


def test_imputation_horizons_checked():
    data = _sim(never=6)
    res = imputation_did(data, "y", entity="ics", time="year", cohort="g", horizons=[0, 1])
    assert list(res.estimates["rel_time"]) == [0, 1]
    for bad in ([-1], [0, 0], [40]):
        with pytest.raises(InvalidParameterError, match="\n  Fix:"):
            imputation_did(data, "y", entity="ics", time="year", cohort="g", horizons=bad)


def test_units_treated_in_first_period_are_dropped_with_a_warning():
    data = _sim(never=6)
    data.loc[data["ics"] == "Q00", "g"] = 2016
    with pytest.warns(UserWarning, match="treated in or before the first period"):
        res = callaway_santanna(data, "y", entity="ics", time="year", cohort="g")
    assert res.extra["dropped_units"] == ["Q00"] and res.extra["n_units"] == 41
