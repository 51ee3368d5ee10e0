"""A simulator of the Queensland nurse-to-patient ratio design (McHugh et al., Lancet 2021).

The patient data of the study are restricted, so the design is replicated on simulated patients
with the study's dimensions and *planted* effects, which the estimators must recover.

What is simulated (every number is a field of :class:`McHughDesign`)
---------------------------------------------------------------------
Hospitals. 27 intervention and 28 comparison hospitals, two periods (0 = baseline, 1 = about two
years after the July 2016 mandate). Hospital sizes are log-normal (SD 0.5 on the log scale);
each hospital's patients are split evenly between the periods on average (binomial).

Staffing. Each hospital has a baseline number of patients per nurse drawn from a normal
distribution with mean 5.52 and SD 2.03 (the baseline survey of the companion BMJ Open 2020
paper), truncated to [2.5, 12] by redrawing. After the mandate it falls by 1.0 patient on
average (SD 0.4) in intervention hospitals and is unchanged on average (SD 0.4) in comparison
hospitals, never below 2.5. Staffing is a hospital-period value, as the study measured it
(from nurse surveys).

Patients. About 400,000 in total; age group (18-49, 50-64, 65-74, 75-84, 85+; probabilities
0.25, 0.25, 0.20, 0.18, 0.12), sex (half female) and comorbidity count (0, 1, 2, 3+; Poisson with
a mean rising by age group, capped at 3).

Outcomes, with the planted staffing effects (per one *fewer* patient per nurse):

- 30-day mortality: logit with hospital effects (normal, SD 0.2), a period effect (-0.03),
  age, sex and comorbidity effects, and odds ratio ``or_mortality`` = 0.93 per one fewer
  patient per nurse; the intercept is set so that baseline mortality is ``mortality_rate``
  (3.5%).
- 7-day readmission, among patients discharged alive: the same form with odds ratio
  ``or_readmission`` = 0.93 and baseline rate ``readmission_rate`` (4.5%). Deaths and
  readmissions are drawn independently given the covariates, so the model holds among
  survivors too.
- Length of stay (days, 0 = same-day discharge): negative binomial (gamma-Poisson, shape 2)
  whose mean is log-linear with ratio ``los_ratio`` = 0.97 per one fewer patient per nurse and
  baseline mean ``mean_los`` (5 days). A Poisson regression recovers the planted ratio exactly
  in expectation (the mean is log-linear; the dispersion only affects the standard errors).

The planted log odds ratio per *extra* patient per nurse is ``-log(or)``; estimates are reported
per one fewer patient, i.e. ``exp(-coefficient)``, like the published figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError

AGE_GROUPS = ("18-49", "50-64", "65-74", "75-84", "85+")
AGE_PROBS = (0.25, 0.25, 0.20, 0.18, 0.12)
COMORBIDITIES = ("0", "1", "2", "3+")

# Log-odds (mortality, readmission) and log-mean (LOS) effects of the case mix: plausible sizes,
# not estimates from the study (which did not publish its risk model).
_AGE_MORTALITY = np.array([0.0, 0.7, 1.2, 1.7, 2.2])
_AGE_READMISSION = np.array([0.0, 0.2, 0.35, 0.5, 0.6])
_AGE_LOS = np.array([0.0, 0.15, 0.3, 0.4, 0.5])
_MALE = {"mortality": 0.15, "readmission": 0.10, "los": 0.02}
_COMORBIDITY = {"mortality": 0.35, "readmission": 0.25, "los": 0.12}


@dataclass(frozen=True)
class McHughDesign:
    """Parameters of the simulated study (defaults: the published dimensions).

    Attributes
    ----------
    n_intervention, n_comparison
        Hospitals in each arm (27 and 28).
    n_patients
        Patients over both periods (about 400,000).
    baseline_ppn_mean, baseline_ppn_sd
        Patients per nurse at baseline across hospitals (5.52, 2.03).
    ppn_min, ppn_max
        Truncation of the baseline distribution (and floor after the mandate).
    intervention_change, comparison_change, change_sd
        Mean change in patients per nurse after the mandate in each arm, and its SD across
        hospitals.
    or_mortality, or_readmission
        Planted odds ratios per one fewer patient per nurse.
    los_ratio
        Planted ratio of mean length of stay per one fewer patient per nurse.
    mortality_rate, readmission_rate, mean_los
        Baseline 30-day mortality, 7-day readmission among survivors, mean length of stay.
    los_shape
        Gamma shape of the length-of-stay heterogeneity (smaller = more overdispersed).
    hospital_sd
        SD of the hospital effects (log-odds / log-mean scale).
    period_effect
        Secular change from baseline to follow-up on the log-odds / log-mean scale.
    hospital_size_sd
        SD of log hospital size.
    """

    n_intervention: int = 27
    n_comparison: int = 28
    n_patients: int = 400_000
    baseline_ppn_mean: float = 5.52
    baseline_ppn_sd: float = 2.03
    ppn_min: float = 2.5
    ppn_max: float = 12.0
    intervention_change: float = -1.0
    comparison_change: float = 0.0
    change_sd: float = 0.4
    or_mortality: float = 0.93
    or_readmission: float = 0.93
    los_ratio: float = 0.97
    mortality_rate: float = 0.035
    readmission_rate: float = 0.045
    mean_los: float = 5.0
    los_shape: float = 2.0
    hospital_sd: float = 0.2
    period_effect: float = -0.03
    hospital_size_sd: float = 0.5

    def __post_init__(self) -> None:
        checks = [
            (self.n_intervention >= 2 and self.n_comparison >= 2, "at least 2 hospitals per arm"),
            (self.n_patients >= 1000, "n_patients >= 1000"),
            (
                self.or_mortality > 0 and self.or_readmission > 0 and self.los_ratio > 0,
                "ratios > 0",
            ),
            (
                0 < self.mortality_rate < 0.5 and 0 < self.readmission_rate < 0.5,
                "rates in (0, 0.5)",
            ),
            (self.mean_los > 0 and self.los_shape > 0, "mean_los and los_shape > 0"),
            (0 < self.ppn_min < self.baseline_ppn_mean < self.ppn_max, "ppn_min < mean < ppn_max"),
            (self.baseline_ppn_sd > 0 and self.change_sd >= 0, "SDs must be positive"),
        ]
        for ok, what in checks:
            if not ok:
                raise InvalidParameterError(
                    f"McHughDesign: {what} ({self!r})\n  Fix: change the offending parameter"
                )

    @property
    def n_hospitals(self) -> int:
        """Hospitals in both arms."""
        return self.n_intervention + self.n_comparison

    def planted(self) -> dict[str, float]:
        """The planted effects per one fewer patient per nurse, by outcome column."""
        return {
            "died": self.or_mortality,
            "readmitted": self.or_readmission,
            "los": self.los_ratio,
        }

    def replace(self, **changes) -> McHughDesign:
        """A copy with some parameters changed."""
        return dataclasses.replace(self, **changes)


def _truncated_normal(rng, mean, sd, lo, hi, size) -> np.ndarray:
    out = rng.normal(mean, sd, size)
    bad = (out < lo) | (out > hi)
    while bad.any():  # redraw: keeps the shape of the normal inside the bounds
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return out


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrate_logit(lin: np.ndarray, target: float) -> float:
    """Intercept a with mean(expit(a + lin)) = target (Newton's method; the mean is monotone)."""
    a = np.log(target / (1 - target)) - float(np.mean(lin))
    for _ in range(50):
        p = _expit(a + lin)
        gap = float(p.mean()) - target
        if abs(gap) < 1e-12:
            break
        a -= gap / float((p * (1 - p)).mean())
    return a


def hospitals(design: McHughDesign, rng: np.random.Generator) -> pd.DataFrame:
    """The hospital-level table: arm, size weight, effects and staffing in both periods."""
    n = design.n_hospitals
    treated = np.r_[np.ones(design.n_intervention, int), np.zeros(design.n_comparison, int)]
    baseline = _truncated_normal(
        rng, design.baseline_ppn_mean, design.baseline_ppn_sd, design.ppn_min, design.ppn_max, n
    )
    change = np.where(treated == 1, design.intervention_change, design.comparison_change)
    change = change + rng.normal(0.0, design.change_sd, n) if design.change_sd > 0 else change
    followup = np.maximum(baseline + change, design.ppn_min)
    return pd.DataFrame(
        {
            "hospital": [f"H{i + 1:02d}" for i in range(n)],
            "treated": treated,
            "size": rng.lognormal(0.0, design.hospital_size_sd, n),
            "effect_mortality": rng.normal(0.0, design.hospital_sd, n),
            "effect_readmission": rng.normal(0.0, design.hospital_sd, n),
            "effect_los": rng.normal(0.0, design.hospital_sd, n),
            "ppn_baseline": np.round(baseline, 2),
            "ppn_followup": np.round(followup, 2),
        }
    )


def simulate(
    design: McHughDesign | None = None, *, seed: int | np.random.Generator | None = 2021
) -> pd.DataFrame:
    """Simulate one study: one row per patient.

    Parameters
    ----------
    design
        The study parameters (default :class:`McHughDesign`: the published dimensions).
    seed
        Seed or generator; the same seed gives the same patients.

    Returns
    -------
    pandas.DataFrame
        ``hospital``, ``treated`` (1 = intervention arm), ``period`` (0 baseline, 1 follow-up),
        ``treated_post`` (treated x period), ``patients_per_nurse`` (the hospital-period value,
        2 decimals), ``age_group``, ``sex``, ``comorbidities`` (categoricals), ``died`` (0/1),
        ``readmitted`` (0/1; missing for patients who died), ``los`` (days). ``attrs`` hold
        ``design`` (the parameters), ``planted`` (effects per one fewer patient per nurse),
        ``hospitals`` (the hospital table as records: see :func:`hospital_table`) and
        ``synthetic`` = True.
    """
    design = design or McHughDesign()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    hosp = hospitals(design, rng)
    h = len(hosp)

    # patients per hospital, then per period
    per_hospital = rng.multinomial(design.n_patients, hosp["size"] / hosp["size"].sum())
    hospital_idx = np.repeat(np.arange(h), per_hospital)
    n = hospital_idx.size
    period = rng.binomial(1, 0.5, n)
    ppn = np.where(
        period == 1,
        hosp["ppn_followup"].to_numpy()[hospital_idx],
        hosp["ppn_baseline"].to_numpy()[hospital_idx],
    )
    age = rng.choice(len(AGE_GROUPS), size=n, p=AGE_PROBS)
    male = rng.binomial(1, 0.5, n)
    comorb = np.minimum(rng.poisson(0.3 + 0.35 * age), 3)

    def linear(kind: str, age_effects: np.ndarray, slope: float) -> np.ndarray:
        return (
            hosp[f"effect_{kind}"].to_numpy()[hospital_idx]
            + design.period_effect * period
            + age_effects[age]
            + _MALE[kind] * male
            + _COMORBIDITY[kind] * comorb
            + slope * ppn
        )

    # planted slopes per EXTRA patient per nurse
    b_mort = -np.log(design.or_mortality)
    b_read = -np.log(design.or_readmission)
    b_los = -np.log(design.los_ratio)
    baseline = period == 0

    lin = linear("mortality", _AGE_MORTALITY, b_mort)
    lin += _calibrate_logit(lin[baseline], design.mortality_rate)
    died = rng.binomial(1, _expit(lin))

    lin = linear("readmission", _AGE_READMISSION, b_read)
    lin += _calibrate_logit(lin[baseline], design.readmission_rate)
    readmitted = rng.binomial(1, _expit(lin)).astype(float)
    readmitted[died == 1] = np.nan

    lin = linear("los", _AGE_LOS, b_los)
    mu = np.exp(lin)
    mu *= design.mean_los / mu[baseline].mean()
    los = rng.poisson(rng.gamma(design.los_shape, mu / design.los_shape))

    treated = hosp["treated"].to_numpy()[hospital_idx]
    df = pd.DataFrame(
        {
            "hospital": pd.Categorical.from_codes(hospital_idx, categories=hosp["hospital"]),
            "treated": treated,
            "period": period,
            "treated_post": treated * period,
            "patients_per_nurse": ppn,
            "age_group": pd.Categorical.from_codes(age, categories=list(AGE_GROUPS)),
            "sex": pd.Categorical.from_codes(male, categories=["F", "M"]),
            "comorbidities": pd.Categorical.from_codes(comorb, categories=list(COMORBIDITIES)),
            "died": died,
            "readmitted": readmitted,
            "los": los,
        }
    )
    df.attrs = {
        "synthetic": True,
        "design": dataclasses.asdict(design),
        "planted": design.planted(),
        # records, not a DataFrame: pandas compares attrs with == when concatenating
        "hospitals": hosp.to_dict(orient="records"),
        "seed": seed if isinstance(seed, int) else None,
    }
    return df


def hospital_table(df: pd.DataFrame) -> pd.DataFrame:
    """The simulated hospitals of a study from :func:`simulate`: arm, size, effects, staffing.

    Columns ``hospital``, ``treated``, ``size``, ``effect_mortality``, ``effect_readmission``,
    ``effect_los``, ``ppn_baseline``, ``ppn_followup``.
    """
    records = df.attrs.get("hospitals")
    if not records:
        raise InvalidParameterError(
            "df has no simulated hospital table in attrs['hospitals']\n  Fix: pass the output "
            "of simulate() unchanged"
        )
    return pd.DataFrame.from_records(records)
