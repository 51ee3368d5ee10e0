"""Maps: ICB boundaries (July 2022) and NHS trust headquarters points, from R ``sf`` tables.

Geometry is kept as plain numpy arrays (no GIS dependency): an ICB is a list of polygons, each a
list of rings, each an ``(n, 2)`` array of longitude/latitude (WGS84). :func:`icb_paths` and
:func:`icb_polygons_as_patches` turn them into matplotlib paths and patches for choropleths.

Publisher: ONS Open Geography and NHS ODS, via the geographr R package (OGL v3; boundaries also
contain OS data, Crown copyright and database right).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import Column, Schema, _refetch_hint, finish, read_rda_sf, show, source
from .ods import ICB_ONS_CODE, TRUST_CODE, checked_codes, published_names

if TYPE_CHECKING:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

_WGS84_FIX = (
    "Coordinates must be WGS84 longitude/latitude (EPSG:4326); projected coordinates such as "
    "British National Grid eastings/northings must be transformed first."
)

ICB_BOUNDARIES = Schema(
    dataset="icb_boundaries",
    columns=(
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "icb22_code as published: the July 2022 ONS code (E54000052 Surrey Heartlands, "
            "E54000053 Sussex), not the ODS Q-code and not the 2023 recodes E54000063/64.",
        ),
        Column("icb_name", "ICB name", "", "icb22_name as published."),
        Column(
            "geometry",
            "Boundary",
            "lon/lat (WGS84)",
            "List of polygons; each polygon a list of rings (outer ring first, then holes); "
            "each ring an (n, 2) numpy array of longitude, latitude.",
        ),
    ),
    year_convention="No year column: ICB boundaries as at July 2022.",
    notes="42 ICBs, heavily simplified (661 points in all, one ring per polygon; only one ICB "
    "has two polygons): fine for national choropleths, not for point-in-polygon work near "
    "borders. The published column icb22_code holds ONS E54 codes, so it is named icb_ons_code "
    "here; join to Q-codes (icb_code) with the LSOA lookup.",
    key=("icb_ons_code",),
)


def read_icb_boundaries(path: str | Path | None = None) -> pd.DataFrame:
    """ICB boundaries of July 2022 as lists of lon/lat polygons.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``boundaries_icb22`` sf table (icb22_name, icb22_code,
        geometry) in the geographr layout; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        icb_ons_code, icb_name, geometry (list of polygons of rings of (n, 2) lon/lat arrays).

    Examples
    --------
    >>> from icsresearch.sources.boundaries import read_icb_boundaries
    >>> icbs = read_icb_boundaries()  # doctest: +SKIP
    >>> icbs.geometry.iloc[0][0][0].shape  # first ring of the first polygon  # doctest: +SKIP
    (16, 2)
    """
    src = source(ICB_BOUNDARIES.dataset, path)
    table = "boundaries_icb22"
    raw = read_rda_sf(src, table, required=["icb22_code", "icb22_name", "geometry"])
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    df = pd.DataFrame(
        {
            "icb_ons_code": checked_codes(
                raw["icb22_code"],
                src,
                "icb22_code",
                ICB_ONS_CODE,
                "ONS ICB codes (E54000008)",
                first_row=1,
            ),
            "icb_name": published_names(raw["icb22_name"]),
            "geometry": [
                _multipolygon(value, src, row) for row, value in enumerate(raw["geometry"], 1)
            ],
        }
    )
    return finish(df, ICB_BOUNDARIES, src)


def _multipolygon(value: Any, src, row: int) -> list[list[np.ndarray]]:
    """An sf POLYGON (list of rings) or MULTIPOLYGON (list of polygons) as a list of polygons."""
    if not isinstance(value, list | tuple) or not value:
        raise DataFileError(
            src.path,
            f"row {row} has an empty or unreadable geometry ({type(value).__name__})",
            "Each ICB needs a POLYGON or MULTIPOLYGON geometry; re-export the sf table.",
        )
    polygons = [value] if all(isinstance(r, np.ndarray) for r in value) else value
    return [[_ring(ring, src, row) for ring in polygon] for polygon in polygons]


def _ring(ring: Any, src, row: int) -> np.ndarray:
    try:
        arr = np.asarray(ring, dtype=float)
    except (TypeError, ValueError):
        arr = np.empty((0, 0))
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 3 or not np.isfinite(arr).all():
        raise DataFileError(
            src.path,
            f"row {row} has a ring that is not a list of at least 3 finite (lon, lat) points "
            f"(shape {arr.shape})",
            "Each ring of a polygon is an (n, 2) matrix of coordinates; re-export the sf table.",
        )
    _check_lon_lat(arr[:, 0], arr[:, 1], src, f"row {row}")
    return arr


def _check_lon_lat(lon: np.ndarray, lat: np.ndarray, src, where: str) -> None:
    if (np.abs(lon) > 180).any() or (np.abs(lat) > 90).any():
        raise DataFileError(
            src.path,
            f"{where} has coordinates outside longitude -180..180 / latitude -90..90 "
            f"(e.g. {lon.flat[0]:g}, {lat.flat[0]:g})",
            _WGS84_FIX,
        )


def icb_paths(boundaries: pd.DataFrame | None = None) -> dict[str, MplPath]:
    """One matplotlib :class:`~matplotlib.path.Path` per ICB (all its polygons and holes).

    Parameters
    ----------
    boundaries
        Output of :func:`read_icb_boundaries` (read from the registry by default).

    Returns
    -------
    dict
        icb_ons_code -> compound path in lon/lat, in the order of ``boundaries``. Outer rings
        run anticlockwise and holes clockwise, so filled patches leave holes open.
        (``Path.contains_point`` ignores holes; use it only away from them.)
    """
    from matplotlib.path import Path as MplPath

    if boundaries is None:
        boundaries = read_icb_boundaries()
    _require(boundaries, ["icb_ons_code", "geometry"])
    out = {}
    for code, geometry in zip(boundaries["icb_ons_code"], boundaries["geometry"], strict=True):
        vertices, kinds = [], []
        for polygon in geometry:
            for i, ring in enumerate(polygon):
                # matplotlib fills with the non-zero winding rule: holes only stay open if they
                # run the other way round from the outer ring, which not every source ensures.
                if (_signed_area(ring) > 0) != (i == 0):
                    ring = ring[::-1]
                vertices.append(np.vstack([ring, ring[:1]]))
                kinds.append(
                    [MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 1) + [MplPath.CLOSEPOLY]
                )
        out[code] = MplPath(np.vstack(vertices), np.concatenate(kinds).astype(np.uint8))
    return out


def _signed_area(ring: np.ndarray) -> float:
    """Shoelace area: positive when the ring runs anticlockwise."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def icb_polygons_as_patches(
    boundaries: pd.DataFrame | None = None, **patch_kwargs: Any
) -> dict[str, PathPatch]:
    """One matplotlib :class:`~matplotlib.patches.PathPatch` per ICB, for choropleth maps.

    Parameters
    ----------
    boundaries
        Output of :func:`read_icb_boundaries` (read from the registry by default).
    **patch_kwargs
        Passed to every ``PathPatch`` (e.g. ``edgecolor="white", linewidth=0.3``).

    Returns
    -------
    dict
        icb_ons_code -> patch. Put the values in a ``PatchCollection`` and colour it with
        ``set_array`` in the same order.

    Examples
    --------
    >>> import matplotlib.pyplot as plt  # doctest: +SKIP
    >>> from matplotlib.collections import PatchCollection  # doctest: +SKIP
    >>> patches = icb_polygons_as_patches()  # doctest: +SKIP
    >>> coll = PatchCollection(list(patches.values()), cmap="Blues")  # doctest: +SKIP
    >>> coll.set_array(values.reindex(list(patches)).to_numpy())  # doctest: +SKIP
    >>> ax = plt.gca(); ax.add_collection(coll); ax.autoscale_view(); ax.set_aspect(1.6)  # doctest: +SKIP
    """
    from matplotlib.patches import PathPatch

    return {code: PathPatch(p, **patch_kwargs) for code, p in icb_paths(boundaries).items()}


def _require(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"boundaries lacks column(s) {missing}; pass the output of read_icb_boundaries()."
        )


# --- trust points ----------------------------------------------------------------------------

TRUST_POINTS = Schema(
    dataset="trust_points",
    columns=(
        Column("trust_code", "Trust", "ODS code", "NHS trust (2022 code)."),
        Column("trust_name", "Trust name", "", "nhs_trust22_name as published."),
        Column("status", "Status", "", "'open' or 'closed' (in 2022)."),
        Column(
            "lon",
            "Longitude",
            "degrees (WGS84)",
            "Headquarters longitude.",
            bounds=(-11.0, 3.0),
            typical=(-6.5, 2.0),
        ),
        Column(
            "lat",
            "Latitude",
            "degrees (WGS84)",
            "Headquarters latitude.",
            bounds=(49.0, 61.0),
            typical=(49.8, 56.0),
        ),
    ),
    year_convention="No year column: trusts as at 2022.",
    notes="218 trusts (212 open, 6 closed: RD3, RDZ, RT3, RTV, RW6, RXH), including the 3 Welsh "
    "trusts ODS lists. Points are headquarters locations (registered addresses), not hospital "
    "sites.",
    key=("trust_code",),
)


def read_trust_points(path: str | Path | None = None) -> pd.DataFrame:
    """NHS trust headquarters locations (2022) as longitude/latitude.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``points_nhs_trusts22`` sf table (nhs_trust22_name,
        nhs_trust22_code, status, geometry) in the geographr layout; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        trust_code, trust_name, status, lon, lat.
    """
    src = source(TRUST_POINTS.dataset, path)
    table = "points_nhs_trusts22"
    raw = read_rda_sf(
        src, table, required=["nhs_trust22_code", "nhs_trust22_name", "status", "geometry"]
    )
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    points = []
    for row, value in enumerate(raw["geometry"], 1):
        try:
            xy = np.asarray(value, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            xy = np.empty(0)
        if xy.shape != (2,) or not np.isfinite(xy).all():
            raise DataFileError(
                src.path,
                f"row {row} has a geometry that is not one (lon, lat) point: {show(value)}",
                "Each trust needs a POINT geometry; re-export the sf table.",
            )
        points.append(xy)
    xy = np.vstack(points)
    _check_lon_lat(xy[:, 0], xy[:, 1], src, "the geometry column")
    status = published_names(raw["status"]).str.lower()
    if not status.isin(["open", "closed"]).all():
        bad = sorted(set(status[~status.isin(["open", "closed"])].astype(str)))
        raise DataFileError(
            src.path,
            f"column 'status' has values other than 'open'/'closed': {bad[:5]}",
            "status says whether the trust was open or closed in 2022.",
        )
    df = pd.DataFrame(
        {
            "trust_code": checked_codes(
                raw["nhs_trust22_code"],
                src,
                "nhs_trust22_code",
                TRUST_CODE,
                "ODS codes of NHS trusts (R or T and two letters/digits, e.g. RA2)",
                first_row=1,
            ),
            "trust_name": published_names(raw["nhs_trust22_name"]),
            "status": status,
        }
    )
    df["lon"] = xy[:, 0]
    df["lat"] = xy[:, 1]
    return finish(df, TRUST_POINTS, src)
