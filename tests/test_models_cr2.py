"""CR2 standard errors, Satterthwaite degrees of freedom and the HTZ Wald test (``vcov="CR2"``).

Parity with R clubSandwich 0.5.8 (``vcovCR(type = "CR2")``, ``coef_test(test =
"Satterthwaite")``, ``Wald_test(test = "HTZ")``) on plm 2.6.2 fits of a seeded panel the code was
never tuned on: ``tests/reference/cr2_panel.csv`` (``make_cr2_panel.py``: 40 entities in 12
clusters of unequal size, unbalanced with gaps), values in ``cr2_reference.json`` written by
``make_cr2_reference.R`` (17 significant digits). R is not needed to run these tests.

Tolerance: 1e-8 relative for coefficients, covariances, SEs, t, df, p-values and the HTZ F,
delta, denominator df and p (measured when written: at most 5e-13, for the Amemiya random-effects
fit; 1e-13 or less elsewhere). Brute-force checks with independent formulas: the adjustment
matrices set to the identity give CR0; the within estimator's CR2 is that of the dummy-variable
regression (computed here with ``scipy.linalg.sqrtm``); CR2 with one row per cluster is HC2
(statsmodels); a one-row HTZ test is the squared Satterthwaite t-test.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import statsmodels.api as sm
from scipy import stats

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, event_study, fit, fit_glm, fit_hdfe, fit_mixed
from icsresearch.models.panel import hausman
from icsresearch.models.panel.cr2 import cr2_pieces

REFERENCE = Path(__file__).parent / "reference"
REF = json.loads((REFERENCE / "cr2_reference.json").read_text())
RTOL = 1e-8
FORMULA = "y ~ x1 + x2"
KW = {"entity": "entity", "time": "year"}


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "cr2_panel.csv")


def _fit(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few clusters, small df: not what is tested
        return fit(data, FORMULA, **KW, **kw)


def _quiet_with_cov(res, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return res.with_cov(*args, **kw)


def _model_args(spec: dict) -> dict:
    return {k: spec[k] for k in ("model", "effects", "re_method") if k in spec}


def _as_list(v) -> list:
    return v if isinstance(v, list) else [v]


# --- parity with clubSandwich -------------------------------------------------------------------


@pytest.mark.parametrize("fit_id", sorted(REF["fits"]))
def test_cr2_satterthwaite_and_htz_equal_clubsandwich(panel, fit_id):
    ref = REF["fits"][fit_id]
    spec = ref["spec"]
    res = _fit(panel, vcov="CR2", cluster=spec["cluster"], **_model_args(spec))
    names = _as_list(ref["names"])
    assert list(res.params.index) == names
    assert res.nobs == ref["nobs"]
    assert res.extra["n_clusters"] == {spec["cluster"]: ref["n_clusters"]}
    k = len(names)
    np.testing.assert_allclose(res.params, ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(
        res.cov.to_numpy(), np.asarray(ref["vcov_cr2"]).reshape(k, k), rtol=RTOL
    )
    np.testing.assert_allclose(res.bse, _as_list(ref["se"]), rtol=RTOL)
    np.testing.assert_allclose(res.tvalues, _as_list(ref["tstat"]), rtol=RTOL)
    np.testing.assert_allclose(res.df_terms, _as_list(ref["df"]), rtol=RTOL)
    np.testing.assert_allclose(res.pvalues, _as_list(ref["p"]), rtol=RTOL)
    for name, w in ref["wald"].items():
        C = np.asarray(w["constraint"], dtype=float).reshape(-1, k)
        h = res.wald_test(C)
        got = [h.statistic, h.delta, h.df_num, h.df_denom, h.pvalue]
        want = [w["Fstat"], w["delta"], w["df_num"], w["df_denom"], w["p_val"]]
        np.testing.assert_allclose(got, want, rtol=RTOL, err_msg=name)


def test_wald_test_by_names_equals_the_matrix_and_reads_clearly(panel):
    res = _fit(panel, model="within", vcov="CR2", cluster="ics")
    by_name = res.wald_test(["x1", "x2"])
    by_matrix = res.wald_test(np.eye(2))
    by_frame = res.wald_test(pd.DataFrame({"x2": [0.0, 1.0], "x1": [1.0, 0.0]}))
    assert by_name == by_matrix == by_frame
    ref = REF["fits"]["within_individual/ics"]["wald"]["joint"]
    assert by_name.statistic == pytest.approx(ref["Fstat"], rel=RTOL)
    assert by_name.hypotheses == ["x1 = 0", "x2 = 0"]
    combo = res.wald_test([[1.0, -1.0]])
    assert combo.hypotheses == ["x1 - x2 = 0"]
    assert res.wald_test([[2.0, 0.5]]).hypotheses == ["2*x1 + 0.5*x2 = 0"]
    assert "HTZ" in str(by_name) and "F =" in str(by_name)


# --- what the result says with per-coefficient df ----------------------------------------------


def test_p_values_and_intervals_use_each_coefficients_own_df(panel):
    res = _fit(panel, model="pooled", vcov="CR2", cluster="ics")
    df = res.df_terms.to_numpy()
    assert len(set(np.round(df, 6))) == 3  # they differ: one shared df would be wrong
    t = res.tvalues.to_numpy()
    np.testing.assert_allclose(res.pvalues, 2 * stats.t.sf(np.abs(t), df), rtol=1e-12)
    half = res.bse.to_numpy() * stats.t.ppf(0.975, df)
    ci = res.conf_int()
    np.testing.assert_allclose(ci["ci_high"] - res.params, half, rtol=1e-12)
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["df"], df)
    assert res.df_resid is None and res.dist == "t"
    text = res.summary()
    assert "Satterthwaite, per coefficient (column df)" in text and "CR2 clustered by ics" in text
    # back to CRV1: one df for all again
    crv1 = _quiet_with_cov(res, "CRV1", cluster="ics")
    assert crv1.df_terms is None and crv1.df_resid == res.extra["df_model_resid"]
    assert "df" not in crv1.tidy().columns


def test_random_effects_use_t_with_cr2_and_normal_otherwise(panel):
    re_cr2 = _fit(panel, model="random", vcov="CR2", cluster="ics")
    assert re_cr2.dist == "t" and re_cr2.df_terms is not None  # clubSandwich's coef_test
    back = _quiet_with_cov(re_cr2, "CRV1", cluster="ics")
    assert back.dist == "normal" and back.df_terms is None
    np.testing.assert_allclose(
        back.cov.to_numpy(), _fit(panel, model="random", cluster="ics").cov.to_numpy()
    )


def test_with_cov_cr2_equals_fitting_with_cr2_and_defaults_to_the_entity(panel):
    base = _fit(panel, model="within")
    a = base.with_cov("CR2")
    b = _fit(panel, model="within", vcov="CR2", cluster="entity")
    assert a.spec.inference.cluster == ("entity",)
    np.testing.assert_array_equal(a.cov.to_numpy(), b.cov.to_numpy())
    np.testing.assert_array_equal(a.df_terms.to_numpy(), b.df_terms.to_numpy())
    c = base.with_cov("CR2", cluster="ics", data=panel)
    ref = REF["fits"]["within_individual/ics"]
    np.testing.assert_allclose(c.bse, ref["se"], rtol=RTOL)


# --- brute force --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "cluster"),
    [("pooled", "ics"), ("within", "ics"), ("within", "year"), ("random", "ics"), ("fd", "entity")],
)
def test_identity_adjustments_give_cr0(panel, model, cluster):
    res = _fit(panel, model=model, vcov="CRV1", cluster=cluster, small_sample="none")
    reg = res.regression
    pieces = cr2_pieces(reg, reg.clusters[cluster], adjust=False)
    np.testing.assert_allclose(pieces.cov, res.cov.to_numpy(), rtol=1e-10)
    # and the adjustment matters: CR2 is not CR0
    assert not np.allclose(cr2_pieces(reg, reg.clusters[cluster]).cov, pieces.cov, rtol=1e-3)


def _brute_cr2(Z: np.ndarray, e: np.ndarray, cluster: np.ndarray, cols: slice) -> np.ndarray:
    """CR2 of an OLS regression on ``Z`` from the textbook formula (explicit hat matrix).

    ``I - H_jj`` is singular when fixed effects are nested in a cluster: its generalised inverse
    square root is taken, as Pustejovsky & Tipton (2018) define CR2.
    """
    ZtZ_inv = np.linalg.pinv(Z.T @ Z)
    H = Z @ ZtZ_inv @ Z.T
    meat = np.zeros((Z.shape[1], Z.shape[1]))
    for g in np.unique(cluster):
        rows = np.flatnonzero(cluster == g)
        root = np.real(scipy.linalg.sqrtm(np.eye(rows.size) - H[np.ix_(rows, rows)]))
        A = np.linalg.pinv(root, rcond=1e-7, hermitian=True)
        s = Z[rows].T @ A @ e[rows]
        meat += np.outer(s, s)
    return (ZtZ_inv @ meat @ ZtZ_inv)[cols, cols]


@pytest.mark.parametrize(
    ("effects", "cluster"), [("entity", "year"), ("entity", "ics"), ("time", "ics")]
)
def test_within_cr2_is_the_cr2_of_the_dummy_variable_regression(panel, effects, cluster):
    res = _fit(panel, model="within", effects=effects, vcov="CR2", cluster=cluster)
    fe = panel["entity" if effects == "entity" else "year"]
    dummies = pd.get_dummies(fe, dtype=float).to_numpy()
    Z = np.column_stack([panel[["x1", "x2"]].to_numpy(), dummies])
    coef = np.linalg.lstsq(Z, panel["y"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(coef[:2], res.params, rtol=1e-10)
    e = panel["y"].to_numpy() - Z @ coef
    V = _brute_cr2(Z, e, panel[cluster].to_numpy(), slice(0, 2))
    np.testing.assert_allclose(res.cov.to_numpy(), V, rtol=1e-8)


def test_cr2_with_one_row_per_cluster_is_hc2(panel):
    d = panel.assign(row=np.arange(len(panel)))
    res = _fit(d, model="pooled", vcov="CR2", cluster="row")
    ols = sm.OLS(d["y"], sm.add_constant(d[["x1", "x2"]])).fit(cov_type="HC2")
    np.testing.assert_allclose(res.bse, ols.bse, rtol=1e-10)
    # the between model: CR2 by entity on the entity means is HC2 of the means regression
    btw = _fit(panel, model="between", vcov="CR2", cluster="entity")
    means = panel.groupby("entity")[["y", "x1", "x2"]].mean()
    hc2 = sm.OLS(means["y"], sm.add_constant(means[["x1", "x2"]])).fit(cov_type="HC2")
    np.testing.assert_allclose(btw.bse, hc2.bse, rtol=1e-10)


def test_a_one_row_htz_test_is_the_squared_satterthwaite_t_test(panel):
    res = _fit(panel, model="within", effects="twoways", vcov="CR2", cluster="ics")
    for i, name in enumerate(res.params.index):
        h = res.wald_test([name])
        assert h.statistic == pytest.approx(res.tvalues.iloc[i] ** 2, rel=1e-10)
        assert h.df_denom == pytest.approx(res.df_terms.iloc[i], rel=1e-10)
        assert h.pvalue == pytest.approx(res.pvalues.iloc[i], rel=1e-8)


# --- what is refused, and how -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "pooled", "cluster": ["ics", "year"]}, r"one cluster variable"),
        ({"model": "within", "weights": "w"}, r"CR2 with analytic weights is not implemented"),
        ({"model": "pooled", "weights": "w"}, r"CR2 with analytic weights is not implemented"),
        ({"model": "random", "cluster": "year"}, r"random-effect groups nested in the clusters"),
    ],
)
def test_cr2_refuses_what_it_cannot_do_clearly(panel, kwargs, match):
    d = panel.assign(w=np.linspace(0.5, 2.0, len(panel)))
    with pytest.raises(InvalidParameterError, match=match) as err:
        _fit(d, vcov="CR2", **{"cluster": "ics", **kwargs})
    assert "Fix:" in str(err.value)


def test_wald_test_refuses_bad_hypotheses_and_other_covariances(panel):
    res = _fit(panel, model="pooled", vcov="CR2", cluster="ics")
    for bad, match in [
        (["x3"], r"\['x3'\]"),
        (["x1", "x1"], r"distinct"),
        ([], r"constraint matrix|distinct"),
        (np.ones((1, 2)), r"3 finite columns"),
        ([[1.0, 0, 0], [2.0, 0, 0]], r"linearly dependent"),
        (pd.DataFrame({"x9": [1.0]}), r"\['x9'\] are not coefficients"),
    ]:
        with pytest.raises(InvalidParameterError, match=match):
            res.wald_test(bad)
    crv1 = _quiet_with_cov(res, "CRV1", cluster="ics")
    with pytest.raises(
        InvalidParameterError, match=r"(?s)needs the CR2 covariance.*Fix: res.with_cov"
    ):
        crv1.wald_test(["x1"])


def test_hausman_refuses_cr2_clearly(panel):
    within = _fit(panel, model="within")
    random = _fit(panel, model="random")
    with pytest.raises(InvalidParameterError, match=r"(?s)vcov='CR2' is not available here.*Fix"):
        hausman(within, random, method="aux", vcov="CR2")


def test_other_estimators_refuse_cr2_naming_what_they_support(panel):
    d = panel.assign(
        post=(panel["year"] >= 2019).astype(int),
        treated=(pd.factorize(panel["entity"], sort=True)[0] % 3 == 0).astype(int),
        cohort=np.where(pd.factorize(panel["entity"], sort=True)[0] % 4 == 0, 2019.0, np.nan),
        count=np.arange(len(panel)) % 5,
    )
    calls = {
        "fit_hdfe": lambda: fit_hdfe(d, "y ~ x1 | entity", vcov="CR2", cluster="ics"),
        "fit_glm": lambda: fit_glm(d, "count ~ x1", family="poisson", vcov="CR2", cluster="ics"),
        "did_2x2": lambda: did_2x2(
            d, "y", treated="treated", post="post", entity="entity", vcov="CR2"
        ),
        "event_study": lambda: event_study(
            d, "y", entity="entity", time="year", cohort="cohort", vcov="CR2"
        ),
        "fit_mixed": lambda: fit_mixed(d, "y ~ x1", group="entity", vcov="CR2"),
    }
    for name, call in calls.items():
        with pytest.raises(InvalidParameterError) as err:
            call()
        message = str(err.value)
        assert f"{name} does not support vcov='CR2'" in message, message
        assert "Fix:" in message and "docs/inference.md" in message
