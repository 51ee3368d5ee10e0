"""One inference vocabulary for every estimator, a specification on every result, and the typed
provenance carried from the data to the result, its tables and its charts.

The words are those of ``icsresearch.options`` (``vcov``, ``cluster``, ``convention``,
``small_sample``, ``alpha``); ``docs/inference.md`` says what each does in each estimator.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from icsresearch.errors import InvalidParameterError
from icsresearch.models import (
    did_2x2,
    event_study,
    fit,
    fit_glm,
    fit_hdfe,
    fit_mixed,
    regression_table,
)
from icsresearch.models.panel import hausman
from icsresearch.provenance import Provenance
from test_models_panel_data import sim_panel

ESTIMATORS = [fit, fit_hdfe, fit_glm, did_2x2, event_study, fit_mixed]
KW = {"entity": "entity", "time": "year"}


@pytest.fixture(scope="module")
def sim():
    return sim_panel()


@pytest.fixture(scope="module")
def panel2x2(sim):
    d = sim[sim["year"].isin([2015, 2016])].dropna(subset=["x2"]).copy()
    d["post"] = (d["year"] == 2016).astype(int)
    d["treated"] = (pd.factorize(d["entity"], sort=True)[0] % 3 == 0).astype(int)
    return d


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few clusters etc.; not what is tested
        return fn(*a, **k)


# --- the words, read from the Literal types ----------------------------------------------------


def test_the_inference_words_are_the_literal_types():
    from icsresearch.options import Convention, SmallSample, Vcov, allowed, check, check_alpha

    assert allowed(Vcov) == ("iid", "hetero", "CRV1", "CR2", "CRV3", "DK")  # pyfixest's spelling
    assert allowed(Convention) == ("plm", "stata")
    assert allowed(SmallSample) == ("default", "full", "none")
    with pytest.raises(InvalidParameterError, match="small_sample=True is not allowed"):
        check("small_sample", True, SmallSample)  # a bool is never a small-sample word
    assert check_alpha(np.float64(0.1)) == 0.1 and isinstance(check_alpha(1 / 3), float)
    for bad in (0, 1, True, "0.05", None, float("nan")):
        with pytest.raises(InvalidParameterError, match="alpha="):
            check_alpha(bad)


# --- every estimator speaks the same words ---------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda f: f.__name__)
def test_every_estimator_takes_the_shared_inference_options(estimator):
    params = inspect.signature(estimator).parameters
    for name in ("vcov", "cluster", "convention", "small_sample", "alpha"):
        assert name in params, f"{estimator.__name__} lacks {name}="
    assert params["small_sample"].default == "default"


def test_small_sample_none_means_no_factor_in_every_estimator(sim):
    """The bug this fixes: fit(small_sample="none") used to apply the correction ("none" is
    truthy). Now "none" is the plain HC0 sandwich everywhere, checked against statsmodels."""
    d = sim.dropna(subset=["x2"])
    ref = sm.OLS(d["y"], sm.add_constant(d[["x1", "x2"]])).fit(cov_type="HC0")
    a = fit(d, "y ~ x1 + x2", model="pooled", vcov="hetero", small_sample="none", **KW)
    b = fit_hdfe(d, "y ~ x1 + x2", vcov="hetero", small_sample="none")
    for res in (a, b):
        np.testing.assert_allclose(res.bse.to_numpy(), ref.bse.to_numpy(), rtol=1e-10)
    hc1 = sm.OLS(d["y"], sm.add_constant(d[["x1", "x2"]])).fit(cov_type="HC1")
    c = fit(d, "y ~ x1 + x2", model="pooled", vcov="hetero", **KW)
    np.testing.assert_allclose(c.bse.to_numpy(), hc1.bse.to_numpy(), rtol=1e-10)
    with pytest.raises(InvalidParameterError, match="small_sample=1"):
        fit(d, "y ~ x1 + x2", small_sample=1, **KW)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda d: fit_mixed(d, "y ~ x1", group="entity", vcov="CRV1"), r"supports vcov='iid'"),
        (lambda d: fit_mixed(d, "y ~ x1", group="entity", cluster="ics"), r"fit_mixed does not"),
        (lambda d: fit_mixed(d, "y ~ x1", group="entity", convention="stata"), r"model-based"),
        (lambda d: fit_mixed(d, "y ~ x1", group="entity", reml="yes"), r"True or False"),
        (lambda d: fit_hdfe(d, "y ~ x1 | entity", vcov="DK"), r"fit_hdfe does not support"),
        (lambda d: fit_hdfe(d, "y ~ x1 | entity", convention="plm"), r"models\.fit"),
        (
            lambda d: fit(d, "y ~ x1", vcov="CRV2", **KW),
            r"'iid', 'hetero', 'CRV1', 'CR2', 'CRV3', 'DK'",
        ),
        (lambda d: fit(d, "y ~ x1", small_sample="full", **KW), r"fit_hdfe"),
        (lambda d: fit(d, "y ~ x1", convention="Stata", **KW), r"convention='Stata'"),
        (
            lambda d: did_2x2(d, "y", treated="treated", post="post", convention="plm"),
            r"did_2x2 does not support convention='plm'",
        ),
        (
            lambda d: did_2x2(d, "y", treated="treated", post="post", vcov="CRV1"),
            r"needs cluster=",
        ),
        (lambda d: fit_hdfe(d, "y ~ x1", alpha="0.05"), r"alpha='0.05'"),
    ],
)
def test_an_option_an_estimator_cannot_do_is_a_clear_error(panel2x2, call, match):
    with pytest.raises(InvalidParameterError, match=match):
        _quiet(call, panel2x2)


def test_cluster_is_a_column_or_a_list_everywhere(sim, panel2x2):
    d = sim.dropna(subset=["x2"])
    a = fit_hdfe(d, "y ~ x1 | entity", cluster="entity")
    b = fit_hdfe(d, "y ~ x1 | entity", cluster=["entity"])
    np.testing.assert_array_equal(a.cov.to_numpy(), b.cov.to_numpy())
    c = fit(d, "y ~ x1", cluster="entity", **KW)  # vcov defaults to CRV1 when clustering
    e = fit(d, "y ~ x1", cluster=("entity",), **KW)
    assert c.spec.inference.vcov == "CRV1" and c.spec.inference.cluster == ("entity",)
    np.testing.assert_array_equal(c.cov.to_numpy(), e.cov.to_numpy())
    with pytest.raises(InvalidParameterError, match="column name"):
        fit(d, "y ~ x1", cluster=3, **KW)


# --- old spellings: one more release, with the new spelling in the warning ---------------------


def _old_and_new(sim, panel2x2):
    d = sim.dropna(subset=["x2"])
    within = _quiet(fit, d, "y ~ x1 + x2", model="within", **KW)
    random = _quiet(fit, d, "y ~ x1 + x2", model="random", **KW)
    es = dict(entity="entity", time="year", cohort="cohort", window=(-2, 2))
    cohorts = d.assign(cohort=np.where(pd.factorize(d["entity"])[0] % 4 == 0, 2015.0, np.nan))
    es_old = dict(es)
    es_old["unit"] = es_old.pop("entity")
    return [
        ("cov_type='clustered'", lambda: fit(d, "y ~ x1", cov_type="clustered", **KW),
         lambda: fit(d, "y ~ x1", vcov="CRV1", **KW)),
        ("cov_type='driscoll-kraay'", lambda: fit(d, "y ~ x1", cov_type="driscoll-kraay", **KW),
         lambda: fit(d, "y ~ x1", vcov="DK", **KW)),
        ("small_sample=False", lambda: fit(d, "y ~ x1", vcov="hetero", small_sample=False, **KW),
         lambda: fit(d, "y ~ x1", vcov="hetero", small_sample="none", **KW)),
        ("vcov='cr3'", lambda: within.with_cov("cr3"), lambda: within.with_cov("CRV3")),
        ("cov_type='robust'", lambda: within.with_cov(cov_type="robust"),
         lambda: within.with_cov("hetero")),
        ("cov_type='conventional'",
         lambda: hausman(within, random, method="aux", cov_type="conventional"),
         lambda: hausman(within, random, method="aux", vcov="iid")),
        ("small_sample='fixest'", lambda: fit_hdfe(d, "y ~ x1 | entity", small_sample="fixest"),
         lambda: fit_hdfe(d, "y ~ x1 | entity")),
        ("unit='entity'", lambda: did_2x2(panel2x2, "y", treated="treated", post="post",
                                         unit="entity"),
         lambda: did_2x2(panel2x2, "y", treated="treated", post="post", entity="entity")),
        ("unit='entity'", lambda: event_study(cohorts, "y", **es_old),
         lambda: event_study(cohorts, "y", **es)),
        ("small_sample='fixest'", lambda: event_study(cohorts, "y", small_sample="fixest", **es),
         lambda: event_study(cohorts, "y", **es)),
    ]  # fmt: skip


def test_old_spellings_warn_with_the_new_one_and_give_the_same_numbers(sim, panel2x2):
    for old, call_old, call_new in _old_and_new(sim, panel2x2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            a = call_old()
        deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
        assert len(deprecations) == 1, (old, [str(w.message) for w in caught])
        message = str(deprecations[0].message)
        assert message.startswith(old) and "write " in message, message
        assert deprecations[0].filename == __file__, (old, deprecations[0].filename)
        b = _quiet(call_new)
        if hasattr(a, "cov"):
            np.testing.assert_array_equal(a.cov.to_numpy(), b.cov.to_numpy(), err_msg=old)
            assert a.spec.inference == b.spec.inference, old
        else:  # a specification test
            assert a.statistic == b.statistic, old


def test_glm_old_words_warn_with_the_new_ones():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"h": rng.integers(0, 30, 3000), "x": rng.integers(0, 3, 3000)})
    df["y"] = (rng.random(3000) < 0.2 + 0.1 * df["x"]).astype(int)
    pairs = [
        ({"vcov": "robust"}, {"vcov": "hetero"}, "vcov='hetero'"),
        ({"vcov": "clustered", "cluster": "h"}, {"vcov": "CRV1", "cluster": "h"}, "vcov='CRV1'"),
        ({"cluster": "h", "small_sample": "stata"}, {"cluster": "h"}, "small_sample='default'"),
    ]
    for old, new, spelling in pairs:
        with pytest.warns(DeprecationWarning, match=spelling):
            a = fit_glm(df, "y ~ C(x)", **old)
        b = fit_glm(df, "y ~ C(x)", **new)
        np.testing.assert_array_equal(a.cov.to_numpy(), b.cov.to_numpy())
    with pytest.raises(InvalidParameterError, match="both given"):
        fit(df.assign(t=0), "y ~ x", entity="h", time="t", cov_type="robust", vcov="hetero")


# --- the specification, not the provenance, drives re-inference --------------------------------


def test_with_cov_reads_the_specification_not_the_provenance(sim):
    d = sim.dropna(subset=["x2"])
    res = fit(d, "y ~ x1 + x2", model="within", convention="stata", small_sample="none", **KW)
    assert res.spec.function == "fit" and res.spec.options["model"] == "within"
    blank = dataclasses.replace(res, provenance=Provenance.unknown())
    again = _quiet(blank.with_cov, "CRV1", cluster="ics", data=d)
    direct = _quiet(
        fit, d, "y ~ x1 + x2", model="within", convention="stata", small_sample="none",
        vcov="CRV1", cluster="ics", **KW,
    )  # fmt: skip
    np.testing.assert_array_equal(again.cov.to_numpy(), direct.cov.to_numpy())
    assert again.spec.inference == direct.spec.inference
    assert (
        again.spec.inference.convention == "stata" and again.spec.inference.small_sample == "none"
    )
    # the bootstrap clusters where the result clusters, read from the spec
    boot = again.wild_bootstrap("x1", reps=99, seed=1)
    assert boot.cluster == "ics"


# --- provenance: demo data is synthetic through every estimator, table and chart ---------------


@pytest.fixture(scope="module")
def demo():
    from icsresearch.panel import trust_year_panel

    p = trust_year_panel("demo")
    acute = p[(p["trust_type"] == "acute non-specialist") & (p["year"] <= 2018)]
    adopt = {"ZR1": 2014, "ZR2": 2015, "ZR3": 2016}
    return acute.assign(
        adopted=acute["region_code"].map(adopt),
        high=(acute["management_score"] > acute["management_score"].median()).astype(int),
        post=(acute["year"] >= 2016).astype(int),
        treated=(acute["region_code"] == "ZR1").astype(int),
    )


def _demo_results(a):
    f = "ae_4hr_pct ~ management_score"  # A&E from 2016/17 in the demo, management from 2012/13
    y = "management_score"
    return {
        "fit": fit(a, f, entity="trust_code", time="year", vcov="CRV1"),
        "fit_hdfe": fit_hdfe(a, f + " | trust_code + year", cluster="trust_code"),
        "fit_glm": fit_glm(a.dropna(subset=[y]), "high ~ C(year) | icb_code"),
        "did_2x2": did_2x2(a[a["year"].isin([2015, 2016])], y, treated="treated", post="post",
                           entity="trust_code"),
        "event_study": event_study(a, y, entity="trust_code", time="year", cohort="adopted",
                                   window=(-2, 2)),
        "fit_mixed": fit_mixed(a, f"{y} ~ C(year)", group="trust_code"),
    }  # fmt: skip


def test_results_fitted_on_demo_data_say_synthetic(demo):
    from icsresearch.plots import coef_plot
    from icsresearch.plots.style import figure_text

    results = _quiet(_demo_results, demo)
    for name, res in results.items():
        assert isinstance(res.provenance, Provenance), name
        assert res.provenance.synthetic is True, name
        assert "synthetic demo data" in res.provenance.source_note, name
        assert res.spec.function == name
        assert res.provenance.parameters["function"] == name
        assert res.tidy().attrs["synthetic"] is True, name
    assert results["fit_mixed"].spec.options["group"] == ["trust_code"]
    tab = regression_table(results, fmt="dataframe")
    assert "Synthetic demo data." in tab.attrs["notes"]
    assert tab.loc[("Random intercepts", ""), "fit_mixed"] == "trust_code"
    plot = results["event_study"].plot()
    assert "synthetic demo data" in figure_text(plot.fig).lower()
    plot.close()
    coef = coef_plot({"FE": results["fit_hdfe"]})
    assert "synthetic demo data" in figure_text(coef.fig).lower()
    coef.close()


def test_a_frame_without_provenance_gives_unknown_never_published(sim):
    d = sim.dropna(subset=["x2"]).copy()
    d.attrs = {}
    res = fit_hdfe(d, "y ~ x1 | entity")
    assert res.provenance.synthetic is None and res.provenance.inputs == ()
    assert res.provenance.source_note.startswith("source unknown")
    assert (
        RegressionTableNotes.synthetic not in regression_table(res, fmt="dataframe").attrs["notes"]
    )


class RegressionTableNotes:
    """The note regression_table adds for demo-data models."""

    synthetic = "Synthetic demo data."
