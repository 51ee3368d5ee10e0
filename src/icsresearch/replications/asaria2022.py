"""Asaria, McGuire & Street (2022), "The impact of management on hospital performance".

The replication on the public files the authors compiled (``hospital_management``): the sample
rule, the two public management measures, the five outcomes, the "size and casemix" controls and
the five panel models, exactly as ``papers/asaria2022.md`` describes them.

Sample. Trusts with ORG_TYPE "Acute" that are not specialist in the provider list, in the years
(2012/13-2018/19) in which they appear in both the managers and the consultants files. Each model
then uses the rows where its own variables are present.

Measures. ``managers_fte`` (M1): NHS Digital staff groups "Manager" + "Senior manager";
``management_score`` (M2): the NHS Staff Survey management score (items 7a-7g and 8a-8d, mean
item score rescaled to 0-100). M3 and M4 need restricted ESR extracts and are not estimated.

Models (:data:`MODELS`), each outcome x measure, without and with controls, the measure entered
alone: ``pooled`` (OLS + year dummies), ``between`` (OLS on trust means), ``within`` (trust and
year fixed effects), ``random`` (Amemiya random effects + year dummies) and ``lagged`` (pooled +
the outcome of the previous year + year dummies). Standard errors are clustered by trust with
R plm's ``vcovHC(type = "sss")`` factor, except the between model's (conventional).

Processing. The files are processed as the authors' public code does (``processing="authors"``,
:data:`PROCESSING_NOTES`); the package's own cleaning is the named sensitivity analysis
``processing="cleaned"``, set side by side by :func:`processing_sensitivity`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import Processing, check
from .comparison import Claim, verdict_from

ID = "asaria2022"
TITLE = "Management and hospital performance (Asaria, McGuire & Street 2022)"
CITATION = (
    "Asaria M, McGuire A, Street A. The impact of management on hospital performance. "
    "Fiscal Studies 2022. Preprint: medRxiv 2020, doi:10.1101/2020.06.02.20119545."
)

#: Outcome column -> (label, direction that counts as better performance: +1, -1 or 0 = none).
OUTCOMES: dict[str, tuple[str, int]] = {
    "net_financial_position": ("Net financial position (GBP m)", +1),
    "ae_4hr_pct": ("A&E patients seen within 4 hours (%)", +1),
    "rtt_18wk_pct": ("Elective patients waiting under 18 weeks (%)", +1),
    "shmi": ("Summary Hospital-level Mortality Indicator", -1),
    "admissions": ("Inpatient episodes (HES finished consultant episodes)", 0),
}

#: Short outcome names for plots.
SHORT_OUTCOMES: dict[str, str] = {
    "net_financial_position": "Net financial position",
    "ae_4hr_pct": "A&E within 4 hours",
    "rtt_18wk_pct": "RTT within 18 weeks",
    "shmi": "SHMI",
    "admissions": "Inpatient episodes",
}

#: Public management measures (M1, M2).
MEASURES: dict[str, str] = {
    "managers_fte": "Managers (FTE)",
    "management_score": "Staff Survey management score (0-100)",
}

#: "Size and casemix" controls.
CONTROLS: dict[str, str] = {
    "beds": "Beds",
    "operating_cost": "Operating cost (GBP m)",
    "all_staff_fte": "All staff (FTE)",
    "female_pct": "Female share of admissions (%)",
    "age_0_14_pct": "Age 0-14 (%)",
    "age_15_29_pct": "Age 15-29 (%)",
    "age_30_44_pct": "Age 30-44 (%)",
    "age_45_59_pct": "Age 45-59 (%)",
    "age_60_74_pct": "Age 60-74 (%)",
    "age_75_89_pct": "Age 75-89 (%)",
    "age_90_plus_pct": "Age 90+ (%)",
}

#: The five models, in the paper's order, with their labels.
MODELS: dict[str, str] = {
    "pooled": "Pooled OLS",
    "between": "Between",
    "within": "Within (two-way FE)",
    "random": "Random effects",
    "lagged": "Lagged outcome",
}

#: Columns of ``estimates.csv``.
ESTIMATE_COLUMNS = ["outcome", "measure", "controls", "model", "coef", "se", "nobs", "ngroups"]

FIRST_YEAR, LAST_YEAR = 2012, 2018
PUBLISHED_TRUSTS = 129


# --- the estimation sample -------------------------------------------------------------------


#: What each processing variant does differently (recorded in the sample's attrs and outputs).
PROCESSING_NOTES: dict[str, str] = {
    "authors": (
        "the authors' processing: the '-X' suffix stripped from trust codes only in the "
        "inpatient file (AE.csv rows whose code ends in '-X' do not join, so those trust-years "
        "have no A&E value); the management score averaged and rounded with R's rowMeans and "
        "round(x, 1), ties at exact halves included"
    ),
    "cleaned": (
        "this package's cleaning (sensitivity analysis): the '-X' suffix stripped from every "
        "file's codes, so A&E rows filed under 'RXX-X' count for trust RXX; the management "
        "score rounded after removing floating-point noise (round(round(x, 9), 1))"
    ),
}


def build_sample(
    first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR, processing: Processing = "authors"
) -> pd.DataFrame:
    """The trust-year estimation sample, built from the readers by the published rule.

    A replication reproduces the authors' choices first: by default the published files are
    processed as the authors' public code does (:data:`PROCESSING_NOTES`); ``"cleaned"`` applies
    this package's readers' cleaning instead, as a named sensitivity analysis
    (:func:`processing_sensitivity` sets the two side by side).

    Parameters
    ----------
    first_year, last_year
        Financial-year starts to keep (default 2012 and 2018, i.e. 2012/13-2018/19).
    processing
        ``"authors"`` (default) or ``"cleaned"``.

    Returns
    -------
    pandas.DataFrame
        One row per trust and year in the sample: ``trust_code``, ``trust_name``, ``year``, the
        measures (:data:`MEASURES`), ``consultants_fte``, the outcomes (:data:`OUTCOMES`) and
        the controls (:data:`CONTROLS`); missing where a file has no value. ``attrs["inputs"]``
        lists every file read (registry name, path, sha256, verified).
    """
    from ..sources import admissions, ae, beds, finance, ods, rtt, shmi, staff_survey, workforce

    if not (isinstance(first_year, int) and isinstance(last_year, int)) or first_year > last_year:
        raise InvalidParameterError(
            f"first_year={first_year!r}, last_year={last_year!r}: give two years with "
            "first_year <= last_year (financial-year starts, e.g. 2012 and 2018)"
        )
    processing = check("processing", processing, Processing)
    key = ["trust_code", "year"]
    providers = ods.read_providers()
    acute = providers[(providers["org_type"] == "Acute") & ~providers["specialist"]]
    managers = workforce.read_managers_fte()
    consultants = workforce.read_consultants_fte()
    core = managers[[*key, "managers_fte"]].merge(
        consultants[[*key, "consultants_fte"]], on=key, how="inner"
    )
    core = core[core["trust_code"].isin(acute["trust_code"])]
    core = core[core["year"].between(first_year, last_year)]
    core = core.merge(acute[["trust_code", "trust_name"]], on="trust_code", how="left")

    items = staff_survey.read_staff_survey_items()
    if processing == "authors":
        scores = authors_management_scores(items)
    else:
        scores = staff_survey.management_scores(items)
    fin = finance.read_finance()
    fin = fin.assign(
        net_financial_position=fin["financial_position_gbp_k"] / 1000,
        operating_cost=fin["operating_cost_gbp_k"] / 1000,
    )
    a_e = ae.read_ae_annual()
    if processing == "authors":  # joined on the code as filed: "RXX-X" is not trust RXX
        a_e = a_e.assign(trust_code=a_e["trust_code_published"].str.strip().str.upper())
    waits = rtt.read_rtt()
    mortality = shmi.read_shmi()
    adm = admissions.read_admissions()
    casemix = admissions.casemix_shares(adm)
    bed = beds.read_beds().rename(columns={"beds_available": "beds"})
    staff = workforce.read_all_staff_fte()
    parts = [
        (scores, ["management_score"]),
        (fin, ["net_financial_position", "operating_cost"]),
        (a_e, ["ae_4hr_pct"]),
        (waits, ["rtt_18wk_pct"]),
        (mortality, ["shmi"]),
        (adm.assign(admissions=adm["total_episodes"].astype(float)), ["admissions"]),
        (bed, ["beds"]),
        (staff, ["all_staff_fte"]),
        (casemix, [c for c in CONTROLS if c.endswith("_pct")]),
    ]
    sample = core
    for table, cols in parts:
        sample = sample.merge(table[[*key, *cols]], on=key, how="left", validate="one_to_one")
    sample = sample.sort_values(key).reset_index(drop=True)
    order = ["trust_code", "trust_name", "year", *MEASURES, "consultants_fte", *OUTCOMES]
    sample = sample[order + list(CONTROLS)]
    for col in sample.columns[3:]:
        sample[col] = sample[col].astype(float)
    from ..provenance import input_record

    tables = [providers, managers, consultants, items, fin, a_e, waits, mortality, adm, bed, staff]
    sample.attrs = {
        "inputs": [input_record(t) for t in tables],
        "sample_rule": (
            "nhs_provider.csv ORG_TYPE 'Acute' and SPECIALIST FALSE; trust-years present in both "
            f"managers_simple_def.csv and consultants_simple_def.csv; YEAR {first_year}-{last_year}"
        ),
        "processing": processing,
        "processing_note": PROCESSING_NOTES[processing],
    }
    return sample


def authors_management_scores(items: pd.DataFrame) -> pd.DataFrame:
    """The management score (M2) computed with the authors' R arithmetic.

    Item score ``(1 SD + 2 D + 3 NAND + 4 A + 5 SA) / 100`` evaluated left to right as R does;
    the trust-year mean over items 7a-7g, 8a-8d present is R's ``rowMeans(na.rm = TRUE)``
    (extended-precision sums, :func:`icsresearch.rcompat.r_row_means`); then
    ``round(((mean - 1) / 4) * 100, 1)`` with R's ``round`` (:func:`icsresearch.rcompat.r_round`).
    Three trust-years of the sample (RM1, RJL and RXC in 2016) sit a hair from a tie and round
    the other way from :func:`icsresearch.sources.staff_survey.management_scores`.

    Parameters
    ----------
    items
        :func:`icsresearch.sources.staff_survey.read_staff_survey_items`.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``management_score``.
    """
    from ..rcompat import r_round, r_row_means
    from ..sources.staff_survey import ITEMS, RESPONSE_COLUMNS

    # the weighted sum left to right, one operation at a time, as R evaluates it
    score = 1 * items[RESPONSE_COLUMNS[0]].to_numpy(dtype=float)
    for weight, col in enumerate(RESPONSE_COLUMNS[1:], start=2):
        score = score + weight * items[col].to_numpy(dtype=float)
    scored = items[["trust_code", "year", "item"]].assign(item_score=score / 100)
    wide = scored.pivot(index=["trust_code", "year"], columns="item", values="item_score")
    wide = wide.reindex(columns=[i for i in ITEMS if i in wide.columns])
    mean = r_row_means(wide.to_numpy(dtype=float))
    out = wide.index.to_frame(index=False)
    out["management_score"] = r_round(((mean - 1) / 4) * 100, 1)
    return out[np.isfinite(out["management_score"])].reset_index(drop=True)


def processing_sensitivity(authors: pd.DataFrame, cleaned: pd.DataFrame) -> pd.DataFrame:
    """Every model's estimate under the authors' processing and under the cleaned variant.

    Parameters
    ----------
    authors, cleaned
        :func:`estimate_all` on ``build_sample(processing="authors")`` and on
        ``build_sample(processing="cleaned")``.

    Returns
    -------
    pandas.DataFrame
        One row per model (``outcome, measure, controls, model``): ``coef``, ``se``, ``nobs``
        and ``ngroups`` of each variant (suffixes ``_authors``, ``_cleaned``),
        ``coef_change_pct`` (cleaned relative to authors, %) and ``same_sign``.
    """
    key = ["outcome", "measure", "controls", "model"]
    cols = ["coef", "se", "nobs", "ngroups"]
    both = authors[key + cols].merge(
        cleaned[key + cols], on=key, suffixes=("_authors", "_cleaned"), validate="one_to_one"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        both["coef_change_pct"] = (
            100 * (both["coef_cleaned"] - both["coef_authors"]) / both["coef_authors"].abs()
        )
    both["same_sign"] = np.sign(both["coef_authors"]) == np.sign(both["coef_cleaned"])
    return both


def sample_summary(sample: pd.DataFrame) -> pd.DataFrame:
    """Trusts and non-missing values per year: where each model's rows come from."""
    cols = [*MEASURES, *OUTCOMES, *CONTROLS]
    out = sample.groupby("year")[cols].count()
    out.insert(0, "trusts", sample.groupby("year")["trust_code"].nunique())
    return out


# --- models ----------------------------------------------------------------------------------


def formula(outcome: str, measure: str, controls: bool, model: str) -> str:
    """The model's formula: the measure alone (plus controls), year dummies where the paper has them."""
    if model not in MODELS:
        raise InvalidParameterError(f"model={model!r} is not one of {list(MODELS)}")
    terms = [measure, *(CONTROLS if controls else ())]
    if model in ("pooled", "random", "lagged"):
        terms.append("C(year)")
    return f"{outcome} ~ " + " + ".join(terms)


def fit_model(
    sample: pd.DataFrame,
    outcome: str,
    measure: str,
    controls: bool,
    model: str,
    *,
    convention: str = "plm",
):
    """Fit one of the five models.

    Parameters
    ----------
    sample
        The output of :func:`build_sample` (all rows: the lagged model takes ``y(t-1)`` from the
        same trust's row for the previous year, whatever that row's other values).
    outcome, measure
        Columns of ``sample`` (``measure`` may be any regressor, e.g. ``managers_fte`` for the
        management-score regressions).
    controls
        Add the size and casemix controls.
    model
        One of :data:`MODELS`.
    convention
        ``"plm"`` (R plm ``vcovHC(type = "sss")``, the default) or ``"stata"`` (Stata/fixest).

    Returns
    -------
    icsresearch.models.panel.PanelResult
    """
    import warnings

    from ..models import fit

    spec = (
        {
            "pooled": {"model": "pooled"},
            "between": {"model": "between"},
            "within": {"model": "within", "effects": "twoways"},
            "random": {"model": "random", "re_method": "amemiya"},
            "lagged": {"model": "lagged"},
        }[model]
        if model in MODELS
        else None
    )
    if spec is None:
        raise InvalidParameterError(f"model={model!r} is not one of {list(MODELS)}")
    cov = (
        {"vcov": "iid"}
        if model == "between"
        else {
            "vcov": "CRV1",
            "cluster": "trust_code",
            "convention": convention,
        }
    )
    with warnings.catch_warnings():
        # dropped aliased year dummies (lagged model: 2012 has no lag) are expected, not news
        warnings.simplefilter("ignore", UserWarning)
        return fit(
            sample,
            formula(outcome, measure, controls, model),
            entity="trust_code",
            time="year",
            **spec,
            **cov,
        )


def estimate_all(
    sample: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    measures: Sequence[str] | None = None,
    convention: str = "plm",
) -> pd.DataFrame:
    """Every outcome x measure x controls x model (5 x 2 x 2 x 5 = 100 rows by default).

    Parameters
    ----------
    sample
        The output of :func:`build_sample`.
    outcomes, measures
        Subsets (default: all of :data:`OUTCOMES` and :data:`MEASURES`).
    convention
        Clustered standard errors: ``"plm"`` or ``"stata"``.

    Returns
    -------
    pandas.DataFrame
        :data:`ESTIMATE_COLUMNS` (``controls`` boolean; ``nobs`` trust-years used, also for the
        between model; ``ngroups`` trusts) plus ``t``, ``p_value``, ``ci_low``, ``ci_high``
        (95%; t with the model's residual df, normal for random effects).
    """
    outcomes = list(outcomes or OUTCOMES)
    measures = list(measures or MEASURES)
    rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        for measure in measures:
            for controls in (False, True):
                for model in MODELS:
                    res = fit_model(
                        sample, outcome, measure, controls, model, convention=convention
                    )
                    rows.append(_row(res, outcome, measure, controls, model))
    return pd.DataFrame(rows)


def _row(res, outcome: str, measure: str, controls: bool, model: str) -> dict[str, Any]:
    tidy = res.tidy().set_index("term").loc[measure]
    return {
        "outcome": outcome,
        "measure": measure,
        "controls": controls,
        "model": model,
        "coef": float(tidy["estimate"]),
        "se": float(tidy["se"]),
        "nobs": int(res.nobs),
        "ngroups": int(res.n_groups["trust_code"]),
        "t": float(tidy["statistic"]),
        "p_value": float(tidy["p_value"]),
        "ci_low": float(tidy["ci_low"]),
        "ci_high": float(tidy["ci_high"]),
    }


def estimates_for_csv(estimates: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``estimates.csv``, ``controls`` written as ``false``/``true``."""
    out = estimates[ESTIMATE_COLUMNS].copy()
    out["controls"] = out["controls"].map({False: "false", True: "true"})
    return out


def quality_regressions(sample: pd.DataFrame, *, convention: str = "plm") -> pd.DataFrame:
    """ "Quantity of management -> quality": management score on managers FTE, five models x controls."""
    est = estimate_all(
        sample, outcomes=["management_score"], measures=["managers_fte"], convention=convention
    )
    return est


def specification_tests(sample: pd.DataFrame, *, controls: bool = False) -> pd.DataFrame:
    """Breusch-Pagan LM (random effects vs pooled) and cluster-robust Hausman tests.

    For each outcome and measure, on the rows where the model's variables are present:

    - Breusch-Pagan: the LM test for trust effects on pooled OLS with year dummies (plm
      ``plmtest(type = "bp")``).
    - Hausman, cluster-robust, in its auxiliary-regression (Mundlak) form (Wooldridge 2010,
      section 10.7.3): pooled OLS of ``y`` on the measure, its trust mean (over the rows used)
      and year dummies, clustered by trust (plm "sss"); the statistic is the squared t of the
      trust mean (chi-squared, 1 df). A significant mean rejects random effects in favour of
      fixed effects. Only the measure is tested: the year dummies are nuisance terms both models
      estimate consistently, and in this unbalanced panel their quasi- and within-demeaned
      versions are collinear with the intercept (plm drops two of them), so the version of the
      test that includes them is not defined. (Random effects cannot host the trust mean with
      Amemiya components, which need within variation in every regressor.)

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``measure``, ``controls``, ``bp_stat``, ``bp_df``, ``bp_p``,
        ``hausman_stat``, ``hausman_df``, ``hausman_p``, ``nobs``.
    """
    import warnings

    from scipy import stats

    from ..models import fit
    from ..models.panel import breusch_pagan

    rows = []
    for outcome in OUTCOMES:
        for measure in MEASURES:
            f = formula(outcome, measure, controls, "pooled")
            used = [outcome, measure, *(CONTROLS if controls else ())]
            data = sample.dropna(subset=used).copy()
            data["trust_mean"] = data.groupby("trust_code")[measure].transform("mean")
            common = {"entity": "trust_code", "time": "year"}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                pooled = fit(data, f, model="pooled", **common)
                cre = fit(
                    data,
                    f + " + trust_mean",
                    model="pooled",
                    vcov="CRV1",
                    cluster="trust_code",
                    **common,
                )
            bp = breusch_pagan(pooled, effects="entity")
            z = float(cre.tvalues["trust_mean"])
            rows.append(
                {
                    "outcome": outcome,
                    "measure": measure,
                    "controls": controls,
                    "bp_stat": bp.statistic,
                    "bp_df": bp.df,
                    "bp_p": bp.p_value,
                    "hausman_stat": z**2,
                    "hausman_df": 1.0,
                    "hausman_p": float(stats.chi2.sf(z**2, 1)),
                    "nobs": pooled.nobs,
                }
            )
    return pd.DataFrame(rows)


# --- tables and plots ------------------------------------------------------------------------


def _stars(p: float) -> str:
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return ""
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000 or a < 0.001:
        return f"{x:.3e}"
    return f"{x:.{max(0, 3 - int(math.floor(math.log10(a))))}f}" if a < 1 else f"{x:.3f}"


def regression_table(estimates: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """One outcome's results in the paper's layout: models across, measures down, by controls.

    Each measure gets a coefficient row (with significance stars: * 10%, ** 5%, *** 1%) and a
    standard-error row in parentheses, then observations and trusts; panel A without controls,
    panel B with them. Render with ``.to_markdown()`` or ``.to_html()``.
    """
    sub = estimates[estimates["outcome"] == outcome]
    if sub.empty:
        raise InvalidParameterError(f"no estimates for outcome {outcome!r}")
    rows: dict[str, dict[str, str]] = {}
    for controls in (False, True):
        panel = "B. with controls" if controls else "A. no controls"
        part = sub[sub["controls"] == controls]
        for measure in MEASURES:
            m = part[part["measure"] == measure].set_index("model")
            if m.empty:
                continue
            label = MEASURES[measure]
            rows[f"{panel}: {label}"] = {
                MODELS[k]: _fmt(m.at[k, "coef"]) + _stars(m.at[k, "p_value"]) for k in m.index
            }
            rows[f"{panel}: {label} (se)"] = {
                MODELS[k]: f"({_fmt(m.at[k, 'se'])})" for k in m.index
            }
            rows[f"{panel}: {label}, N (trusts)"] = {
                MODELS[k]: f"{int(m.at[k, 'nobs'])} ({int(m.at[k, 'ngroups'])})" for k in m.index
            }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table = table[[MODELS[k] for k in MODELS if MODELS[k] in table.columns]]
    table.index.name = OUTCOMES.get(outcome, (outcome,))[0]
    return table


def standardised_effects(estimates: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """Coefficients rescaled to "outcome SDs per SD of the measure", for one plot across outcomes.

    SDs are over the sample's trust-years (``sample``); confidence intervals are rescaled alike.
    Returns a tidy table with ``term`` (short outcome name), ``model`` (model label and controls),
    ``estimate``, ``ci_low``, ``ci_high`` and ``measure``.
    """
    out = estimates.copy()
    sd_y = out["outcome"].map(sample[list(OUTCOMES)].std())
    sd_x = out["measure"].map(sample[list(MEASURES)].std())
    scale = sd_x / sd_y
    for c in ("coef", "ci_low", "ci_high"):
        out[c] = out[c] * scale
    out["term"] = out["outcome"].map(SHORT_OUTCOMES)
    out["model"] = out["model"].map(MODELS) + np.where(out["controls"], " + controls", "")
    return out.rename(columns={"coef": "estimate"})[
        ["measure", "term", "model", "estimate", "ci_low", "ci_high"]
    ]


def coefficient_plot(
    estimates: pd.DataFrame,
    sample: pd.DataFrame,
    measure: str,
    *,
    controls: bool = False,
    **kwargs,
):
    """Standardised coefficients of ``measure`` on every outcome, the five models dodged.

    Parameters
    ----------
    estimates, sample
        :func:`estimate_all` and :func:`build_sample` outputs.
    measure
        ``"managers_fte"`` or ``"management_score"``.
    controls
        Plot the models with (True) or without (False) the size and casemix controls.
    **kwargs
        Passed to :func:`icsresearch.plots.coef_plot` (``title``, ``source``...).

    Returns
    -------
    icsresearch.plots.style.PlotResult
    """
    from ..plots import coef_plot

    if measure not in MEASURES:
        raise InvalidParameterError(f"measure={measure!r} is not one of {list(MEASURES)}")
    std = standardised_effects(estimates[estimates["controls"] == controls], sample)
    std = std[std["measure"] == measure].drop(columns="measure")
    std["model"] = std["model"].str.replace(" + controls", "", regex=False)
    which = "with controls" if controls else "no controls"
    short = {"managers_fte": "Managers FTE", "management_score": "Management score"}[measure]
    kwargs.setdefault("title", f"{short}, {which}")
    kwargs.setdefault("xlabel", "Outcome SDs per SD of the measure (95% CI)")
    kwargs.setdefault("source_note", "NHS Digital, NHS England, NHSI via Asaria et al. (2022)")
    return coef_plot(std, **kwargs)


# --- claims ----------------------------------------------------------------------------------

_NO_ASSOC_RULE = (
    "reproduced if the 95% CI of the coefficient includes 0 in at least 8 of the 10 "
    "specifications (5 models x without/with controls); not reproduced otherwise"
)
_BETTER_RULE = (
    "performance outcomes and their 'better' direction: net financial position +, A&E 4-hour "
    "% +, RTT 18-week % +, SHMI - (admissions measure activity, not performance, and are left "
    "out); reproduced if at least one of the four has the management-score coefficient in the "
    "better direction with p < 0.05 in at least 5 of its 10 specifications, and none has it in "
    "the worse direction with p < 0.05 in 5 or more; not reproduced otherwise"
)


def published_claims() -> list[Claim]:
    """The published claims (see ``papers/asaria2022.md``), not yet judged."""
    claims = [
        Claim(
            "sample",
            "Panel of all non-specialist acute NHS trusts in England, 2012/13-2018/19",
            f"{PUBLISHED_TRUSTS} trusts, 2012/13-2018/19",
            "verified",
            f"reproduced if the published sample rule gives {PUBLISHED_TRUSTS} trusts in "
            "2018/19 (the panel's end, after mergers) and covers 2012/13-2018/19",
        ),
        Claim(
            "quantity_vs_quality",
            "No association between the quantity of management (managers FTE) and management "
            "quality (Staff Survey score)",
            "no evidence of association, robust across the five models",
            "verified",
            _NO_ASSOC_RULE,
        ),
    ]
    for outcome, (label, _) in OUTCOMES.items():
        claims.append(
            Claim(
                f"managers_vs_{outcome}",
                f"No association between managers FTE and {label}",
                "no evidence of association, robust across the five models",
                "verified",
                _NO_ASSOC_RULE,
                note=(
                    "The June 2020 preprint (97 hospitals) reported a positive association of "
                    "managers with elective waiting performance; the journal version reversed it."
                    if outcome == "rtt_18wk_pct"
                    else ""
                ),
            )
        )
    claims += [
        Claim(
            "quality_vs_performance",
            "Some evidence that higher-quality management (Staff Survey score) is associated "
            "with better performance",
            "'some evidence' of better performance with higher management quality",
            "verified",
            _BETTER_RULE,
        ),
        Claim(
            "managers_over_500",
            "Some trusts employ more than 500 managers",
            "more than 500 managers in some trusts (press release)",
            "approximate",
            "reproduced if managers FTE exceeds 500 in at least one trust-year of the sample",
        ),
        Claim(
            "managers_spend_10m",
            "Trusts spend nearly GBP 10m a year on managers on average",
            "nearly GBP 10m a year (press release)",
            "approximate",
            "needs trusts' pay bills for managers, which are not published",
        ),
        Claim(
            "m3_m4",
            "Measures M3 (ESR managers at AfC band 7+) and M4 (M3 x top-of-band 2017 pay)",
            "estimated in the paper for every trust-year",
            "verified",
            "needs yearly ESR extracts by pay band (restricted)",
        ),
    ]
    return claims


def _no_association(est: pd.DataFrame) -> tuple[bool, str]:
    covers = (est["ci_low"] <= 0) & (est["ci_high"] >= 0)
    n, k = len(est), int(covers.sum())
    within = est[est["model"] == "within"]
    detail = "; ".join(
        f"within{' + controls' if r.controls else ''} {r.coef:.3g} "
        f"(95% CI {r.ci_low:.3g} to {r.ci_high:.3g})"
        for r in within.itertuples()
    )
    return k >= 8, f"CI includes 0 in {k} of {n} specifications; {detail}"


def evaluate_claims(
    sample: pd.DataFrame,
    estimates: pd.DataFrame,
    quality: pd.DataFrame,
    *,
    paybill: float | None = None,
) -> list[Claim]:
    """Judge every published claim on this data (rules in :func:`published_claims`).

    Parameters
    ----------
    sample
        :func:`build_sample` output.
    estimates
        :func:`estimate_all` output (the 100 models).
    quality
        :func:`quality_regressions` output.
    paybill
        Optional context for the GBP 10m claim: mean managers' pay bill per trust (GBP m), the
        first value of :func:`managers_paybill_2017` (shown, not judged).

    Returns
    -------
    list of Claim
    """
    out = []
    for c in published_claims():
        if c.id == "sample":
            last = sample[sample["year"] == sample["year"].max()]
            n_last = last["trust_code"].nunique()
            years = f"{sample['year'].min()}/{(sample['year'].min() + 1) % 100:02d}-" + (
                f"{sample['year'].max()}/{(sample['year'].max() + 1) % 100:02d}"
            )
            ok = (
                n_last == PUBLISHED_TRUSTS
                and sample["year"].min() == FIRST_YEAR
                and sample["year"].max() == LAST_YEAR
            )
            out.append(
                c.judged(
                    verdict_from(ok),
                    f"{n_last} trusts in {sample['year'].max()}/"
                    f"{(sample['year'].max() + 1) % 100:02d}; {sample['trust_code'].nunique()} "
                    f"distinct trusts and {len(sample)} trust-years over {years}",
                    "Trusts that merged during the period (e.g. into R0A, Manchester, in 2017) "
                    "appear in the early years only, so the panel holds more distinct trusts "
                    "than the 2018/19 count.",
                )
            )
        elif c.id == "quantity_vs_quality":
            ok, text = _no_association(quality)
            out.append(c.judged(verdict_from(ok), text))
        elif c.id.startswith("managers_vs_"):
            outcome = c.id.removeprefix("managers_vs_")
            est = estimates[
                (estimates["outcome"] == outcome) & (estimates["measure"] == "managers_fte")
            ]
            ok, text = _no_association(est)
            out.append(c.judged(verdict_from(ok), text))
        elif c.id == "quality_vs_performance":
            out.append(_judge_quality(c, estimates))
        elif c.id == "managers_over_500":
            over = sample[sample["managers_fte"] > 500]
            top = sample.loc[sample["managers_fte"].idxmax()]
            out.append(
                c.judged(
                    verdict_from(len(over) > 0),
                    f"{len(over)} trust-years ({over['trust_code'].nunique()} trusts) above 500 "
                    f"FTE; maximum {top['managers_fte']:.0f} FTE ({top['trust_code']}, "
                    f"{int(top['year'])})",
                )
            )
        elif c.id == "managers_spend_10m":
            reason = "Trusts' pay bills for managers are not published. " + (
                f"Context only: the September 2017 public extract's managers by AfC band, "
                f"priced at the average pay point of the 2017 band (Very Senior Managers and "
                f"non-AfC grades at GBP 142,500, the authors' assumption), give a mean of "
                f"GBP {paybill:.1f}m per trust in 2017/18, before employer on-costs."
                if paybill is not None
                else ""
            )
            out.append(c.unreproducible(reason))
        elif c.id == "m3_m4":
            out.append(
                c.unreproducible(
                    "M3 and M4 count managers by Agenda for Change band from yearly Electronic "
                    "Staff Record extracts, which NHS Digital supplies only under a data-sharing "
                    "agreement. The public September 2017 extract gives bands for one year, not "
                    "the 2012-2018 panel, so the measures are not estimated (and not imitated)."
                )
            )
        else:  # pragma: no cover - every claim above is handled
            raise AssertionError(c.id)
    return out


def _judge_quality(c: Claim, estimates: pd.DataFrame) -> Claim:
    parts, better_any, worse_any = [], False, False
    for outcome, (_label, direction) in OUTCOMES.items():
        if direction == 0:
            continue
        est = estimates[
            (estimates["outcome"] == outcome) & (estimates["measure"] == "management_score")
        ]
        sig = est["p_value"] < 0.05
        better = int((sig & (np.sign(est["coef"]) == direction)).sum())
        worse = int((sig & (np.sign(est["coef"]) == -direction)).sum())
        better_any |= better >= 5
        worse_any |= worse >= 5
        parts.append(f"{outcome}: {better} better / {worse} worse of {len(est)}")
    ok = better_any and not worse_any
    return c.judged(
        verdict_from(ok), "specifications with p < 0.05 in each direction - " + "; ".join(parts)
    )


def managers_paybill_2017(sample: pd.DataFrame) -> tuple[float, list[dict[str, Any]]]:
    """Mean managers' pay bill per sample trust in 2017/18 (GBP m), for context only.

    Managers (staff groups "Managers" and "Senior managers") in the public September 2017
    non-medical extract, by Agenda for Change band, priced at the band's 2017 average pay
    point ("AVERAGE" in the pay-scale file); "Very Senior Manager" and "Non AfC Grade" at
    GBP 142,500 (the authors' own assumption). Salaries only: no employer on-costs.

    Returns
    -------
    (float, list)
        The mean over the sample's 2017/18 trusts, and the provenance records of the two files.
    """
    from ..provenance import input_record
    from ..sources import reference, workforce

    staff = workforce.read_non_medical_staff()
    pay = reference.read_afc_pay_scales()
    pay2017 = pay[pay["year"] == 2017]
    price = dict(zip(pay2017["afc_band"], pay2017["pay_average_gbp"], strict=True))
    price.setdefault("Very Senior Manager", 142_500.0)
    price.setdefault("Non AfC Grade", 142_500.0)
    mgr = staff[staff["staff_group_1"].isin(["Managers", "Senior managers"])]
    unpriced = sorted(set(mgr["afc_band"]) - set(price))
    if unpriced:
        raise InvalidParameterError(
            f"pay bands {unpriced} of the managers extract have no 2017 pay in the pay-scale file"
            "\n  Fix: use the published pay-scale file, which lists Band 1 to Band 9"
        )
    cost = (mgr["fte"] * mgr["afc_band"].map(price)).groupby(mgr["trust_code"]).sum()
    trusts = sample.loc[sample["year"] == 2017, "trust_code"]
    mean = float(cost.reindex(trusts).dropna().mean() / 1e6)
    return mean, [input_record(staff), input_record(pay)]


#: What the replication covers, for the reviewer's README (``replications.reviewer``): each
#: display item of the paper (the paper's own tables are not available here, so
#: items are named by content), the code and notebook section that make it, the output files
#: that hold it, and the claims (``fnmatch`` patterns of claim ids) it bears on.
DISPLAY_ITEMS: tuple[dict[str, Any], ...] = (
    {
        "item": "The sample: non-specialist acute trusts by year, 2012/13-2018/19, and summary "
        "statistics of measures, outcomes and controls",
        "code": "asaria2022.build_sample, asaria2022.sample_summary",
        "notebook": "1. The sample",
        "outputs": ("asaria2022.html",),
        "claims": ("sample",),
    },
    {
        "item": "Regression tables: each performance outcome on managers FTE (M1) and the "
        "management score (M2), five panel models, without (panel A) and with (panel B) controls",
        "code": "asaria2022.estimate_all, asaria2022.regression_table",
        "notebook": "2. The five models",
        "outputs": ("estimates.csv", "comparison.md: Regression tables"),
        "claims": ("managers_vs_*", "quality_vs_performance"),
    },
    {
        "item": "Figures: standardised coefficients of each measure on the five outcomes",
        "code": "asaria2022.standardised_effects, asaria2022.coefficient_plot",
        "notebook": "2. The five models (coefficient plots)",
        "outputs": ("asaria2022.html",),
        "claims": ("managers_vs_*", "quality_vs_performance"),
    },
    {
        "item": "Quantity against quality of management: the management score on managers FTE",
        "code": "asaria2022.quality_regressions",
        "notebook": "3. Quantity of management and its quality",
        "outputs": ("comparison.md: Management quantity and quality",),
        "claims": ("quantity_vs_quality",),
    },
    {
        "item": "Model-choice tests: Breusch-Pagan and cluster-robust Hausman (Mundlak form)",
        "code": "asaria2022.specification_tests",
        "notebook": "4. Model-choice tests",
        "outputs": ("comparison.md: Model-choice tests (no controls)",),
        "claims": (),
    },
    {
        "item": "Press-release figures: more than 500 managers in some trusts, nearly GBP 10m a "
        "year on managers",
        "code": "asaria2022.evaluate_claims, asaria2022.managers_paybill_2017",
        "notebook": "5. Published claims and verdicts",
        "outputs": ("comparison.md: Notes",),
        "claims": ("managers_over_500", "managers_spend_10m"),
    },
    {
        "item": "Measures M3 and M4 (managers at AfC band 7+ from ESR, and priced at 2017 pay)",
        "code": "none (yearly ESR extracts by band are restricted)",
        "notebook": "5. Published claims and verdicts",
        "outputs": ("comparison.md: Notes",),
        "claims": ("m3_m4",),
    },
    {
        "item": "Sensitivity (not in the paper): the package's cleaning instead of the authors' "
        "processing, all 100 models side by side",
        "code": "asaria2022.build_sample(processing='cleaned'), asaria2022.processing_sensitivity",
        "notebook": "2. The five models",
        "outputs": (
            "processing_sensitivity.csv",
            "comparison.md: Sensitivity: the package's cleaning instead of the authors' processing",
        ),
        "claims": (),
    },
    {
        "item": "Robustness multiverse (not in the paper): every claim re-judged over a grid of "
        "analytic choices (sample rule, trust codes as reported or harmonised, clustering by "
        "trust or system with each footprint and trust-to-ICS method, small-sample convention"
        ", data processing"
        "), with specification curves",
        "code": "multiverse.run_replication_multiverse, multiverse.replication_grid('asaria2022'), "
        "multiverse.asaria2022_analysis",
        "notebook": "6. Robustness multiverse",
        "outputs": (
            "multiverse.csv",
            "multiverse_summary.csv",
            "comparison.md: Robustness multiverse",
            "asaria2022.html",
        ),
        "claims": ("managers_vs_*", "quality_vs_performance", "quantity_vs_quality"),
    },
)
