"""regression_table: cell contents checked against numbers computed here, and each output format
checked by parsing it (HTML with html.parser, Markdown and LaTeX line by line)."""

from __future__ import annotations

import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from icsresearch.errors import InvalidParameterError
from icsresearch.models import RegressionTable, fit, fit_hdfe, regression_table
from test_models_panel_data import sim_panel


@pytest.fixture(scope="module")
def models():
    sim = sim_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = fit(sim, "y ~ x1 + x2", entity="entity", time="year", model="pooled",
                     vcov="CRV1", cluster="ics")  # fmt: skip
        twfe = fit_hdfe(sim, "y ~ x1 + x2 | entity + year", cluster="ics")
        ctrl = fit_hdfe(sim, "y ~ x1 + x2 + w + C(year) | entity", vcov="hetero")
    return {"Pooled": pooled, "TWFE": twfe, "Controls": ctrl}


def _p(res, term):
    """Two-sided p-value computed here from the estimate, SE and the result's df."""
    t = res.params[term] / np.sqrt(res.cov.loc[term, term])
    if res.dist == "t":
        return 2 * stats.t.sf(abs(t), res.df_resid)
    return 2 * stats.norm.sf(abs(t))


def test_cells_are_the_estimates_rounded_with_stars(models):
    tab = regression_table(models, stars=True, fmt="dataframe")
    for name, res in models.items():
        for term in ("x1", "x2"):
            b, se = res.params[term], np.sqrt(res.cov.loc[term, term])
            p = _p(res, term)
            n_stars = int(p < 0.1) + int(p < 0.05) + int(p < 0.01)
            assert tab.loc[(term, "estimate"), name] == f"{b:.3f}" + "*" * n_stars
            assert tab.loc[(term, "se"), name] == f"({se:.3f})"
    # the intercept comes last, and only the pooled model has one
    terms = [r for r, v in tab.index if v == "estimate"]
    assert terms == ["x1", "x2", "w", "C(year)[T.2013]", "C(year)[T.2014]", "C(year)[T.2015]",
                     "C(year)[T.2016]", "C(year)[T.2017]", "C(year)[T.2018]", "Intercept"]  # fmt: skip
    assert tab.loc[("Intercept", "estimate"), "TWFE"] == ""


def test_confidence_intervals_t_and_p(models):
    res = models["TWFE"]
    b, se = res.params["x1"], res.bse["x1"]
    q = stats.t(res.df_resid).ppf(0.95)  # 90% intervals, G - 1 = 41 df
    ci = regression_table(models, stat="ci", alpha=0.1, fmt="dataframe")
    assert ci.loc[("x1", "ci"), "TWFE"] == f"[{b - q * se:.3f}, {b + q * se:.3f}]"
    assert "90% confidence intervals in brackets." in ci.attrs["notes"]
    t = regression_table(models, stat="t", digits=4, fmt="dataframe")
    assert t.loc[("x1", "t"), "TWFE"] == f"({b / se:.3f})"
    p = regression_table(models, stat="p", digits=3, fmt="dataframe")
    for name in models:
        pv = _p(models[name], "x2")
        assert p.loc[("x2", "p"), name] == ("(<0.001)" if pv < 0.001 else f"({pv:.3f})")
    none = regression_table(models, stat=None, fmt="dataframe")
    assert set(none.index.get_level_values("value")) == {"estimate", ""}


def test_custom_star_thresholds(models):
    tab = regression_table(models["TWFE"], stars=(0.05, 0.001), fmt="dataframe")
    p = _p(models["TWFE"], "x2")
    expected = "*" * (int(p < 0.05) + int(p < 0.001))
    assert tab.loc[("x2", "estimate"), "(1)"].endswith(expected)
    assert "* p<0.05, ** p<0.001." in tab.attrs["notes"]


def test_model_rows(models):
    tab = regression_table(
        models, controls={"Year dummies": "C(year)*", "Weights": ["w"]}, fmt="dataframe"
    )
    rows = list(tab.index.get_level_values("row"))
    assert "C(year)[T.2013]" not in rows and "w" not in rows
    assert tab.loc[("Year dummies", ""), "Controls"] == "Yes"
    assert tab.loc[("Year dummies", ""), "TWFE"] == "No"
    assert tab.loc[("Weights", ""), "Controls"] == "Yes"
    assert tab.loc[("Fixed effects: entity", "")].tolist() == ["No", "Yes", "Yes"]
    assert tab.loc[("Fixed effects: year", "")].tolist() == ["No", "Yes", "No"]
    assert tab.loc[("Clusters", "")].tolist() == ["ics (42)", "ics (42)", ""]
    nobs = [f"{r.nobs:,}" for r in models.values()]
    assert tab.loc[("Observations", "")].tolist() == nobs
    assert tab.loc[("R\u00b2", ""), "TWFE"] == f"{models['TWFE'].rsquared['r2']:.3f}"
    assert tab.loc[("Within R\u00b2", ""), "TWFE"] == f"{models['TWFE'].rsquared['within']:.3f}"
    assert tab.loc[("Inference", "")].tolist() == [r.cov_type for r in models.values()]
    assert tab.loc[("Dependent variable", "")].tolist() == ["y", "y", "y"]
    short = regression_table(models, rows=("nobs",), fmt="dataframe")
    assert [r for r, v in short.index if v == ""] == ["Observations"]


def test_terms_labels_and_errors(models):
    tab = regression_table(models, terms=["x2", "x1"], labels={"x1": "Managers", "entity": "Trust"},
                           fmt="dataframe")  # fmt: skip
    assert [r for r, v in tab.index if v == "estimate"] == ["x2", "Managers"]
    assert ("Fixed effects: Trust", "") in tab.index
    with pytest.raises(InvalidParameterError, match=r"terms \['x3'\] are in none"):
        regression_table(models, terms=["x3"])
    bad = [
        ({"stat": "sd"}, "stat="),
        ({"fmt": "pdf"}, "fmt="),
        ({"stars": (0.01, 0.05)}, "decreasing"),
        ({"stars": "yes"}, "thresholds"),
        ({"digits": -1}, "digits"),
        ({"rows": ("nobs", "aic")}, "unknown"),
        ({"alpha": 2}, "alpha"),
    ]
    for kwargs, match in bad:
        with pytest.raises(InvalidParameterError, match=match):
            regression_table(models, **kwargs)
    with pytest.raises(InvalidParameterError, match="not a RegressionResult"):
        regression_table({"a": models["TWFE"], "b": "not a model"})
    with pytest.raises(InvalidParameterError, match="empty"):
        regression_table([])


def test_accepts_list_single_and_pyfixest_models(models):
    import pyfixest as pf

    sim = sim_panel().dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("y ~ x1 + x2 | entity + year", data=sim, vcov={"CRV1": "ics"})
    tab = regression_table([models["TWFE"], m], fmt="dataframe")
    assert list(tab.columns) == ["(1)", "(2)"]
    assert tab.loc[("x1", "estimate"), "(2)"] == f"{m.coef()['x1']:.3f}"
    assert isinstance(regression_table(models["TWFE"]), RegressionTable)


def test_number_formatting_edge_cases(models):
    res = models["TWFE"]
    tiny = type(res)(**{**res.__dict__, "params": res.params * 1e-6, "cov": res.cov * 1e-12})
    small = regression_table(tiny, fmt="dataframe")
    assert small.loc[("x1", "estimate"), "(1)"] == f"{tiny.params['x1']:.2e}"
    neg0 = type(res)(**{**res.__dict__, "params": res.params * 0 - 1e-9})
    assert not regression_table(neg0, digits=2, fmt="dataframe").loc[("x1", "estimate"), "(1)"] \
        .startswith("-0.00")  # fmt: skip


# --- formats -------------------------------------------------------------------------------------


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._in = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.rows[-1][-1] += data


def test_html_structure_and_escaping(models):
    tab = regression_table({"A <b>": models["TWFE"], "B": models["Pooled"]}, stars=True,
                           labels={"x1": "x1 & <x>"}, title="Table 1")  # fmt: skip
    out = tab._repr_html_()
    assert "A &lt;b&gt;" in out and "<b>" not in out
    assert "x1 &amp; &lt;x&gt;" in out
    parser = _Cells()
    parser.feed(out)
    df = tab.to_dataframe()
    header, *body = parser.rows
    assert header == ["", "A <b>", "B"]
    body_rows = [r for r in body if len(r) == 3]
    assert len(body_rows) == len(df)
    for cells, (_key, row) in zip(body_rows, df.iterrows(), strict=True):
        assert cells[1:] == row.tolist()
    assert "Standard errors in parentheses." in out


def test_markdown_table(models):
    md = regression_table(models, stars=True, title="Results").to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**Results**"
    table = [ln for ln in lines if ln.startswith("|")]
    assert table[0] == "| | Pooled | TWFE | Controls |"
    assert table[1] == "|:---|---:|---:|---:|"
    assert all(ln.count("|") - ln.count("\\|") == 5 for ln in table)
    x1 = next(ln for ln in table if ln.startswith("| x1 |"))
    b = models["TWFE"].params["x1"]
    assert f"| {b:.3f}\\*\\*\\* |" in x1  # stars escaped, so they do not become emphasis
    assert "\\* p<0.1, \\*\\* p<0.05, \\*\\*\\* p<0.01." in md


def test_latex_table(models):
    tex = regression_table(models, stars=True, labels={"x1": "Share_of 50%"}).to_latex(label="t:1")
    lines = tex.splitlines()
    assert lines[:2] == ["\\begin{table}[htbp]", "\\centering"]
    assert "\\label{t:1}" in lines
    assert "\\begin{tabular}{lccc}" in lines and "\\bottomrule" in lines
    assert tex.count("{") == tex.count("}")
    row = next(ln for ln in lines if ln.startswith("Share\\_of 50\\%"))
    b = models["Pooled"].params["x1"]
    cell = f"{abs(b):.3f}"
    assert cell in row and "$^{***}$" in row
    neg = next(ln for ln in lines if ln.startswith("x2 &"))
    assert neg.split(" & ")[1].startswith("$-$")  # x2 < 0: a real minus sign
    assert "Fixed effects: entity" in tex
    bare = regression_table(models).to_latex(environment=False)
    assert bare.startswith("\\begin{tabular}")


def test_mixed_and_event_study_results_in_one_table():
    from icsresearch.models import event_study, fit_mixed

    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(40), 6)
    df = pd.DataFrame({"g": g, "t": np.tile(np.arange(6), 40), "x": rng.normal(size=g.size)})
    df["cohort"] = np.where(df["g"] < 20, np.nan, 3.0)
    df["y"] = (
        df["x"]
        + rng.normal(size=40)[g]
        + rng.normal(size=g.size)
        + ((df["t"] >= df["cohort"]) * 1.0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mixed = fit_mixed(df, "y ~ x", group="g")
        es = event_study(df, "y", entity="g", time="t", cohort="cohort", covariates="x")
    tab = regression_table({"Mixed": mixed, "Event study": es}, terms=["x", "t+0"],
                           fmt="dataframe")  # fmt: skip
    assert tab.loc[("Random intercepts", ""), "Mixed"] == "g"
    assert tab.loc[("Fixed effects: g", ""), "Event study"] == "Yes"
    assert tab.loc[("Marginal R\u00b2", ""), "Mixed"] == f"{mixed.rsquared['marginal']:.3f}"
    assert tab.loc[("t+0", "estimate"), "Mixed"] == ""


# --- one model on its own: a journal table ------------------------------------------------------


def test_a_single_result_displays_as_a_journal_table(models):
    from icsresearch.models.results import format_p

    res = models["Pooled"]
    text = str(res)
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith(("x1 ", "x2 "))}
    for term in ("x1", "x2"):
        b, se, p = res.params[term], res.bse[term], _p(res, term)
        stars = "*" * (int(p < 0.1) + int(p < 0.05) + int(p < 0.01))
        cells = rows[term].split()
        assert cells[1] == f"{b:.3f}{stars}" and cells[2] == f"({se:.3f})"
        assert cells[3] == (f"{p:.3f}" if p >= 0.0005 else "<0.001")
    # p-values that round to zero are never printed as 0.000
    assert format_p(0.0) == "<0.001" and format_p(1e-300) == "<0.001"
    assert format_p(0.0004) == "<0.001" and format_p(0.0456) == "0.046"
    assert "0.000 " not in text and " 0.0 " not in text
    assert "Standard errors in parentheses; *** p<0.01, ** p<0.05, * p<0.1." in text
    # the inference convention on one short line, with the reference distribution
    line = next(x for x in text.splitlines() if x.startswith("Inference: "))
    assert res.cov_type in line and f"t({res.df_resid:g}) p-values, 95% CIs." in line
    # every R-squared shown is explained, and counts are integers
    assert "R-squared: squared correlation of the outcome with the fitted values" in text
    assert f"Observations           {res.nobs:,}" in text and f"{res.nobs:.1f}" not in text


def test_a_single_result_html_has_a_labelled_dependent_variable_and_the_legend(models):
    res = models["TWFE"]
    page = res._repr_html_()
    assert f"Dependent variable: {res.dependent}</caption>" in page
    assert "<th style='text-align:right;padding:1px 10px'>(SE)</th>" in page
    assert f"({res.bse['x1']:.3f})" in page and "p&lt;0.01" in page
    assert "Inference: " in page and "<table>" in page
