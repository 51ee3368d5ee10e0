"""The pyfixest adapter: the installed pyfixest has every internal attribute the workbench reads,
and no other module reads them.

When pyfixest is upgraded and one of these fails, the message names the attribute and what it is
read for: update ``src/icsresearch/models/_pyfixest.py`` (and ``TESTED_SERIES`` and the pin in
``pyproject.toml``), nothing else.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch.models import _pyfixest as pfx

SRC = Path(pfx.__file__).resolve().parent


@pytest.fixture(scope="module")
def fitted() -> dict[str, object]:
    """One model of each kind the workbench fits, as it fits them."""
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "g": rng.integers(0, 20, n),
            "t": rng.integers(0, 6, n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    df["d"] = df["z"] + rng.normal(size=n)
    df["y"] = df["x"] + 0.5 * df["d"] + rng.normal(size=n)
    df["b"] = (df["y"] > 0).astype(int)
    df["c"] = rng.poisson(2.0, n)
    ssc = {"k_adj": True, "k_fixef": "nonnested", "G_adj": True, "G_df": "min"}
    common = dict(ssc=ssc, drop_singletons=True, collin_tol=1e-9, fixef_tol=1e-12)
    ols, _ = pfx.feols("y ~ x | g + t", df, vcov="CRV1", clusters=["g"], weights="w", **common)
    iv, _ = pfx.feols("y ~ x | g | d ~ z", df, vcov="hetero", clusters=[], weights=None, **common)
    return {
        "ols": ols,
        "iv": iv,
        "logit": pfx.feglm_raw(
            "b ~ x | g", df, family="logit", vcov="CRV1", cluster="g", offset=None
        ),
        "poisson": pfx.feglm_raw(
            "c ~ x | g", df, family="poisson", vcov="iid", cluster=None, offset=None
        ),
    }


def _kinds() -> list:
    out = []
    for kind, tables in (
        ("ols", (pfx.MODEL_ATTRIBUTES, pfx.OLS_ATTRIBUTES)),
        ("iv", (pfx.MODEL_ATTRIBUTES, pfx.OLS_ATTRIBUTES)),
        ("logit", (pfx.MODEL_ATTRIBUTES, pfx.GLM_ATTRIBUTES)),
        ("poisson", (pfx.MODEL_ATTRIBUTES, pfx.GLM_ATTRIBUTES)),
    ):
        for table in tables:
            out += [pytest.param(kind, name, id=f"{kind}-{name}") for name in table]
    return out


@pytest.mark.parametrize(("kind", "name"), _kinds())
def test_installed_pyfixest_has_every_attribute_read(fitted, kind, name):
    try:
        pfx.attribute(fitted[kind], name)
    except pfx.PyfixestInternalsError as exc:
        pytest.fail(f"pyfixest {pfx.version()}: {exc}")


def test_first_stage_diagnostics_are_read(fitted):
    F, eff = pfx.first_stage(fitted["iv"])
    assert F is not None and F > 10 and eff is not None  # a strong instrument (d = z + noise)
    for name in pfx.IV_DIAG_ATTRIBUTES:
        pfx.attribute(fitted["iv"], name)


def test_readers_return_what_the_public_api_says(fitted):
    """The private reads agree with pyfixest's public accessors where those exist."""
    lin = pfx.read_linear(fitted["ols"])
    np.testing.assert_allclose(lin.params, fitted["ols"].coef().to_numpy(), rtol=1e-14)
    np.testing.assert_allclose(np.sqrt(np.diag(lin.cov)), fitted["ols"].se().to_numpy(), rtol=1e-12)
    assert lin.clusters == ["g"] and lin.fixed_effects == ("g", "t") and lin.weights == "w"
    glm = pfx.read_glm(fitted["logit"])
    np.testing.assert_allclose(glm.params.to_numpy(), fitted["logit"].coef().to_numpy())
    assert glm.converged and len(glm.mu) == glm.nobs


def test_installed_version_is_one_the_adapter_was_tested_with():
    assert pfx.is_tested_version(), (
        f"pyfixest {pfx.version()} is installed but the adapter was checked against "
        f"{pfx.TESTED_SERIES}: run this file, fix what fails in models/_pyfixest.py, then add "
        "the series to TESTED_SERIES and the pin in pyproject.toml"
    )
    assert pfx.is_tested_version("0.60.3") and not pfx.is_tested_version("0.61.0")


def test_a_missing_attribute_names_itself_and_the_fix():
    class Stripped:
        """A pyfixest model from a version without ``_df_t``."""

    with pytest.raises(pfx.PyfixestInternalsError) as info:
        pfx.attribute(Stripped(), "_df_t")
    message = str(info.value)
    assert "'_df_t'" in message and "degrees of freedom" in message
    assert "Fix:" in message and "pyfixest==0.60.*" in message
    assert isinstance(info.value, AttributeError)  # hasattr-style checks still work


def test_no_other_module_reads_pyfixest_internals():
    private = [
        n
        for table in (
            pfx.MODEL_ATTRIBUTES,
            pfx.OLS_ATTRIBUTES,
            pfx.IV_DIAG_ATTRIBUTES,
            pfx.GLM_ATTRIBUTES,
        )
        for n in table
        if n.startswith("_")
    ]
    pattern = re.compile(r"\.(" + "|".join(map(re.escape, private)) + r")\b")
    offenders = {}
    for path in SRC.rglob("*.py"):
        if path.name == "_pyfixest.py":
            continue
        hits = pattern.findall(path.read_text())
        if hits:
            offenders[str(path.relative_to(SRC))] = sorted(set(hits))
    assert not offenders, f"pyfixest internals read outside models/_pyfixest.py: {offenders}"
    imports = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "_pyfixest.py" and re.search(r"^\s*import pyfixest", p.read_text(), re.M)
    ]
    assert not imports, f"modules calling pyfixest directly: {imports}"


def test_pyfixest_errors_become_clear_parameter_errors():
    from icsresearch.errors import InvalidParameterError

    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": [1, 1, 2, 2], "c": [1.0, 1.0, 2.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InvalidParameterError, match="collinear"):
            pfx.feols(
                "y ~ c | g", df, vcov="iid", clusters=[], ssc={}, drop_singletons=False,
                weights=None, collin_tol=1e-9, fixef_tol=1e-12,
            )  # fmt: skip
