"""Coefficient plots: inputs (tables, .tidy() objects, pyfixest), dodging, ratios, errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models.results import RegressionResult
from icsresearch.plots import coef_plot
from icsresearch.plots.style import figure_text

Z975 = 1.959963984540054


def _table(model=None):
    df = pd.DataFrame(
        {
            "term": ["Intercept", "beds", "managers"],
            "estimate": [5.0, 0.2, -0.5],
            "ci_low": [4.0, 0.1, -0.9],
            "ci_high": [6.0, 0.3, -0.1],
        }
    )
    if model:
        df["model"] = model
    return df


def _result(params, se):
    names = list(params)
    return RegressionResult(
        params=pd.Series(params),
        cov=pd.DataFrame(np.diag(np.square(se)), index=names, columns=names),
        nobs=100,
        df_resid=None,
        model="OLS (demo)",
        cov_type="classical",
        dependent="y",
        dist="normal",
    )


def _errorbar_extent(ax, label):
    """x extent of each error bar drawn for ``label``, in plot order."""
    cont = next(c for c in ax.containers if c.get_label() == label)
    segs = cont.lines[2][0].get_segments()
    return [(s[0][0], s[1][0]) for s in segs]


def test_two_models_are_dodged_and_intercept_dropped():
    data = pd.concat([_table("A"), _table("B").assign(estimate=[5, 0.25, -0.4])])
    res = coef_plot(data)
    assert res.summary["terms"] == ["beds", "managers"]
    d = res.data.set_index(["model", "term"])
    # first term on top; two models sit 0.35 apart around the term's row
    assert d.loc[("A", "beds"), "y"] - d.loc[("B", "beds"), "y"] == pytest.approx(0.35)
    assert (d.loc[("A", "beds"), "y"] + d.loc[("B", "beds"), "y"]) / 2 == pytest.approx(1.0)
    labels = [t.get_text() for t in res.ax.get_yticklabels()]
    ticks = dict(zip(res.ax.get_yticks(), labels, strict=True))
    assert ticks == {1.0: "beds", 0.0: "managers"}  # first term at the top
    ref = [ln for ln in res.ax.get_lines() if ln.get_linestyle() == "--"]
    assert ref and ref[0].get_xdata()[0] == 0.0
    assert [t.get_text() for t in res.ax.get_legend().get_texts()] == ["A", "B"]


def test_regression_result_cis_drawn_from_its_standard_errors():
    r = _result({"x1": 0.5, "x2": -1.0}, [0.1, 0.4])
    res = coef_plot(r, term_labels={"x1": "Managers per 100 beds"})
    extents = _errorbar_extent(res.ax, "OLS (demo)")
    assert extents[0] == pytest.approx((0.5 - Z975 * 0.1, 0.5 + Z975 * 0.1))
    assert extents[1] == pytest.approx((-1.0 - Z975 * 0.4, -1.0 + Z975 * 0.4))
    assert "Managers per 100 beds" in figure_text(res.fig)
    assert res.ax.get_xlabel() == "Estimate (95% CI)"


def test_ratio_scale_uses_one_and_a_log_axis():
    r = _result({"x1": np.log(2.0)}, [0.1])
    res = coef_plot({"Poisson": r}, exponentiate=True)
    assert res.data["estimate"].iloc[0] == pytest.approx(2.0)
    assert res.data["ci_high"].iloc[0] == pytest.approx(np.exp(np.log(2) + Z975 * 0.1))
    assert res.summary["reference"] == 1.0 and res.ax.get_xscale() == "log"
    assert res.ax.get_xlabel() == "Ratio (95% CI, log scale)"


def test_pyfixest_models():
    import pyfixest as pf

    df = pf.get_data()
    m = pf.feols("Y ~ X1 + X2 | f1", data=df)
    res = coef_plot({"FE": m})
    coef = m.coef()
    got = res.data.set_index("term")["estimate"]
    assert got["X1"] == pytest.approx(coef["X1"]) and got["X2"] == pytest.approx(coef["X2"])


@pytest.mark.parametrize(
    ("results", "kwargs", "match"),
    [
        (pd.DataFrame({"term": ["a"], "estimate": [1.0]}), {}, "ci_low"),
        (_table().assign(ci_low=[0.2, 0.5, 0.1]), {}, "outside their own confidence"),
        (_table(), {"terms": ["nope"]}, "nope"),
        (_table(), {"log_scale": True}, "positive"),
        ("a string", {}, "expected"),
        ({"a": _table(), "b": _result({"x": 0.1}, [0.1])}, {"exponentiate": True}, "ratio"),
    ],
)
def test_errors(results, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        coef_plot(results, **kwargs)


# --- the footer and the stamp follow the provenance of each result --------------------------------


def _footer(res) -> str:
    return next(line for line in figure_text(res.fig).splitlines() if line.startswith("Source:"))


def test_a_model_fitted_on_demo_data_is_stamped_and_says_so():
    from icsresearch.models import fit
    from icsresearch.panel import trust_year_panel

    panel = trust_year_panel("demo")
    acute = panel[panel["trust_type"] == "acute non-specialist"]
    res = fit(acute, "shmi ~ managers_fte", entity="trust_code", time="year", model="within")
    plot = coef_plot(res)
    text = figure_text(plot.fig)
    assert "SYNTHETIC DEMO DATA" in text  # the badge
    assert _footer(plot).startswith("Source: synthetic demo data")
    assert "not stated" not in text


def test_the_footer_follows_each_result_and_unknown_is_never_nhs():
    import dataclasses

    from icsresearch.provenance import Provenance

    rtt = {"source": "hm_rtt", "path": "/m/RTT.csv", "sha256": "c" * 64, "verified": True}
    real = dataclasses.replace(
        _result({"x": 1.0}, [0.1]), provenance=Provenance.record(synthetic=False, inputs=[rtt])
    )
    demo = dataclasses.replace(
        _result({"x": 1.5}, [0.1]), provenance=Provenance.record(synthetic=True)
    )
    by_hand = _result({"x": 0.5}, [0.1])  # nobody recorded where its numbers came from
    published = coef_plot(real)
    assert "published NHS data" in _footer(published) and "hm_rtt" in _footer(published)
    assert "SYNTHETIC" not in figure_text(published.fig)
    unknown = _footer(coef_plot(by_hand))
    assert "source unknown" in unknown and "NHS" not in unknown
    # one synthetic model among several stamps the figure
    assert "SYNTHETIC DEMO DATA" in figure_text(coef_plot({"real": real, "demo": demo}).fig)
    with pytest.raises(InvalidParameterError, match="synthetic=False"):
        coef_plot(demo, synthetic=False)


def test_source_is_the_deprecated_name_of_source_note():
    with pytest.warns(DeprecationWarning, match="source_note='NHS England'"):
        plot = coef_plot(_table(), source="NHS England")
    assert _footer(plot).startswith("Source: NHS England")
    with pytest.raises(InvalidParameterError, match="source_note"):
        coef_plot(_table(), source="a", source_note="b")
