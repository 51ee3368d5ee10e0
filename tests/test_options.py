"""The options module: allowed values come from the Literal types, and misuse is one clear error."""

from __future__ import annotations

import warnings

import pytest

from icsresearch.errors import InvalidParameterError
from icsresearch.options import (
    Footprint,
    Source,
    TrustIcsMethod,
    allowed,
    check,
    check_bool,
    renamed,
)


def test_allowed_values_are_read_from_the_type():
    assert allowed(Source) == ("demo", "real")
    assert allowed(Footprint) == (2022, 2026)
    assert allowed(TrustIcsMethod) == ("headquarters", "catchment", "ae_activity")


@pytest.mark.parametrize(
    ("name", "value", "kind", "expected"),
    [
        ("source", "demo", Source, "demo"),
        ("footprint", 2026, Footprint, 2026),
        ("footprint", " 2022 ", Footprint, 2022),  # a command line or papermill string
    ],
)
def test_good_values_pass_normalised(name, value, kind, expected):
    assert check(name, value, kind) == expected


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("source", "Real", Source),  # case matters: one spelling
        ("footprint", True, Footprint),  # True == 1 in Python, never a footprint
        ("footprint", 2023, Footprint),
        ("footprint", "twenty", Footprint),
        ("method", None, TrustIcsMethod),
    ],
)
def test_bad_values_name_the_option_the_value_and_the_choices(name, value, kind):
    with pytest.raises(InvalidParameterError) as info:
        check(name, value, kind)
    message = str(info.value)
    assert f"{name}={value!r}" in message
    assert all(repr(c) in message for c in allowed(kind))


@pytest.mark.parametrize("value", ["none", "False", 0, 1, None])
def test_bools_are_bools(value):
    with pytest.raises(InvalidParameterError, match="must be True or False"):
        check_bool("small_sample", value)
    assert check_bool("small_sample", False) is False


def test_an_old_spelling_warns_with_the_new_one():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert renamed("cov_type", "clustered", "vcov", "CRV1") == "CRV1"
    assert len(caught) == 1 and caught[0].category is DeprecationWarning
    assert "vcov='CRV1'" in str(caught[0].message)
