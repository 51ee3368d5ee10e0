"""Griffiths et al. (2016): nurse, support-worker and medical staffing and mortality in English
trusts - the cross-section redone on public data for 2017/18, and a two-period panel version in
the spirit of Rubbo et al. (2023).

Cross-section. Non-specialist acute trusts (provider list), staff FTE by staff group from the
NHS Digital HCHS workbook (30 September 2017 census), KH03 beds and occupancy and SHMI for
2017/18. Staffing is *occupied beds per staff member* (beds x occupancy / FTE) for registered
nurses (staff group "Nurses & health visitors"), doctors ("HCHS doctors") and support workers
("Support to doctors, nurses & midwives"). Models of log SHMI by OLS: each ratio alone
(univariate), the three together (multivariable), and the multivariable model with trust-type
controls (robustness). ``exp(coef)`` is the ratio of SHMI per extra occupied bed per staff
member, comparable to the published rate ratios.

Panel. The same ratios in 2017/18 (September 2017 census) and 2018/19 (June 2018 census, the
only other census in the workbook) for trusts with both years, in a random-effects model of
log SHMI with each ratio split into its trust mean (between) and the deviation from it (within),
plus a year effect; standard errors clustered by trust.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .comparison import Claim, verdict_from

ID = "griffiths2016"
TITLE = "Nurse staffing and mortality in English trusts (Griffiths et al. 2016)"
CITATION = (
    "Griffiths P, Ball J, Murrells T, Jones S, Rafferty AM. Registered nurse, healthcare support "
    "worker, medical staffing levels and mortality in English hospital trusts: a cross-sectional "
    "study. BMJ Open 2016;6:e008751. Panel extension: Rubbo I "
    "et al. BMJ Open 2023;13:e066702."
)

#: Staffing ratios: column -> (label, staff FTE column).
RATIOS: dict[str, tuple[str, str]] = {
    "beds_per_rn": ("Occupied beds per registered nurse", "nurses_fte"),
    "beds_per_doctor": ("Occupied beds per doctor", "doctors_fte"),
    "beds_per_support": ("Occupied beds per support worker", "support_fte"),
}

#: Census of the HCHS workbook -> financial year (start) of beds and SHMI it is matched with.
CENSUSES = {"2017-09": 2017, "2018-06": 2018}

#: Published rate ratios per extra occupied bed per staff member, medical admissions.
PUBLISHED: dict[tuple[str, str], tuple[float, float, float]] = {
    ("univariate", "beds_per_rn"): (1.22, 1.04, 1.43),
    ("multivariable", "beds_per_rn"): (1.14, 0.95, 1.38),
    ("univariate", "beds_per_doctor"): (1.10, 1.05, 1.15),
    ("multivariable", "beds_per_doctor"): (1.08, 1.02, 1.15),
    ("univariate", "beds_per_support"): (0.95, 0.91, 1.00),
    ("multivariable", "beds_per_support"): (0.93, 0.89, 0.98),
}

#: Columns of ``estimates.csv``.
ESTIMATE_COLUMNS = [
    "analysis",
    "model",
    "term",
    "coef",
    "se",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "p_value",
    "nobs",
    "ngroups",
]

TRUST_TYPE_NOTE = (
    "Trust type is the NHS Digital ERIC 2019/20 classification (ACUTE - SMALL / MEDIUM / LARGE / "
    "TEACHING / MULTI-SERVICE), the nearest published classification; a 2017 code absent from "
    "ERIC 2019/20 takes the type of the trust it merged into (ODS succession chain)."
)


def _providers_acute():
    from ..sources import ods

    providers = ods.read_providers()
    acute = providers[providers["trust_type"] == "acute non-specialist"]
    return providers, acute[["trust_code", "trust_name"]]


def trust_types(codes: pd.Series) -> tuple[pd.Series, list[dict[str, Any]]]:
    """ERIC 2019/20 trust type for each code, via the succession chain for merged trusts.

    Returns the types (missing where none is found) and the provenance records of the files read.
    """
    from ..provenance import input_record
    from ..sources import eric, ods

    sites = eric.read_eric_sites()
    by_code = sites.groupby("trust_code")["trust_type"].first()
    succ = ods.read_trust_successions()
    chain = ods.successor_map(succ, as_of="2020-03-31", trusts_only=True)
    latest = dict(zip(chain["old_code"], chain["latest_code"], strict=True))
    direct = codes.map(by_code)
    via = codes.map(lambda c: latest.get(c)).map(by_code)
    types = direct.fillna(via)
    return types, [input_record(sites), input_record(succ)]


def build_cross_section(
    census: str = "2017-09", *, with_trust_type: bool = True, staff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per non-specialist acute trust with staffing ratios and SHMI for one census.

    Parameters
    ----------
    census
        ``"2017-09"`` (matched with 2017/18 beds and SHMI) or ``"2018-06"`` (2018/19).
    with_trust_type
        Add ``trust_type`` (ERIC 2019/20; see :data:`TRUST_TYPE_NOTE`).
    staff
        The table of :func:`icsresearch.sources.workforce.read_hchs_staff_groups`, if already
        read (the workbook takes a few seconds).

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``trust_name``, ``year``, staff FTE (``nurses_fte``, ``doctors_fte``,
        ``support_fte``), ``beds``, ``occupancy_pct``, ``occupied_beds``, the ratios
        (:data:`RATIOS`), ``shmi``, ``log_shmi`` [, ``trust_type``]. Trusts missing any of them
        are dropped (``attrs["dropped"]`` names them and why). ``attrs["inputs"]`` lists files.
    """
    from ..provenance import input_record
    from ..sources import beds, shmi, workforce

    if census not in CENSUSES:
        raise InvalidParameterError(
            f"census={census!r} is not one of {list(CENSUSES)}\n  Fix: use '2017-09' (2017/18) "
            "or '2018-06' (2018/19), the two censuses of the NHS Digital workbook"
        )
    year = CENSUSES[census]
    providers, acute = _providers_acute()
    if staff is None:
        staff = workforce.read_hchs_staff_groups()
    groups = workforce.staff_by_group("hchs", census, staff=staff)
    bed = beds.read_beds()
    mortality = shmi.read_shmi()
    cs = acute.merge(
        groups[["trust_code", "nurses_fte", "doctors_fte", "support_fte"]],
        on="trust_code",
        how="left",
    )
    cs = cs.merge(
        bed.loc[
            bed["year"] == year, ["trust_code", "beds_available", "occupancy_pct", "occupied_beds"]
        ],
        on="trust_code",
        how="left",
    ).rename(columns={"beds_available": "beds"})
    cs = cs.merge(
        mortality.loc[mortality["year"] == year, ["trust_code", "shmi"]],
        on="trust_code",
        how="left",
    )
    cs.insert(2, "year", year)
    for ratio, (_, fte) in RATIOS.items():
        cs[ratio] = cs["occupied_beds"] / cs[fte].where(cs[fte] > 0)
    cs["log_shmi"] = np.log(cs["shmi"])
    inputs = [input_record(t) for t in (providers, staff, bed, mortality)]
    if with_trust_type:
        cs["trust_type"], more = trust_types(cs["trust_code"])
        inputs += more
    needed = [*RATIOS, "shmi"]
    missing = cs[needed].isna()
    dropped = [
        {"trust_code": r.trust_code, "trust_name": r.trust_name, "missing": ", ".join(m)}
        for r, m in zip(
            cs.itertuples(),
            missing.apply(lambda row: [c for c in needed if row[c]], axis=1),
            strict=True,
        )
        if m
    ]
    cs = cs[~missing.any(axis=1)].reset_index(drop=True)
    cs.attrs = {"inputs": inputs, "dropped": dropped, "census": census, "year": year}
    return cs


def _fit(data: pd.DataFrame, formula: str, **kwargs):
    import warnings

    from ..models import fit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit(data, formula, entity="trust_code", time="year", **kwargs)


def _rows(res, analysis: str, model: str, terms: list[str]) -> list[dict[str, Any]]:
    tidy = res.tidy().set_index("term")
    ngroups = res.n_groups.get("trust_code", res.nobs)
    out = []
    for term in terms:
        t = tidy.loc[term]
        out.append(
            {
                "analysis": analysis,
                "model": model,
                "term": term,
                "coef": float(t["estimate"]),
                "se": float(t["se"]),
                "ratio": float(np.exp(t["estimate"])),
                "ratio_ci_low": float(np.exp(t["ci_low"])),
                "ratio_ci_high": float(np.exp(t["ci_high"])),
                "p_value": float(t["p_value"]),
                "nobs": int(res.nobs),
                "ngroups": int(ngroups),
            }
        )
    return out


def cross_section_models(cs: pd.DataFrame) -> list[tuple[str, list[str], Any]]:
    """The fitted cross-section models, for :func:`fit_cross_section` and the multiverse.

    Returns
    -------
    list of tuple
        ``(model, terms, result)``: each ratio ``univariate``, the three ``multivariable``, and
        ``multivariable_trust_type`` when ``cs`` has ``trust_type``; OLS, conventional standard
        errors (a result's ``with_cov`` gives others without re-fitting).
    """
    models: list[tuple[str, list[str], Any]] = []
    for ratio in RATIOS:
        models.append(("univariate", [ratio], _fit(cs, f"log_shmi ~ {ratio}", model="pooled")))
    all_ratios = " + ".join(RATIOS)
    res = _fit(cs, f"log_shmi ~ {all_ratios}", model="pooled")
    models.append(("multivariable", list(RATIOS), res))
    if "trust_type" in cs.columns:
        res = _fit(cs, f"log_shmi ~ {all_ratios} + C(trust_type)", model="pooled")
        models.append(("multivariable_trust_type", list(RATIOS), res))
    return models


def fit_cross_section(cs: pd.DataFrame) -> pd.DataFrame:
    """Univariate, multivariable and trust-type-adjusted models of log SHMI (OLS).

    Conventional (homoskedastic) standard errors and t-based 95% CIs, as R ``lm``'s.

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS` with ``analysis`` = ``"cross_section"`` and ``model`` one of
        ``univariate``, ``multivariable``, ``multivariable_trust_type``.
    """
    rows: list[dict[str, Any]] = []
    for model, terms, res in cross_section_models(cs):
        rows += _rows(res, "cross_section", model, terms)
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


def build_panel(staff: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cross-sections of both censuses stacked, keeping trusts present in both (balanced).

    Adds, for each ratio, its trust mean (``<ratio>_between``) and the deviation from that mean
    (``<ratio>_within``). ``staff`` as in :func:`build_cross_section`.
    """
    from ..sources import workforce

    if staff is None:
        staff = workforce.read_hchs_staff_groups()
    first = build_cross_section("2017-09", with_trust_type=False, staff=staff)
    second = build_cross_section("2018-06", with_trust_type=False, staff=staff)
    return panel_from_cross_sections(first, second)


def panel_from_cross_sections(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Stack two cross-sections, keep trusts in both, and split each ratio (see :func:`build_panel`).

    Parameters
    ----------
    first, second
        :func:`build_cross_section` outputs of the two censuses (possibly recoded or filtered,
        as the multiverse does).

    Returns
    -------
    pandas.DataFrame
        The balanced two-year panel with ``<ratio>_between`` and ``<ratio>_within``.
    """
    both = set(first["trust_code"]) & set(second["trust_code"])
    panel = pd.concat([first, second], ignore_index=True)
    panel = panel[panel["trust_code"].isin(both)].sort_values(["trust_code", "year"])
    for ratio in RATIOS:
        mean = panel.groupby("trust_code")[ratio].transform("mean")
        panel[f"{ratio}_between"] = mean
        panel[f"{ratio}_within"] = panel[ratio] - mean
    panel = panel.reset_index(drop=True)
    inputs = {(i["source"], i["sha256"]): i for i in first.attrs["inputs"] + second.attrs["inputs"]}
    panel.attrs = {"inputs": list(inputs.values())}
    return panel


def panel_models(panel: pd.DataFrame) -> list[tuple[str, list[str], Any]]:
    """The fitted panel models ``(model, terms, result)``, for :func:`fit_panel` and the multiverse."""
    between_within = " + ".join(f"{r}_between + {r}_within" for r in RATIOS)
    res = _fit(
        panel,
        f"log_shmi ~ {between_within} + C(year)",
        model="random",
        re_method="swamy-arora",
        vcov="CRV1",
        cluster="trust_code",
    )
    terms = [f"{r}_{part}" for r in RATIOS for part in ("between", "within")]
    fe = _fit(
        panel,
        "log_shmi ~ " + " + ".join(RATIOS),
        model="within",
        effects="twoways",
        vcov="CRV1",
        cluster="trust_code",
    )
    return [("within_between", terms, res), ("within", list(RATIOS), fe)]


def fit_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Within-between random-effects model (and plain fixed effects) of log SHMI, two years.

    ``within_between``: Swamy-Arora random effects of log SHMI on each ratio's trust mean and
    deviation plus a year effect, clustered by trust (plm "sss"). ``within``: trust and year
    fixed effects on the ratios, clustered by trust; in a balanced panel its coefficients equal
    the ``_within`` ones of the first model.
    """
    rows: list[dict[str, Any]] = []
    for model, terms, res in panel_models(panel):
        rows += _rows(res, "panel", model, terms)
    return pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)


# --- comparison ------------------------------------------------------------------------------

_RULE = (
    "reproduced if the reproduced ratio is on the same side of 1 as the published one and the "
    "two 95% CIs overlap; not reproduced otherwise"
)


def published_vs_reproduced(estimates: pd.DataFrame) -> pd.DataFrame:
    """Side by side: each published ratio with CI, and ours (2017/18, SHMI)."""
    rows = []
    cross = estimates[estimates["analysis"] == "cross_section"].set_index(["model", "term"])
    for (model, term), (ratio, lo, hi) in PUBLISHED.items():
        ours = cross.loc[(model, term)]
        rows.append(
            {
                "model": model,
                "term": term,
                "published_ratio": ratio,
                "published_ci_low": lo,
                "published_ci_high": hi,
                "ratio": ours["ratio"],
                "ratio_ci_low": ours["ratio_ci_low"],
                "ratio_ci_high": ours["ratio_ci_high"],
                "p_value": ours["p_value"],
            }
        )
    return pd.DataFrame(rows)


def published_claims() -> list[Claim]:
    """The published claims (see ``papers/griffiths2016.md``), not yet judged."""
    claims = []
    for (model, term), (ratio, lo, hi) in PUBLISHED.items():
        claims.append(
            Claim(
                f"{model}:{term}",
                f"{RATIOS[term][0]} and mortality, {model} model",
                f"RR {ratio:.2f} ({lo:.2f}-{hi:.2f}) per extra occupied bed per staff member",
                "verified",
                _RULE,
            )
        )
    claims += [
        Claim(
            "panel:between_vs_within",
            "Panel (Rubbo et al. 2023): between-trust staffing associations are larger than "
            "within-trust ones, and within-trust ones are not significant",
            "between > within; within not significant (138 trusts, 2015-2019)",
            "approximate",
            "registered nurses: reproduced if |between| > |within| (log scale) and the within "
            "95% CI includes 0; not reproduced otherwise",
        ),
        Claim(
            "design:medical_admissions_mortality",
            "Outcome: risk-adjusted mortality of medical admissions (the authors' measure)",
            "the published ratios are for medical admissions",
            "verified",
            "needs patient-level HES mortality by admission type; public SHMI covers all "
            "admissions",
        ),
    ]
    return claims


def evaluate_claims(estimates: pd.DataFrame) -> list[Claim]:
    """Judge every claim on the estimates of :func:`fit_cross_section` and :func:`fit_panel`."""
    side = published_vs_reproduced(estimates).set_index(["model", "term"])
    panel = estimates[estimates["analysis"] == "panel"].set_index(["model", "term"])
    out = []
    for c in published_claims():
        if c.id.startswith(("univariate:", "multivariable:")):
            model, term = c.id.split(":")
            r = side.loc[(model, term)]
            same_side = np.sign(np.log(r["ratio"])) == np.sign(np.log(r["published_ratio"]))
            overlap = (r["ratio_ci_low"] <= r["published_ci_high"]) and (
                r["published_ci_low"] <= r["ratio_ci_high"]
            )
            out.append(
                c.judged(
                    verdict_from(bool(same_side and overlap)),
                    f"RR {r['ratio']:.2f} ({r['ratio_ci_low']:.2f}-{r['ratio_ci_high']:.2f}), "
                    f"p = {r['p_value']:.3g}; {'same' if same_side else 'opposite'} side of 1, "
                    f"CIs {'overlap' if overlap else 'do not overlap'}",
                )
            )
        elif c.id == "panel:between_vs_within":
            if panel.empty:
                out.append(c.unreproducible("the panel was not estimated"))
                continue
            b = panel.loc[("within_between", "beds_per_rn_between")]
            w = panel.loc[("within_between", "beds_per_rn_within")]
            w_ci = (np.log(w["ratio_ci_low"]), np.log(w["ratio_ci_high"]))
            ok = abs(b["coef"]) > abs(w["coef"]) and w_ci[0] <= 0 <= w_ci[1]
            out.append(
                c.judged(
                    verdict_from(bool(ok)),
                    f"RN between RR {b['ratio']:.2f} ({b['ratio_ci_low']:.2f}-"
                    f"{b['ratio_ci_high']:.2f}), within RR {w['ratio']:.2f} "
                    f"({w['ratio_ci_low']:.2f}-{w['ratio_ci_high']:.2f}); "
                    f"{int(b['ngroups'])} trusts, 2017/18-2018/19",
                    "Two censuses nine months apart (September 2017, June 2018) are all the "
                    "public workbook holds, so within-trust variation is small; SHMI ratios, "
                    "not deaths with an expected-deaths offset, and a linear model of log SHMI "
                    "rather than the negative-binomial model of Rubbo et al.",
                )
            )
        else:
            out.append(
                c.unreproducible(
                    "Public data give SHMI (all non-elective and elective admissions, deaths "
                    "in hospital or within 30 days of discharge) for 2017/18, not the authors' "
                    "risk-adjusted mortality of medical admissions for their study year; the "
                    "comparison above is therefore of direction and rough size only."
                )
            )
    return out


_SHORT = {"beds_per_rn": "Nurses", "beds_per_doctor": "Doctors", "beds_per_support": "Support"}


def comparison_plot(estimates: pd.DataFrame, **kwargs):
    """Published and reproduced ratios with 95% CIs, side by side (log scale)."""
    from ..plots import coef_plot

    side = published_vs_reproduced(estimates)
    frames = []
    for who, cols in (
        ("Published (2016)", ("published_ratio", "published_ci_low", "published_ci_high")),
        ("Reproduced (2017/18)", ("ratio", "ratio_ci_low", "ratio_ci_high")),
    ):
        f = side[["model", "term", *cols]].copy()
        f.columns = ["spec", "term", "estimate", "ci_low", "ci_high"]
        f["term"] = f["term"].map(_SHORT) + ", " + f["spec"]
        f["model"] = who
        frames.append(f.drop(columns="spec"))
    data = pd.concat(frames, ignore_index=True)
    data.attrs["exponentiated"] = True
    kwargs.setdefault("title", "Staffing and mortality ratios")
    kwargs.setdefault("xlabel", "Ratio per extra occupied bed per staff member (95% CI)")
    kwargs.setdefault("source_note", "Griffiths et al. 2016; NHS Digital, KH03, SHMI; icsresearch")
    kwargs.setdefault("reference", 1.0)
    kwargs.setdefault("log_scale", True)
    return coef_plot(data, **kwargs)


#: What the replication covers, for the reviewer's README (``replications.reviewer``): each
#: display item of the paper (the paper's own tables are not available here, so
#: items are named by content), the code and notebook section that make it, the output files
#: that hold it, and the claims (``fnmatch`` patterns of claim ids) it bears on.
DISPLAY_ITEMS: tuple[dict[str, Any], ...] = (
    {
        "item": "Rate ratios of mortality per extra occupied bed per registered nurse, doctor "
        "and support worker, univariate and multivariable (the paper's main results)",
        "code": "griffiths2016.build_cross_section, griffiths2016.fit_cross_section, "
        "griffiths2016.published_vs_reproduced",
        "notebook": "2. Models of log SHMI",
        "outputs": (
            "estimates.csv (analysis=cross_section)",
            "comparison.md: Published and reproduced ratios",
        ),
        "claims": ("univariate:*", "multivariable:*"),
    },
    {
        "item": "Figure: published and reproduced ratios side by side",
        "code": "griffiths2016.comparison_plot",
        "notebook": "2. Models of log SHMI",
        "outputs": ("griffiths2016.html",),
        "claims": ("univariate:*", "multivariable:*"),
    },
    {
        "item": "Descriptive statistics: staff, occupied beds, ratios and SHMI of the sample "
        "trusts; trusts left out",
        "code": "griffiths2016.build_cross_section",
        "notebook": "1. The cross-section",
        "outputs": ("griffiths2016.html", "comparison.md: Trusts dropped from the cross-section"),
        "claims": (),
    },
    {
        "item": "Robustness: the multivariable model with trust-type dummies (ERIC 2019/20)",
        "code": "griffiths2016.trust_types, griffiths2016.fit_cross_section",
        "notebook": "2. Models of log SHMI",
        "outputs": ("estimates.csv", "comparison.md: All estimates", "comparison.md: Trust types"),
        "claims": (),
    },
    {
        "item": "Panel after Rubbo et al. (2023): between- and within-trust associations",
        "code": "griffiths2016.build_panel, griffiths2016.fit_panel",
        "notebook": "3. Panel: between and within trusts",
        "outputs": ("estimates.csv (analysis=panel)", "comparison.md: All estimates"),
        "claims": ("panel:*",),
    },
    {
        "item": "Outcome: risk-adjusted mortality of medical admissions",
        "code": "none (needs patient-level HES; public SHMI is used instead)",
        "notebook": "4. Verdicts",
        "outputs": ("comparison.md: Notes",),
        "claims": ("design:*",),
    },
    {
        "item": "Robustness multiverse (not in the paper): every claim re-judged over a grid of "
        "analytic choices (sample rule, trust codes as reported or harmonised, clustering by "
        "trust or system with each footprint and trust-to-ICS method, small-sample convention"
        "), with specification curves",
        "code": "multiverse.run_replication_multiverse, multiverse.replication_grid('griffiths2016'), "
        "multiverse.griffiths2016_analysis",
        "notebook": "5. Robustness multiverse",
        "outputs": (
            "multiverse.csv",
            "multiverse_summary.csv",
            "comparison.md: Robustness multiverse",
            "griffiths2016.html",
        ),
        "claims": ("univariate:*", "multivariable:*", "panel:*"),
    },
)
