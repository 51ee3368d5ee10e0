"""Bad input to the estimators: one short message with a Fix, never a traceback from deep inside.

Cases from issue 13 ("Correctness and bad input"): Driscoll-Kraay on one period, a text outcome,
numbers stored as text among the regressors, numpy scalars in messages, random effects with an
exactly collinear regressor.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.models import did_2x2, event_study, fit, fit_glm, fit_hdfe, fit_mixed
from icsresearch.models.core import plain, row_examples


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    n, t = 30, 6
    df = pd.DataFrame({"id": np.repeat(np.arange(n), t), "yr": np.tile(np.arange(t), n)})
    df["x"] = rng.normal(size=len(df))
    df["z"] = np.repeat(rng.normal(size=n), t)
    df["y"] = df["x"] + np.repeat(2 * rng.normal(size=n), t) + rng.normal(size=len(df))
    df["treated"] = (df["id"] < 10).astype(int)
    df["post"] = (df["yr"] >= 3).astype(int)
    df["y_text"] = df["y"].map(lambda v: f"{v:.6f}")
    df["x_text"] = df["x"].map(lambda v: f"{v:.6f}")
    return df


def test_driscoll_kraay_on_one_period_is_a_clear_error(panel):
    one_year = panel[panel["yr"] == 0]
    with pytest.raises(InvalidParameterError, match="at least 2 periods.*has 1") as err:
        fit(one_year, "y ~ x", entity="id", time="yr", model="pooled", vcov="DK")
    assert "Fix: use vcov='hetero'" in str(err.value)


ESTIMATOR_CALLS = {
    "fit": lambda d: fit(d, "y_text ~ x", entity="id", time="yr"),
    "fit_hdfe": lambda d: fit_hdfe(d, "y_text ~ x | id"),
    "fit_mixed": lambda d: fit_mixed(d, "y_text ~ x", group="id"),
    "did_2x2": lambda d: did_2x2(d, "y_text", treated="treated", post="post", entity="id"),
    "event_study": lambda d: event_study(
        d.assign(cohort=np.where(d["treated"] == 1, 3, np.nan)),
        "y_text",
        entity="id",
        time="yr",
        cohort="cohort",
    ),
}


@pytest.mark.parametrize("estimator", sorted(ESTIMATOR_CALLS))
def test_a_text_outcome_is_one_short_error(panel, estimator):
    with pytest.raises(InvalidParameterError) as err:
        ESTIMATOR_CALLS[estimator](panel)
    message = str(err.value)
    assert f"{estimator}: the outcome 'y_text'" in message
    assert "is not numeric" in message and "Fix: convert it" in message
    # the old message listed one dummy name per distinct value: tens of thousands of characters
    assert len(message) < 600


def test_a_text_outcome_in_fit_glm_is_refused(panel):
    with pytest.raises(InvalidParameterError, match="'y_text'.*numeric or boolean"):
        fit_glm(panel.assign(y_text=panel["y_text"]), "y_text ~ x", "poisson")


def test_numbers_stored_as_text_warn_before_they_become_dummies(panel):
    with (
        pytest.warns(UserWarning, match=r"'x_text' holds numbers stored as text.*179 dummy"),
        pytest.raises(InvalidParameterError, match="no residual degrees of freedom"),
    ):
        fit(panel, "y ~ x_text", entity="id", time="yr", model="pooled")
    few_levels = panel.assign(x_text=(panel["yr"] % 4).astype(str))
    with pytest.warns(UserWarning, match=r"fit_hdfe: regressor 'x_text'.*3 dummy columns"):
        fit_hdfe(few_levels, "y ~ x_text | id")


def test_a_text_column_wrapped_in_c_is_categorical_on_purpose(panel):
    data = panel.assign(year_text=panel["yr"].astype(str))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit(data, "y ~ x + C(year_text)", entity="id", time="yr", model="pooled")


def test_a_pandas_categorical_of_number_like_levels_is_categorical_on_purpose(panel):
    # mchugh2021's comorbidity bands '0', '1', '2', '3+': dummies by design, no warning
    bands = pd.Categorical((panel["yr"] % 4).astype(str), categories=["0", "1", "2", "3"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        res = fit(panel.assign(band=bands), "y ~ x + band", entity="id", time="yr", model="pooled")
    assert [t for t in res.params.index if t.startswith("band")] == [
        "band[T.1]",
        "band[T.2]",
        "band[T.3]",
    ]
    # the same levels as plain text still warn
    with pytest.warns(UserWarning, match=r"'band' holds numbers stored as text.*3 dummy"):
        fit(
            panel.assign(band=(panel["yr"] % 4).astype(str)),
            "y ~ x + band",
            entity="id",
            time="yr",
            model="pooled",
        )


def test_a_category_column_with_words_does_not_warn(panel):
    data = panel.assign(region=np.where(panel["id"] % 2, "North", "South"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit(data, "y ~ x + region", entity="id", time="yr", model="pooled")


def test_messages_print_plain_values_not_numpy_reprs():
    index = pd.Index(np.array([1, 2, 3], dtype=np.int64))
    text = row_examples(index, np.array([True, False, True]))
    assert text == "1, 3"
    assert plain(np.float64(0.5)) == 0.5 and type(plain(np.int64(7))) is int
    assert plain(pd.Timestamp("2023-04-01")) == "2023-04-01"


def test_infinite_values_are_reported_with_plain_row_labels(panel):
    data = panel.assign(x=panel["x"].where(panel.index != 4, np.inf))
    with pytest.raises(InvalidParameterError) as err:
        fit_hdfe(data, "y ~ x | id")
    assert "np.int64" not in str(err.value) and "(rows 4)" in str(err.value)


@pytest.mark.parametrize("re_method", ["swamy-arora", "amemiya"])
@pytest.mark.parametrize("collinear", ["x2", "z2"])
def test_random_effects_drop_an_exactly_collinear_regressor_as_pooled_and_within_do(
    panel, re_method, collinear
):
    data = panel.assign(x2=2 * panel["x"], z2=3 * panel["z"] + 1)
    formula = "y ~ x + z"
    with pytest.warns(UserWarning, match=rf"Dropped \['{collinear}'\]"):
        with_extra = fit(
            data,
            f"{formula} + {collinear}",
            entity="id",
            time="yr",
            model="random",
            re_method=re_method,
        )
    reference = fit(data, formula, entity="id", time="yr", model="random", re_method=re_method)
    assert list(with_extra.params.index) == ["Intercept", "x", "z"]
    np.testing.assert_allclose(with_extra.params, reference.params, rtol=1e-10)
    np.testing.assert_allclose(with_extra.bse, reference.bse, rtol=1e-10)


def test_cr3_with_a_single_treated_cluster_is_refused_not_a_huge_number():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"id": np.repeat(np.arange(12), 6), "yr": np.tile(np.arange(6), 12)})
    df["y"] = rng.normal(size=len(df))
    one_treated = df.assign(d=((df["id"] == 0) & (df["yr"] >= 3)).astype(float))
    with pytest.raises(InvalidParameterError, match="leaves a coefficient unidentified") as err:
        fit(one_treated, "y ~ d", entity="id", time="yr", effects="twoways", vcov="CRV3")
    assert "wild_bootstrap" in str(err.value)
    # three treated clusters: every leave-one-out fit identifies d, and CR3 is a number
    three = df.assign(d=((df["id"] < 3) & (df["yr"] >= 3)).astype(float))
    res = fit(three, "y ~ d", entity="id", time="yr", effects="twoways", vcov="CRV3")
    assert np.isfinite(res.bse["d"]) and 0.05 < res.bse["d"] < 5
