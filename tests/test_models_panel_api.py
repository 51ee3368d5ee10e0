"""The user-facing behaviour of icsresearch.models.fit: inputs, errors, output and provenance."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models import RegressionResult, fit
from test_models_panel_data import sim_panel

KW = {"entity": "entity", "time": "year"}


@pytest.fixture
def sim():
    return sim_panel()


def test_import_stays_light():
    code = (
        "import sys, icsresearch, icsresearch.models; "
        "heavy = [m for m in ('scipy', 'formulaic', 'statsmodels', 'pyfixest', 'linearmodels', "
        "'icsresearch.models.panel') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_result_is_a_regression_result_with_tidy_print_and_html(sim):
    sim.attrs = {"source": "sim_panel", "path": "tests/reference/sim_panel.csv", "sha256": "x"}
    with pytest.warns(UserWarning, match="42 clusters"):
        res = fit(
            sim, "y ~ x1 + x2", model="within", effects="twoways", vcov="CRV1",
            cluster="ics", alpha=0.1, **KW,
        )  # fmt: skip
    assert isinstance(res, RegressionResult)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        "term", "estimate", "se", "statistic", "p_value", "ci_low", "ci_high",
    ]  # fmt: skip
    assert list(tidy["term"]) == ["x1", "x2"]
    # 90% intervals (alpha=0.1) from the t distribution with the model's residual df
    from scipy import stats

    q = stats.t(res.df_resid).ppf(0.95)
    np.testing.assert_allclose(tidy["ci_high"], res.params + q * res.bse)
    text = str(res)
    for piece in ("within (two-way: entity + year)", "clustered by ics", "Observations", "847"):
        assert piece in text
    assert "20 rows dropped for missing values" in text
    assert "<table>" in res._repr_html_()
    assert res.n_groups == {"entity": 150, "year": 7, "clusters: ics": 42}
    assert res.fixed_effects == ("entity", "year")
    assert len(res.sample) == res.nobs == 847
    assert not sim.loc[res.sample, "x2"].isna().any()
    prov = res.provenance
    assert prov.synthetic is False  # a reader's table with a hash: published data
    assert prov.inputs[0].source == "sim_panel" and prov.inputs[0].sha256 == "x"
    assert prov.parameters["cluster"] == ["ics"] and prov.parameters["alpha"] == 0.1
    assert prov.parameters["vcov"] == "CRV1" and prov.parameters["model"] == "within"
    assert "numpy" in prov.environment
    assert res.spec.inference.cluster == ("ics",) and res.spec.entity == "entity"
    assert any("42 clusters" in w for w in res.warnings)


def test_multiindex_input_and_default_cluster(sim):
    mi = sim.set_index(["entity", "year"])
    a = fit(mi, "y ~ x1 + x2", model="within", vcov="CRV1")
    b = fit(sim, "y ~ x1 + x2", model="within", vcov="CRV1", cluster="entity", **KW)
    np.testing.assert_allclose(a.params, b.params)
    np.testing.assert_allclose(a.bse, b.bse)
    assert a.sample.names == ["entity", "year"]


def test_year_dummies_in_formula(sim):
    res = fit(sim, "y ~ x1 + x2 + C(year)", model="pooled", **KW)
    assert [n for n in res.params.index if n.startswith("C(year)")] == [
        f"C(year)[T.{y}]" for y in range(2013, 2019)
    ]
    # in a two-way model the year dummies are absorbed: dropped with a warning, like plm
    with pytest.warns(UserWarning, match="Dropped"):
        tw = fit(sim, "y ~ x1 + x2 + C(year)", model="within", effects="twoways", **KW)
    assert list(tw.params.index) == ["x1", "x2"]


def test_stata_and_plm_conventions_differ_only_by_k_for_within(sim):
    plm = fit(sim, "y ~ x1 + x2", model="within", vcov="CRV1", **KW)
    stata = plm.with_cov("CRV1", convention="stata")
    N, k = plm.nobs, 2
    ratio = (stata.bse / plm.bse) ** 2
    np.testing.assert_allclose(ratio, (N - k) / (N - k - 1), rtol=1e-12)
    assert plm.df_resid == N - k - 150 and stata.df_resid == 149
    pooled = fit(sim, "y ~ x1 + x2", model="pooled", vcov="CRV1", **KW)
    np.testing.assert_allclose(
        pooled.with_cov("CRV1", convention="stata").bse, pooled.bse, rtol=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"formula": "y ~ nope"}, "nope"),
        ({"formula": "y x1"}, "formula must be"),
        ({"formula": "y ~ x1 | entity"}, "does not absorb"),
        ({"model": "fixed"}, "model='fixed'"),
        ({"vcov": "HC3"}, "vcov='HC3'"),
        ({"cov_type": "hc3"}, "cov_type"),
        ({"convention": "sas"}, "convention"),
        ({"vcov": "hetero", "cluster": "ics"}, "cluster='ics' was given"),
        ({"vcov": "iid", "bandwidth": 2}, "bandwidth"),
        ({"vcov": "DK", "bandwidth": 1.5}, "bandwidth"),
        ({"small_sample": "full"}, "fit_hdfe"),  # says which options fit supports
        ({"small_sample": "none "}, "small_sample='none '"),
        ({"small_sample": 1}, "small_sample=1"),
        ({"lags": True}, "lags"),
        ({"model": "random", "effects": "twoways"}, "two-way random effects"),
        ({"model": "random", "weights": "w"}, "weights are not supported"),
        ({"model": "between", "vcov": "DK"}, "time dimension"),
        ({"model": "between", "vcov": "CRV1", "cluster": "year"}, "varies within"),
        ({"vcov": "CRV3", "cluster": ["entity", "year"]}, "one cluster variable"),
        ({"cluster": ["a", "b", "c"], "vcov": "CRV1"}, "one or two"),
        ({"cov_type": "robust", "vcov": "hetero"}, "both given"),
        ({"entity": "trust"}, "not found"),
        ({"alpha": 1.5}, "alpha"),
        ({"alpha": True}, "alpha"),
    ],
)
def test_bad_parameters_raise_clear_errors(sim, kwargs, match):
    args = {"formula": "y ~ x1 + x2", **KW}
    args.update(kwargs)
    formula = args.pop("formula")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # old words are tested below
        with pytest.raises(InvalidParameterError, match=match):
            fit(sim, formula, **args)


@pytest.mark.parametrize("n_entities", [5, 300, 3_000_000])  # dense grids and a sparse one
@pytest.mark.parametrize("seed", range(4))
def test_duplicate_pair_check_agrees_with_pandas(n_entities, seed):
    """The counting check (dense grid) and the sorting one (sparse) against pandas.duplicated."""
    from icsresearch.models.panel.design import _has_duplicate_pairs

    rng = np.random.default_rng(seed)
    n_periods, n_rows = 7, 400
    e = rng.integers(0, n_entities, n_rows)
    t = rng.integers(0, n_periods, n_rows)
    if seed % 2:  # unique pairs: one row per pair, shuffled
        grid = rng.permutation(n_entities * n_periods)[:n_rows] if n_entities > 5 else None
        if grid is None:
            grid = rng.permutation(n_entities * n_periods)
        e, t = grid // n_periods, grid % n_periods
    want = bool(pd.DataFrame({"e": e, "t": t}).duplicated().any())
    assert _has_duplicate_pairs(e.astype(np.intp), t.astype(np.intp), n_periods) is want
    if seed % 2:
        assert want is False
    elif n_entities == 5:
        assert want is True


def test_bad_data_raise_clear_errors(sim):
    dup = pd.concat([sim, sim.iloc[:2]])
    with pytest.raises(InvalidParameterError, match=r"share an \(entity, year\) pair"):
        fit(dup, "y ~ x1", **KW)
    with pytest.raises(InvalidParameterError, match="infinite values"):
        fit(sim.assign(z=sim["x1"] - sim["x1"]), "y ~ np.log(z)", model="pooled", **KW)
    with pytest.raises(InvalidParameterError, match="NaN after transforming"):
        fit(sim, "y ~ np.log(x1)", model="pooled", **KW)
    with pytest.raises(InvalidParameterError, match="non-positive"):
        fit(sim.assign(w=-1.0), "y ~ x1", model="pooled", weights="w", **KW)
    with pytest.raises(InvalidParameterError, match="outcome .ics. .* is not numeric"):
        fit(sim, "ics ~ x1", model="pooled", **KW)
    with pytest.raises(InvalidParameterError, match="numeric time index"):
        fit(sim.assign(year=sim["year"].astype(str)), "y ~ x1", model="fd", **KW)
    with pytest.raises(InvalidParameterError, match="data must be a pandas DataFrame"):
        fit(sim.to_numpy(), "y ~ x1", **KW)
    with pytest.raises(InvalidParameterError, match="do not vary"):
        fit(sim.assign(c=1.0), "y ~ c", model="within", **KW)
    with pytest.raises(InvalidParameterError, match="no complete rows"):
        fit(sim.assign(x1=np.nan), "y ~ x1", model="pooled", **KW)


def test_negative_variance_component_is_reported():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"entity": np.repeat(np.arange(40), 5), "year": np.tile(np.arange(5), 40)})
    df["x"] = rng.normal(size=200)
    # entity means of the errors vary less than pure noise implies: negative sigma2 estimate
    e = rng.normal(size=200)
    e = e - pd.Series(e).groupby(df["entity"]).transform("mean").to_numpy()
    df["y"] = df["x"] + e
    with pytest.warns(UserWarning, match="negative"):
        res = fit(df, "y ~ x", model="random", **KW)
    assert res.extra["sigma2"]["entity"] == 0.0 and res.extra["theta"] == 0.0


def test_wild_bootstrap_errors(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit(sim, "y ~ x1 + x2", model="within", vcov="CRV1", cluster="ics", **KW)
    with pytest.raises(InvalidParameterError, match="not a coefficient"):
        res.wild_bootstrap("x3", reps=99)
    with pytest.raises(InvalidParameterError, match="not available"):
        res.wild_bootstrap("x1", reps=99, cluster="region")
    with pytest.raises(InvalidParameterError, match="webb"):
        res.wild_bootstrap("x1", reps=99, weights="mammen")
