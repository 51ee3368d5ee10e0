"""Reference geography: ICSs (ICBs) in the 2022 and 2026 footprints, NHS trusts, mergers, and the
three documented ways of assigning a trust to ICSs.

Keys are ODS codes (ICB Q-codes such as ``QYG``; trust codes such as ``RA2``); ONS E54 codes are
attributes. Two footprints:

``2022``
    The 42 ICBs established on 1 July 2022, built from the ONS LSOA (2011) -> sub-ICB -> ICB
    lookup. Two ONS codes were recoded in 2023 (E54000052 Surrey Heartlands -> E54000063,
    E54000053 Sussex -> E54000064); :func:`normalise_icb_ons_code` maps either to the 2022 code.
``2026``
    The 36 ICBs after the 1 April 2026 mergers, from the project table
    ``tables/icb_2026_changes.csv``: whole 2022 ICBs map to one 2026 board; the three that were split
    (QM7, QJG, QNQ) are divided by 2022 local authority.

Trust-to-ICS methods (:func:`trust_ics_weights`):

``headquarters``
    One ICS per trust: the ICB of the trust's registered headquarters (ODS, December 2021 extract;
    project table ``trust_hq_icb.csv`` for trusts the extracts cannot place). Weight 1.
``catchment``
    OHID 2022 acute trust catchments: the share of the trust's patients living in each ICB.
``ae_activity``
    Nuffield Trust weights from type-1 A&E attendances by patients' ICB (winter 2022-23).

For the 2026 footprint, a catchment or A&E share held by a split 2022 ICB is divided among its 2026
successors in proportion to the mid-2019 population of each part (the data give no finer split).
Trusts without catchment or A&E weights (non-acute, or no type-1 department) fall back to
headquarters, and ``method_used`` says so. Codes of trusts that later merged are given their
successor's weights (``via_successor``).

The tables read from published files are kept in memory with
:func:`icsresearch.data.store.memoised`: each call notes the files behind the table as read (so a
panel's provenance lists the lookups, ODS extracts and population files it depends on), and a
table is made again when one of those files changes (a source folder switched on, say).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from .data.store import memoised
from .errors import InvalidParameterError, UnknownCodeError
from .options import Footprint, HarmoniseTo, Source, TrustIcsMethod, allowed, check

#: The footprints and trust-to-ICS methods, read from their option types.
FOOTPRINTS: tuple[int, ...] = allowed(Footprint)
METHODS: tuple[str, ...] = allowed(TrustIcsMethod)

#: 2023 ONS recodes of two ICBs (boundary change in Surrey/Sussex); keys are the newer codes.
ONS_RECODES_2023 = {"E54000063": "E54000052", "E54000064": "E54000053"}

TRUST_TYPES = (
    "acute non-specialist",
    "acute specialist",
    "mental health",
    "community",
    "ambulance",
)


def _table(name: str) -> pd.DataFrame:
    with resources.files("icsresearch.tables").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def check_footprint(footprint: Footprint | str) -> int:
    """Return the footprint as an int, or raise a clear error.

    Parameters
    ----------
    footprint
        2022 or 2026, as an int or a string.

    Raises
    ------
    InvalidParameterError
        Any other value (a bool included).
    """
    return check("footprint", footprint, Footprint)


def check_method(method: TrustIcsMethod) -> str:
    """Return ``method`` if it is a trust-to-ICS method, or raise a clear error.

    Parameters
    ----------
    method
        ``"headquarters"``, ``"catchment"`` or ``"ae_activity"`` (see the module docstring).

    Raises
    ------
    InvalidParameterError
        Any other value.
    """
    return check("method", method, TrustIcsMethod)


def normalise_icb_ons_code(codes: pd.Series) -> pd.Series:
    """Map the 2023 ONS recodes (E54000063/64) back to the 2022 codes (E54000052/53).

    Parameters
    ----------
    codes
        ONS E54 codes; other values pass through unchanged.
    """
    return codes.replace(ONS_RECODES_2023)


def regions() -> pd.DataFrame:
    """The seven NHS England regions: region_code (ODS Y-code), region_name."""
    return _table("nhs_regions.csv")


def icb_changes_2026() -> pd.DataFrame:
    """The April 2026 mergers: one row per (2022 ICB, local authority or whole) -> 2026 ICB."""
    return _table("icb_2026_changes.csv")


@memoised
def _lsoa_lookup() -> pd.DataFrame:
    from .sources.lsoa import read_lsoa_icb_lookup

    return read_lsoa_icb_lookup()


@memoised
def _icb_regions() -> pd.Series:
    """ICB Q-code -> NHS region Y-code, from the NHS England CCG/STP reference (April 2020)."""
    from .sources.ods import read_ccg_stp_reference

    ref = read_ccg_stp_reference()
    return ref.drop_duplicates("stp_code").set_index("stp_code")["region_code"]


def _short_name(name: str) -> str:
    short = name.removeprefix("NHS ").removesuffix(" Integrated Care Board").removesuffix(" ICB")
    return short.replace(" and ", " & ")


@memoised
def _icbs_2022() -> pd.DataFrame:
    lk = _lsoa_lookup()
    icb = (
        lk[["icb_code", "icb_ons_code", "icb_name"]]
        .drop_duplicates()
        .sort_values("icb_code")
        .reset_index(drop=True)
    )
    region = icb["icb_code"].map(_icb_regions())
    if region.isna().any():
        missing = icb.loc[region.isna(), "icb_code"].tolist()
        raise InvalidParameterError(
            f"No NHS region found for ICB(s) {missing} in the CCG/STP reference."
        )
    icb["region_code"] = region
    icb = icb.merge(regions(), on="region_code", how="left")
    icb["short_name"] = icb["icb_name"].map(_short_name)
    icb["predecessors"] = icb["icb_code"]
    return icb[
        [
            "icb_code",
            "icb_ons_code",
            "icb_name",
            "short_name",
            "region_code",
            "region_name",
            "predecessors",
        ]
    ]


@memoised
def _icbs_2026() -> pd.DataFrame:
    old = _icbs_2022().set_index("icb_code")
    ch = icb_changes_2026()
    rows = []
    for code, grp in ch.groupby("icb2026_code", sort=True):
        preds = sorted(grp["icb2022_code"].unique())
        regions_of = old.loc[preds, "region_code"].unique()
        if len(regions_of) != 1:  # a merger across regions would need a decision
            raise AssertionError(f"2026 ICB {code} spans regions {regions_of}")
        kept = code in old.index
        rows.append(
            {
                "icb_code": code,
                # Unchanged and enlarged-but-kept boards keep their ONS code; new boards' codes
                # (E54000065-71) are unverified, so they are left missing rather than guessed.
                "icb_ons_code": old.loc[code, "icb_ons_code"] if kept else pd.NA,
                "icb_name": grp["icb2026_name"].iloc[0],
                "short_name": _short_name(grp["icb2026_name"].iloc[0]),
                "region_code": regions_of[0],
                "predecessors": ";".join(preds),
            }
        )
    changed = set(ch["icb2022_code"])
    new = pd.DataFrame(rows)
    same = old.reset_index()
    same = same[~same["icb_code"].isin(changed)]
    out = pd.concat([same.drop(columns=["region_name"]), new], ignore_index=True)
    out = out.merge(regions(), on="region_code", how="left")
    out = out.sort_values("icb_code").reset_index(drop=True)
    return out[
        [
            "icb_code",
            "icb_ons_code",
            "icb_name",
            "short_name",
            "region_code",
            "region_name",
            "predecessors",
        ]
    ]


def icbs(footprint: Footprint | str = 2022, source: Source = "real") -> pd.DataFrame:
    """The ICBs (ICSs) of a footprint.

    Parameters
    ----------
    footprint
        2022 (42 ICBs, July 2022) or 2026 (36 ICBs, April 2026).
    source
        ``"real"``, or ``"demo"`` for the fictional systems of the synthetic demo data.

    Returns
    -------
    pandas.DataFrame
        icb_code (ODS, the key), icb_ons_code (E54; missing for the boards created in 2026),
        icb_name, short_name, region_code (ODS Y-code), region_name, predecessors (the 2022 ICB
        codes it covers, ``;``-separated).

    Examples
    --------
    >>> from icsresearch import geography
    >>> len(geography.icbs(2022)), len(geography.icbs(2026))  # doctest: +SKIP
    (42, 36)
    """
    fp = check_footprint(footprint)
    if check("source", source, Source) == "demo":
        from .demo import demo_icbs

        return demo_icbs(fp)
    return (_icbs_2022() if fp == 2022 else _icbs_2026()).copy()


def validate_ics_code(code: str, footprint: Footprint | str = 2022, source: Source = "real") -> str:
    """Return ``code`` if it is an ICB of the footprint, else raise listing the valid codes.

    Parameters
    ----------
    code
        ICB ODS code; case and surrounding spaces are ignored.
    footprint
        2022 or 2026.
    source
        ``"real"`` or ``"demo"`` (the demo's fictional codes ZQ01-ZQ42, ZN01-ZN06).

    Returns
    -------
    str
        The code, upper case.

    Raises
    ------
    UnknownCodeError
        An unknown code (an :class:`~icsresearch.errors.InvalidParameterError`); the message
        lists every valid code with its name.

    Examples
    --------
    >>> from icsresearch.geography import validate_ics_code
    >>> validate_ics_code(" qyg ")  # doctest: +SKIP
    'QYG'
    """
    table = icbs(footprint, source)
    clean = str(code).strip().upper()
    if clean not in set(table["icb_code"]):
        valid = ", ".join(
            f"{c} ({n})" for c, n in zip(table["icb_code"], table["short_name"], strict=True)
        )
        fp = check_footprint(footprint)
        raise UnknownCodeError(
            (str(code),),
            fp,
            source,
            f"{code!r} is not an ICS (ICB) code in the {fp} footprint ({source} data). "
            f"Valid codes: {valid}",
        )
    return clean


def _to_2026(icb2022: pd.Series, ltla: pd.Series) -> pd.Series:
    """The 2026 ICB of areas given their 2022 ICB and local authority (the project table's rules)."""
    ch = icb_changes_2026()
    whole = ch[ch["ltla22_code"] == ""].set_index("icb2022_code")["icb2026_code"]
    part = ch[ch["ltla22_code"] != ""].set_index(["icb2022_code", "ltla22_code"])["icb2026_code"]
    new = icb2022.map(whole)
    keyed = pd.MultiIndex.from_arrays([icb2022, ltla])
    by_part = pd.Series(part.reindex(keyed).to_numpy(), index=icb2022.index)
    new = new.fillna(by_part)
    split = icb2022.isin(part.index.get_level_values(0))
    unassigned = split & new.isna()
    if unassigned.any():  # the project table must cover every local authority of a split ICB
        raise AssertionError(
            f"areas of split ICBs without a 2026 rule: {ltla[unassigned].unique()[:5]}"
        )
    return new.fillna(icb2022)


@memoised
def _lsoa_2026() -> pd.DataFrame:
    lk = _lsoa_lookup()[["lsoa11_code", "icb_code", "ltla_code"]]
    return pd.DataFrame(
        {
            "lsoa11_code": lk["lsoa11_code"],
            "icb_code": _to_2026(lk["icb_code"], lk["ltla_code"]),
            "icb2022_code": lk["icb_code"],
            "ltla_code": lk["ltla_code"],
        }
    )


@memoised
def _lsoa21() -> pd.DataFrame:
    from .sources.lsoa import read_lsoa21_icb24_lookup, read_lsoa21_ward_ltla24_lookup

    icb = read_lsoa21_icb24_lookup()[["lsoa21_code", "icb_code"]]
    ltla = read_lsoa21_ward_ltla24_lookup()[["lsoa21_code", "ltla_code"]]
    out = icb.merge(ltla, on="lsoa21_code", how="left", validate="one_to_one")
    if out["ltla_code"].isna().any():  # the two ONS lookups cover the same 2021 LSOAs
        raise AssertionError("2021 LSOAs without a local authority in the ward lookup")
    return out


def lsoa21_to_icb(footprint: Footprint | str = 2022) -> pd.DataFrame:
    """LSOA (2021) -> ICB of the footprint: lsoa21_code, icb_code, icb2022_code, ltla_code.

    Built on ONS's April 2024 LSOA (2021) -> ICB lookup (the 42 ICBs keep their 2022 ODS codes;
    two ONS codes changed in 2023) and the 2024 local authorities, which in the areas of the
    three ICBs split in April 2026 are those of 2022.

    Parameters
    ----------
    footprint
        2022 (42 ICBs, as at April 2024) or 2026 (36 ICBs; the LSOAs of split ICBs follow their
        local authority).

    Returns
    -------
    pandas.DataFrame
        One row per 2021 LSOA in England (33,755).
    """
    fp = check_footprint(footprint)
    lk = _lsoa21()
    icb = lk["icb_code"] if fp == 2022 else _to_2026(lk["icb_code"], lk["ltla_code"])
    return pd.DataFrame(
        {
            "lsoa21_code": lk["lsoa21_code"],
            "icb_code": icb,
            "icb2022_code": lk["icb_code"],
            "ltla_code": lk["ltla_code"],
        }
    )


def lsoa_to_icb(footprint: Footprint | str = 2022) -> pd.DataFrame:
    """LSOA (2011) -> ICB of the footprint: lsoa11_code, icb_code, icb2022_code, ltla_code.

    Parameters
    ----------
    footprint
        2022 (42 ICBs) or 2026 (36 ICBs; the LSOAs of split ICBs follow their local authority).
    """
    fp = check_footprint(footprint)
    if fp == 2022:
        lk = _lsoa_lookup()
        return pd.DataFrame(
            {
                "lsoa11_code": lk["lsoa11_code"],
                "icb_code": lk["icb_code"],
                "icb2022_code": lk["icb_code"],
                "ltla_code": lk["ltla_code"],
            }
        )
    return _lsoa_2026().copy()


# --- trusts ----------------------------------------------------------------------------------


@memoised
def _successors() -> pd.DataFrame:
    from .sources.ods import successor_map

    return successor_map(trusts_only=True)


def latest_codes() -> dict[str, str]:
    """Old trust code -> latest code, walking the ODS succession chain (trust codes only)."""
    s = _successors()
    return dict(zip(s["old_code"], s["latest_code"], strict=True))


@memoised
def _trusts() -> pd.DataFrame:
    from .sources.ods import read_ods_trusts, read_ods_trusts_tidy, read_providers

    prov = read_providers()
    prov = prov[prov["trust_type"] != "ccg"]
    tidy = read_ods_trusts_tidy()
    etr = read_ods_trusts()
    ods = pd.concat([tidy, etr[~etr["trust_code"].isin(tidy["trust_code"])]], ignore_index=True)
    hq = _table("trust_hq_icb.csv").set_index("trust_code")

    # Universe: every trust in the ODS extracts or in the providers list used by the panels.
    codes = sorted(set(ods["trust_code"]) | set(prov["trust_code"]))
    out = pd.DataFrame({"trust_code": codes})
    odsi = ods.set_index("trust_code")
    provi = prov.set_index("trust_code")
    out["trust_name"] = (
        out["trust_code"].map(provi["trust_name"]).fillna(out["trust_code"].map(odsi["trust_name"]))
    )
    out["trust_type"] = out["trust_code"].map(provi["trust_type"])
    out["region_code"] = out["trust_code"].map(odsi["region_code"])
    out["open_date"] = out["trust_code"].map(odsi["open_date"])
    out["close_date"] = out["trust_code"].map(odsi["close_date"])
    out["in_ods_extract"] = out["trust_code"].isin(odsi.index)

    valid = set(_icbs_2022()["icb_code"])
    ods_icb = out["trust_code"].map(odsi["icb_code"]).where(lambda s: s.isin(valid))
    out["hq_icb_code"] = out["trust_code"].map(hq["icb2022_code"]).fillna(ods_icb)
    out["hq_source"] = "ods"
    out.loc[out["trust_code"].isin(hq.index), "hq_source"] = "project table"
    # Still unplaced: merged trusts take their successor's headquarters ICB.
    latest = latest_codes()
    by_code = out.set_index("trust_code")["hq_icb_code"]
    missing = out["hq_icb_code"].isna()
    succ_icb = out.loc[missing, "trust_code"].map(latest).map(by_code)
    out.loc[missing, "hq_icb_code"] = succ_icb
    out.loc[missing & succ_icb.notna(), "hq_source"] = "successor"
    out.loc[out["hq_icb_code"].isna(), "hq_source"] = pd.NA
    # Welsh trusts in the ODS extract and the 26-day Project Nightingale trust have no English ICB.
    out = out[out["hq_icb_code"].notna()].reset_index(drop=True)
    out["trust_type"] = out["trust_type"].fillna(out["trust_code"].map(_eric_trust_types()))
    # Trusts formed after both sources (e.g. R0D, 2020) take the type their predecessors share.
    types = out.set_index("trust_code")["trust_type"]
    pred = pd.DataFrame({"old": list(latest), "new": list(latest.values())})
    pred["type"] = pred["old"].map(types)
    shared = (
        pred.dropna().groupby("new")["type"].agg(lambda t: t.iloc[0] if t.nunique() == 1 else pd.NA)
    )
    out["trust_type"] = out["trust_type"].fillna(out["trust_code"].map(shared))
    region_of = _icbs_2022().set_index("icb_code")["region_code"]
    out["region_code"] = (
        out["region_code"]
        .where(out["region_code"].isin(set(regions()["region_code"])))
        .fillna(out["hq_icb_code"].map(region_of))
    )
    return out


_ERIC_TYPES = {
    "ACUTE - SPECIALIST": "acute specialist",
    "ACUTE - TEACHING": "acute non-specialist",
    "ACUTE - LARGE": "acute non-specialist",
    "ACUTE - MEDIUM": "acute non-specialist",
    "ACUTE - SMALL": "acute non-specialist",
    "ACUTE - MULTI-SERVICE": "acute non-specialist",
    "MENTAL HEALTH AND LEARNING DISABILITY": "mental health",
    "CARE TRUST": "mental health",
    "COMMUNITY": "community",
    "AMBULANCE": "ambulance",
}


def _eric_trust_types() -> pd.Series:
    """trust_code -> trust type from ERIC 2019/20 (for trusts formed after the 2018 providers list)."""
    from .sources.eric import read_eric_sites

    eric = read_eric_sites()[["trust_code", "trust_type"]].drop_duplicates("trust_code")
    return eric.set_index("trust_code")["trust_type"].str.upper().map(_ERIC_TYPES)


def trusts(source: Source = "real") -> pd.DataFrame:
    """NHS trusts known to the ODS extracts or the 2012-2019 panel sources (or the demo's trusts).

    Parameters
    ----------
    source
        ``"real"``, or ``"demo"`` for the fictional trusts of the synthetic demo data.

    Returns
    -------
    pandas.DataFrame
        trust_code, trust_name, trust_type (acute non-specialist / acute specialist / mental health
        / community / ambulance; missing where no source gives it), region_code, open_date,
        close_date, in_ods_extract, hq_icb_code (2022 ICB of the headquarters), hq_source (ods /
        project table / successor).
    """
    if check("source", source, Source) == "demo":
        from .demo import demo_trusts

        return demo_trusts()
    return _trusts().copy()


def harmonise_trust_codes(
    df: pd.DataFrame, harmonise_to: HarmoniseTo = "as_reported", code_col: str = "trust_code"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recode trusts to their latest code (``"latest"``) or leave them as reported.

    Aggregating rows that now share a code and year is the caller's job (the panel module does it
    with sums for counts and weighted means for rates).

    Parameters
    ----------
    df
        Any table with a trust-code column.
    harmonise_to
        ``"latest"`` follows the ODS succession chain to each code's latest successor;
        ``"as_reported"`` leaves the codes alone.
    code_col
        The trust-code column.

    Returns
    -------
    tuple of pandas.DataFrame
        The recoded frame (the original code kept in ``<code_col>_reported``) and the mapping
        that was applied (old_code, latest_code, steps, last_date), restricted to codes present.
    """
    harmonise_to = check("harmonise_to", harmonise_to, HarmoniseTo)
    out = df.copy()
    out[f"{code_col}_reported"] = out[code_col]
    empty = pd.DataFrame(columns=["old_code", "latest_code", "steps", "last_date"])
    if harmonise_to == "as_reported":
        return out, empty
    succ = _successors()
    applied = succ[succ["old_code"].isin(set(out[code_col]))][
        ["old_code", "latest_code", "steps", "last_date"]
    ]
    # replace() keeps the column's dtype; map().fillna() gave float64 (and a pandas warning)
    # when no code of the frame has a successor
    latest = dict(zip(applied["old_code"], applied["latest_code"], strict=True))
    out[code_col] = out[code_col].replace(latest) if latest else out[code_col]
    return out, applied.reset_index(drop=True)


# --- trust -> ICS weights --------------------------------------------------------------------


@memoised
def _split_shares_2026() -> pd.DataFrame:
    """For each 2022 ICB: the population share of each 2026 ICB it feeds (1.0 when whole)."""
    from .sources.population import read_population_lsoa

    pop = read_population_lsoa()[["lsoa11_code", "total_population"]]
    lk = _lsoa_2026().merge(pop, on="lsoa11_code", how="left")
    agg = lk.groupby(["icb2022_code", "icb_code"], as_index=False)["total_population"].sum()
    agg["share"] = agg["total_population"] / agg.groupby("icb2022_code")[
        "total_population"
    ].transform("sum")
    return agg.rename(columns={"icb_code": "icb2026_code"})[
        ["icb2022_code", "icb2026_code", "share"]
    ]


def _hq_weights(footprint: int) -> pd.DataFrame:
    t = _trusts()[["trust_code", "hq_icb_code"]].dropna()
    w = pd.DataFrame({"trust_code": t["trust_code"], "icb_code": t["hq_icb_code"], "weight": 1.0})
    if footprint == 2026:
        hq = _table("trust_hq_icb.csv")
        explicit = dict(zip(hq["trust_code"], hq["icb2026_code"], strict=True))
        explicit = {k: v for k, v in explicit.items() if v}
        whole = icb_changes_2026()
        whole = dict(
            zip(
                whole.loc[whole["ltla22_code"] == "", "icb2022_code"],
                whole.loc[whole["ltla22_code"] == "", "icb2026_code"],
                strict=True,
            )
        )
        split = set(icb_changes_2026().query("ltla22_code != ''")["icb2022_code"])
        new = w["trust_code"].map(explicit)
        new = new.fillna(w["icb_code"].map(whole))
        unplaced = new.isna() & w["icb_code"].isin(split)
        if unplaced.any():  # every trust headquartered in a split ICB needs a row in the table
            raise AssertionError(
                f"trusts in split ICBs without a 2026 HQ: {w.loc[unplaced, 'trust_code'].tolist()}"
            )
        w["icb_code"] = new.fillna(w["icb_code"])
    w["method_used"] = "headquarters"
    return w


def _shares_to_footprint(shares: pd.DataFrame, footprint: int) -> pd.DataFrame:
    """shares: trust_code, icb_code (2022 Q-code), weight -> the footprint's ICBs."""
    if footprint == 2022:
        return shares
    split = _split_shares_2026()
    out = shares.merge(split, left_on="icb_code", right_on="icb2022_code", how="left")
    out["weight"] = out["weight"] * out["share"]
    out = out.groupby(["trust_code", "icb2026_code"], as_index=False)["weight"].sum()
    return out.rename(columns={"icb2026_code": "icb_code"})


@memoised
def _weights(method: str, footprint: int) -> pd.DataFrame:
    hq = _hq_weights(footprint)
    if method == "headquarters":
        w = hq
    else:
        if method == "catchment":
            from .sources.trust_ics import read_catchment_shares

            raw = read_catchment_shares()
            q_of = _icbs_2022().set_index("icb_ons_code")["icb_code"]
            shares = pd.DataFrame(
                {
                    "trust_code": raw["trust_code"],
                    "icb_code": normalise_icb_ons_code(raw["icb_ons_code"]).map(q_of),
                    "weight": raw["catchment_share"],
                }
            )
        else:
            from .sources.trust_ics import read_ae_activity_weights

            raw = read_ae_activity_weights()
            shares = pd.DataFrame(
                {
                    "trust_code": raw["trust_code"],
                    "icb_code": raw["icb_code"],
                    "weight": raw["ae_weight"],
                }
            )
        shares = shares.dropna(subset=["icb_code"])
        shares = shares.groupby(["trust_code", "icb_code"], as_index=False)["weight"].sum()
        shares["weight"] = shares["weight"] / shares.groupby("trust_code")["weight"].transform(
            "sum"
        )
        shares = _shares_to_footprint(shares, footprint)
        shares["method_used"] = method
        # Old codes take their successor's shares; trusts with none fall back to headquarters.
        have = set(shares["trust_code"])
        latest = latest_codes()
        extra = []
        for code in set(hq["trust_code"]) - have:
            succ = latest.get(code)
            if succ in have:
                s = shares[shares["trust_code"] == succ].assign(
                    trust_code=code, method_used=f"{method} via_successor"
                )
                extra.append(s)
        fallback = hq[
            ~hq["trust_code"].isin(have | {c for e in extra for c in e["trust_code"]})
        ].assign(method_used="headquarters (fallback)")
        w = pd.concat([shares, *extra, fallback], ignore_index=True)
    return w.sort_values(["trust_code", "weight"], ascending=[True, False]).reset_index(drop=True)


def trust_ics_weights(
    method: TrustIcsMethod = "headquarters",
    footprint: Footprint | str = 2022,
    source: Source = "real",
) -> pd.DataFrame:
    """How each trust is shared among ICSs under a method (weights sum to 1 per trust).

    Parameters
    ----------
    method
        ``"headquarters"`` (weight 1 to the headquarters ICB), ``"catchment"`` (OHID 2022
        patient catchment shares) or ``"ae_activity"`` (type-1 A&E attendances by patients' ICB,
        winter 2022-23); see the module docstring.
    footprint
        2022 (42 ICBs) or 2026 (36 ICBs).
    source
        ``"real"``, or ``"demo"`` for the synthetic demo world.

    Returns
    -------
    pandas.DataFrame
        trust_code, icb_code, weight, method_used (the method, ``"<method> via_successor"`` or
        ``"headquarters (fallback)"``).

    Examples
    --------
    >>> from icsresearch.geography import trust_ics_weights
    >>> w = trust_ics_weights("catchment", 2022)  # doctest: +SKIP
    >>> w.groupby("trust_code")["weight"].sum().round(9).eq(1).all()  # doctest: +SKIP
    True
    """
    method, fp = check_method(method), check_footprint(footprint)
    if check("source", source, Source) == "demo":
        from .demo import demo_weights

        return demo_weights(fp, method)
    return _weights(method, fp).copy()


def main_ics(
    method: TrustIcsMethod = "headquarters",
    footprint: Footprint | str = 2022,
    source: Source = "real",
) -> pd.Series:
    """trust_code -> the ICS with the largest weight (the headquarters ICS for that method).

    Parameters
    ----------
    method, footprint, source
        As :func:`trust_ics_weights`.

    Returns
    -------
    pandas.Series
        ICB code indexed by trust code.
    """
    w = trust_ics_weights(method, footprint, source)
    return w.drop_duplicates("trust_code").set_index("trust_code")["icb_code"]
