"""ICB boundaries and trust points from R sf tables; matplotlib paths for choropleths."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources.boundaries import (
    icb_paths,
    icb_polygons_as_patches,
    read_icb_boundaries,
    read_trust_points,
)


def _rdata(path, name):
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rdata warns about sf classes it does not know
        return rdata.read_rda(str(path))[name]


@pytest.fixture(scope="module")
def boundaries(mirror):
    return read_icb_boundaries()


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_boundaries_match_the_raw_file(mirror, boundaries):
    raw = _rdata(mirror / "geographr/data/boundaries_icb22.rda", "boundaries_icb22")
    df = boundaries
    assert len(df) == len(raw) == 42 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) and df["icb_ons_code"].is_unique
    assert df["icb_ons_code"].tolist() == list(raw["icb22_code"])
    # Published as July 2022 codes (Surrey Heartlands/Sussex before the 2023 recodes).
    assert {"E54000052", "E54000053"} <= set(df.icb_ons_code)
    assert not {"E54000063", "E54000064"} & set(df.icb_ons_code)
    n_points = sum(ring.shape[0] for geom in df.geometry for poly in geom for ring in poly)
    n_raw = sum(
        np.asarray(ring).shape[0] for geom in raw["geometry"] for poly in geom for ring in poly
    )
    assert n_points == n_raw == 661
    assert sum(len(geom) for geom in df.geometry) == 43  # one ICB has two polygons
    rings = [ring for geom in df.geometry for poly in geom for ring in poly]
    assert all(r.ndim == 2 and r.shape[1] == 2 and r.dtype == float for r in rings)
    allxy = np.vstack(rings)
    # England in WGS84: roughly 6W-2E, 49.8N-55.9N.
    assert allxy[:, 0].min() > -6 and allxy[:, 0].max() < 2
    assert allxy[:, 1].min() > 49.8 and allxy[:, 1].max() < 56
    first = df.geometry.iloc[0][0][0]
    assert first[0].tolist() == pytest.approx([-2.956221, 53.6974725])


@pytest.mark.realdata
def test_boundaries_cover_the_icbs_of_the_catchment_file(boundaries):
    from icsresearch.sources.trust_ics import read_catchment_shares

    assert set(boundaries.icb_ons_code) == set(read_catchment_shares().icb_ons_code)


@pytest.mark.realdata
def test_paths_and_patches_for_a_choropleth(boundaries):
    paths = icb_paths(boundaries)
    assert list(paths) == boundaries["icb_ons_code"].tolist()
    manchester = paths["E54000057"]  # Greater Manchester contains Manchester city centre
    assert manchester.contains_point((-2.2426, 53.4808))
    assert not paths["E54000037"].contains_point((-2.2426, 53.4808))  # Devon does not
    # A point is inside exactly one ICB (away from the simplified borders).
    inside = [code for code, p in paths.items() if p.contains_point((-0.1276, 51.5072))]
    assert len(inside) == 1
    patches = icb_polygons_as_patches(boundaries, edgecolor="white")
    from matplotlib.collections import PatchCollection

    collection = PatchCollection(list(patches.values()))
    collection.set_array(np.arange(len(patches)))
    assert len(collection.get_paths()) == 42


@pytest.mark.realdata
def test_trust_points_match_the_raw_file(mirror):
    raw = _rdata(mirror / "geographr/data/points_nhs_trusts22.rda", "points_nhs_trusts22")
    df = read_trust_points()
    assert len(df) == len(raw) == 218 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["status"].value_counts().to_dict() == {"open": 212, "closed": 6}
    r0a = df.set_index("trust_code").loc["R0A"]
    assert (r0a["lon"], r0a["lat"]) == pytest.approx((-2.22771, 53.46244))
    xy = np.vstack(list(raw["geometry"]))
    assert np.allclose(df[["lon", "lat"]].to_numpy(), xy)
    # The same trusts, and the same closed ones, as the ODS December 2021 extract.
    with open(mirror / "open-nhs-hospital-use-data/data/etr_tidy.csv", encoding="utf-8") as fh:
        tidy = list(csv.DictReader(fh))
    assert set(df.trust_code) == {r["ods_code"] for r in tidy}
    closed = {r["ods_code"] for r in tidy if r["close_date"] != "NA"}
    assert set(df.loc[df.status == "closed", "trust_code"]) == closed


# --- hand-made files -------------------------------------------------------------------------

SQUARE = np.array([[0.0, 51.0], [1.0, 51.0], [1.0, 52.0], [0.0, 52.0], [0.0, 51.0]])
# Anticlockwise like SQUARE: sf would store a hole clockwise, but not every file does.
HOLE = np.array([[0.4, 51.4], [0.6, 51.4], [0.6, 51.6], [0.4, 51.6], [0.4, 51.4]])


def _sf_file(tmp_path, geometry, codes=("E54000008",), name="boundaries_icb22"):
    """A table shaped like an sf object as rdata reads it (a named list of columns)."""
    import rdata

    table = {
        "icb22_name": np.array([f"ICB {i}" for i in range(len(codes))], dtype=object),
        "icb22_code": np.array(codes, dtype=object),
        "geometry": geometry,
    }
    path = tmp_path / f"{name}.rda"
    rdata.write_rda(str(path), {name: table})
    return path


def test_polygon_and_multipolygon_with_a_hole(tmp_path):
    path = _sf_file(
        tmp_path,
        [[SQUARE, HOLE], [[SQUARE + [2, 0]], [SQUARE + [4, 0]]]],
        codes=("E54000008", "E54000010"),
    )
    df = read_icb_boundaries(path)
    assert len(df.geometry[0]) == 1 and len(df.geometry[0][0]) == 2  # POLYGON wrapped
    assert len(df.geometry[1]) == 2  # MULTIPOLYGON kept
    paths = icb_paths(df)
    assert paths["E54000008"].contains_point((0.2, 51.2))
    assert paths["E54000010"].contains_point((4.5, 51.5))
    assert df.attrs["verified"] is False
    # The hole runs the same way round as the outer ring here, yet a filled patch leaves it open.
    assert _pixel(icb_polygons_as_patches(df)["E54000008"], (0.5, 51.5)) == "white"
    assert _pixel(icb_polygons_as_patches(df)["E54000008"], (0.2, 51.2)) == "black"


def _pixel(patch, point) -> str:
    """Colour at a lon/lat point when the patch is drawn black on white."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1), dpi=100)
    patch.set_color("black")
    patch.set_linewidth(0)
    ax.add_patch(patch)
    ax.set_xlim(0, 1)
    ax.set_ylim(51, 52)
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    fig.canvas.draw()
    x, y = ax.transData.transform(point)
    rgba = np.asarray(fig.canvas.buffer_rgba())[int(fig.bbox.height - y), int(x)]
    plt.close(fig)
    return "black" if rgba[:3].max() < 50 else "white" if rgba[:3].min() > 200 else "grey"


def test_projected_coordinates_are_refused(tmp_path):
    bng = SQUARE * 1000 + [400000, 100000]
    with pytest.raises(
        DataFileError, match=r"row 1 has coordinates outside longitude.*\n.*EPSG:4326"
    ):
        read_icb_boundaries(_sf_file(tmp_path, [[[bng]]]))


def test_bad_rings_and_codes(tmp_path):
    nan_ring = SQUARE.copy()
    nan_ring[2, 0] = np.nan
    with pytest.raises(
        DataFileError, match="row 1 has a ring that is not a list of at least 3 finite"
    ):
        read_icb_boundaries(_sf_file(tmp_path, [[[nan_ring]]]))
    with pytest.raises(DataFileError, match=r"row 1 has a ring.*shape \(5, 3\)"):
        read_icb_boundaries(_sf_file(tmp_path, [[[np.hstack([SQUARE, SQUARE[:, :1]])]]]))
    with pytest.raises(DataFileError, match=r"'icb22_code'.*row 1: 'QYG'"):
        read_icb_boundaries(_sf_file(tmp_path, [[[SQUARE]]], codes=("QYG",)))
    with pytest.raises(DataFileError, match="no R object 'boundaries_icb22'"):
        read_icb_boundaries(_sf_file(tmp_path, [[[SQUARE]]], name="icb_shapes"))
    garbage = tmp_path / "boundaries_icb22.rda"
    garbage.write_bytes(b"\x1f\x8b not gzip at all")
    with pytest.raises(DataFileError, match="not a readable R data file"):
        read_icb_boundaries(garbage)


def test_paths_need_the_reader_output():
    import pandas as pd

    with pytest.raises(InvalidParameterError, match="read_icb_boundaries"):
        icb_paths(pd.DataFrame({"code": ["E54000008"]}))


def _points_file(tmp_path, points, status=("open", "closed"), codes=("R0A", "RW6")):
    import rdata

    table = {
        "nhs_trust22_name": np.array(["A", "B"][: len(codes)], dtype=object),
        "nhs_trust22_code": np.array(codes, dtype=object),
        "status": np.array(status, dtype=object),
        "geometry": points,
    }
    path = tmp_path / "points_nhs_trusts22.rda"
    rdata.write_rda(str(path), {"points_nhs_trusts22": table})
    return path


def test_trust_points_hand_made(tmp_path):
    pts = [np.array([-2.2, 53.4]), np.array([-2.1, 53.5])]
    df = read_trust_points(_points_file(tmp_path, pts, status=("open ", "Closed")))
    assert df["status"].tolist() == ["open", "closed"] and df["lon"].tolist() == [-2.2, -2.1]
    with pytest.raises(
        DataFileError, match=r"'status' has values other than 'open'/'closed': \['merged'\]"
    ):
        read_trust_points(_points_file(tmp_path, pts, status=("open", "merged")))
    with pytest.raises(DataFileError, match="row 2 has a geometry that is not one"):
        read_trust_points(_points_file(tmp_path, [pts[0], np.array([1.0, 2.0, 3.0])]))
    with pytest.raises(DataFileError, match="EPSG:4326"):
        read_trust_points(_points_file(tmp_path, [pts[0], np.array([383000.0, 398000.0])]))
