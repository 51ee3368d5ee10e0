"""Reference geography on the real lookups: ICBs in both footprints, trusts, mergers, weights."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pandas as pd
import pytest

from icsresearch import geography
from icsresearch.errors import InvalidParameterError

pytestmark = pytest.mark.realdata


def test_42_icbs_in_2022_with_ods_keys_and_ons_attributes():
    icbs = geography.icbs(2022)
    assert len(icbs) == 42 and icbs["icb_code"].is_unique and icbs["icb_ons_code"].is_unique
    assert icbs["icb_code"].str.fullmatch(r"Q[A-Z0-9]{2}").all()
    assert icbs["icb_ons_code"].str.fullmatch(r"E54\d{6}").all()
    assert set(icbs["region_code"]) == {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}
    # 2022 codes, not the 2023 recodes
    assert {"E54000052", "E54000053"} <= set(icbs["icb_ons_code"])
    assert not {"E54000063", "E54000064"} & set(icbs["icb_ons_code"])
    row = icbs.set_index("icb_code").loc["QYG"]
    assert row["icb_ons_code"] == "E54000008" and row["region_name"] == "North West"


def test_36_icbs_in_2026_from_the_project_table():
    icbs = geography.icbs(2026).set_index("icb_code")
    assert len(icbs) == 36
    new = {"S1Y5D", "D7T5G", "T6Y0W", "S0E4D", "S9B9J", "Z9B2Z"}
    assert new <= set(icbs.index)
    assert icbs.loc["S1Y5D", "predecessors"] == "QHG;QM7;QUE"
    assert (
        icbs.loc["Z9B2Z", "predecessors"] == "QMJ;QRV" and icbs.loc["Z9B2Z", "region_code"] == "Y56"
    )
    assert (
        icbs.loc["QRL", "predecessors"] == "QNQ;QRL"
    )  # Hampshire keeps its code and gains part of Frimley
    assert icbs.loc[list(new), "icb_ons_code"].isna().all(), "unverified ONS codes are not guessed"
    for gone in (
        "QHG",
        "QUE",
        "QM7",
        "QH8",
        "QJG",
        "QMM",
        "QU9",
        "QNQ",
        "QXU",
        "QNX",
        "QMJ",
        "QRV",
    ):
        assert gone not in icbs.index


def test_2026_lsoa_assignment_splits_frimley_three_ways():
    lk22, lk26 = geography.lsoa_to_icb(2022), geography.lsoa_to_icb(2026)
    assert len(lk22) == len(lk26) == 32844 and lk26["icb_code"].notna().all()
    frimley = lk26[lk26["icb2022_code"] == "QNQ"]
    assert set(frimley["icb_code"]) == {"S0E4D", "S9B9J", "QRL"}
    assert set(frimley.loc[frimley["ltla_code"] == "E06000039", "icb_code"]) == {"S0E4D"}  # Slough
    assert set(lk26.loc[lk26["ltla_code"] == "E07000071", "icb_code"]) == {"D7T5G"}  # Colchester
    assert set(lk26.loc[lk26["ltla_code"] == "E07000202", "icb_code"]) == {"T6Y0W"}  # Ipswich
    assert lk26["icb_code"].nunique() == 36


@pytest.mark.parametrize("footprint", [2022, 2026])
def test_ics_populations_add_to_the_england_total(mirror, footprint):
    import pyreadr

    raw = pyreadr.read_r(str(mirror / "demographr/data/population19_lsoa11.rda"))[
        "population19_lsoa11"
    ]
    england = raw.loc[raw["lsoa11_code"].str.startswith("E"), "total_population"].sum()
    assert england == 56_286_961  # ONS mid-2019 estimate for England
    from icsresearch.panel.real import ics_covariates

    cov, _ = ics_covariates(footprint)
    assert len(cov) == (42 if footprint == 2022 else 36)
    assert cov["population"].sum() == pytest.approx(england)


def test_unknown_ics_code_lists_the_valid_codes():
    assert geography.validate_ics_code(" qyg ", 2022) == "QYG"
    with pytest.raises(InvalidParameterError) as info:
        geography.validate_ics_code("QXX", 2022)
    assert "QYG (Cheshire & Merseyside)" in str(info.value) and "QXX" in str(info.value)
    with pytest.raises(InvalidParameterError, match="2026 footprint"):
        geography.validate_ics_code("QNQ", 2026)  # Frimley no longer exists
    with pytest.raises(InvalidParameterError, match="footprint=2024"):
        geography.icbs(2024)


def test_normalise_2023_ons_recodes():
    codes = pd.Series(["E54000063", "E54000064", "E54000008"])
    assert geography.normalise_icb_ons_code(codes).tolist() == [
        "E54000052",
        "E54000053",
        "E54000008",
    ]


def test_trust_types_match_the_providers_file(mirror):
    with open(mirror / "hospital_management/data/csv/nhs_provider.csv", encoding="utf-8-sig") as fh:
        raw = [r for r in csv.DictReader(fh) if r["ORG_TYPE"] != "Clinical Commissioning Group"]
    expected = {}
    for r in raw:
        kind = {
            "Acute": "acute",
            "Mental Health": "mental health",
            "Community Provider Trust": "community",
            "Ambulance": "ambulance",
        }[r["ORG_TYPE"]]
        if kind == "acute":
            kind = "acute specialist" if r["SPECIALIST"] == "TRUE" else "acute non-specialist"
        expected[r["ORG_CODE"].strip()] = kind
    trusts = geography.trusts().set_index("trust_code")
    assert trusts.index.is_unique
    for code, kind in expected.items():
        assert trusts.loc[code, "trust_type"] == kind, code
    assert trusts["hq_icb_code"].isin(set(geography.icbs(2022)["icb_code"])).all()
    # Closed trusts are placed where their headquarters were, not where their successor is.
    assert trusts.loc["RJF", "hq_icb_code"] == "QNC"  # Burton, merged into Derby's RTG
    assert trusts.loc["RTG", "hq_icb_code"] == "QJ2"


def test_headquarters_agree_with_trust_locations_and_icb_boundaries():
    """An independent check of the HQ method: ODS trust points inside the ICB polygons."""
    from matplotlib.path import Path as MplPath

    from icsresearch.sources.boundaries import read_icb_boundaries, read_trust_points

    bounds = read_icb_boundaries()
    q_of = geography.icbs(2022).set_index("icb_ons_code")["icb_code"]
    paths = {}
    for ons, geom in zip(bounds["icb_ons_code"], bounds["geometry"], strict=True):
        verts, codes = [], []
        for polygon in geom:
            for ring in polygon:
                ring = np.asarray(ring)
                verts.extend(ring.tolist())
                codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 1))
        paths[q_of[geography.normalise_icb_ons_code(pd.Series([ons]))[0]]] = MplPath(verts, codes)
    points = read_trust_points()
    hq = geography.trusts().set_index("trust_code")["hq_icb_code"]
    points = points[points["trust_code"].isin(hq.index)]
    inside = [
        paths[hq[t]].contains_point((lon, lat))
        for t, lon, lat in zip(points["trust_code"], points["lon"], points["lat"], strict=True)
    ]
    share = np.mean(inside)
    # 204 of 215 agree. The rest are coastal points outside the simplified polygons (North Tees,
    # Sussex), sites near London ICB edges, or points at a trust's other main site (Southport and
    # Ormskirk; Northern Lincolnshire and Goole).
    assert len(points) > 180 and share > 0.93, (
        f"only {share:.1%} of trust points fall in their HQ ICB"
    )


@pytest.mark.parametrize("method", geography.METHODS)
@pytest.mark.parametrize("footprint", [2022, 2026])
def test_weights_sum_to_one_and_use_the_footprint(method, footprint):
    w = geography.trust_ics_weights(method, footprint)
    sums = w.groupby("trust_code")["weight"].sum()
    assert np.allclose(sums, 1.0)
    assert (w["weight"] > 0).all()
    assert set(w["icb_code"]) <= set(geography.icbs(footprint)["icb_code"])
    assert set(w["trust_code"]) == set(geography.trusts()["trust_code"])


def test_catchment_weights_are_the_ohid_shares(mirror):
    import pyreadr

    raw = pyreadr.read_r(str(mirror / "geographr/data/lookup_nhs_trusts22_icb22.rda"))[
        "lookup_nhs_trusts22_icb22"
    ]
    r0a = raw[raw["nhs_trust22_code"] == "R0A"].set_index("icb22_code")[
        "proportion_trust_came_from_icb"
    ]
    w = geography.trust_ics_weights("catchment", 2022)
    mine = w[w["trust_code"] == "R0A"].set_index("icb_code")["weight"]
    q_of = geography.icbs(2022).set_index("icb_ons_code")["icb_code"]
    expected = (r0a / r0a.sum()).rename(index=q_of)
    pd.testing.assert_series_equal(mine.sort_index(), expected.sort_index(), check_names=False)


def test_2026_catchment_splits_frimley_shares_by_population():
    w22 = geography.trust_ics_weights("catchment", 2022)
    w26 = geography.trust_ics_weights("catchment", 2026)
    rdu22 = w22[w22["trust_code"] == "RDU"].set_index("icb_code")["weight"]
    rdu26 = w26[w26["trust_code"] == "RDU"].set_index("icb_code")["weight"]
    assert rdu22["QNQ"] > 0.5
    assert {"S0E4D", "S9B9J", "QRL"} <= set(rdu26.index)
    assert rdu26.sum() == pytest.approx(1.0)


def test_harmonise_to_latest_walks_mergers():
    df = pd.DataFrame({"trust_code": ["RM2", "RW3", "R0A", "RA2"], "year": [2016] * 4})
    out, mapping = geography.harmonise_trust_codes(df, "latest")
    assert out["trust_code"].tolist() == ["R0A", "R0A", "R0A", "RA2"]
    assert out["trust_code_reported"].tolist() == ["RM2", "RW3", "R0A", "RA2"]
    assert set(mapping["old_code"]) == {"RM2", "RW3"} and set(mapping["latest_code"]) == {"R0A"}
    same, empty = geography.harmonise_trust_codes(df, "as_reported")
    assert same["trust_code"].tolist() == df["trust_code"].tolist() and empty.empty


@pytest.mark.parametrize("dtype", ["object", "string"])
def test_harmonising_codes_none_of_which_merged_keeps_them_and_their_dtype(dtype):
    df = pd.DataFrame({"trust_code": pd.Series(["RA2", "R0A"], dtype=dtype)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # before: a pandas fill-value warning, then float64
        out, mapping = geography.harmonise_trust_codes(df, "latest")
    assert out["trust_code"].tolist() == ["RA2", "R0A"] and mapping.empty
    assert out["trust_code"].dtype == df["trust_code"].dtype
    merged, _ = geography.harmonise_trust_codes(df.assign(trust_code=["RM2", "RA2"]), "latest")
    assert merged["trust_code"].tolist() == ["R0A", "RA2"]
