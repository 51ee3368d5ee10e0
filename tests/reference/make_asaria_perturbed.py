"""Write a seeded, perturbed copy of the CSVs the asaria2022 replication reads.

    python tests/reference/make_asaria_perturbed.py MIRROR OUTDIR --seed N

MIRROR is the data mirror (e.g. /work/shared/data); the files are read from
MIRROR/hospital_management/data/csv/ and written to OUTDIR/hospital_management/data/csv/ (same
relative path), so OUTDIR can be passed as the mirror to make_asaria_reference.R or to the
Python package. OUTDIR/perturbation.json records the seed and every special row; the R script
copies it into meta$perturbation. The generated data must NEVER be committed (write it under
/tmp); only this script is.

Why: the committed R reference (asaria_reference_*.json) pins the Python replication to the
real files only. Perturbed copies give other numbers, other missing-data patterns and rows that
the real files happen not to contain, so a Python result that matches R on the real files by
accident (a join, a drop, a rounding rule that only agrees on these data) stops matching.

What is perturbed (deterministic for a given seed and mirror):
  * rows: about 5% of the data rows of every file are dropped at random (never the header);
    nhs_provider.csv, managers/consultants drops change the sample itself.
  * values: every continuous or count value is multiplied by (1 + N(0, 0.05)) and written with
    as many decimals as the original cell (integers stay integers; "NA" stays "NA"; trailing
    zeros are dropped unless the column writes them, as AE_SCORE's "1.00" does):
      managers/consultants/all_staff FTE, FINANCIAL_POSITION/OP_INCOME/OP_COST (all-zero
      no-accounts rows stay all zero), SHMI, BEDS, BEDS_OCCUPIED_PERCENT (clipped to [0, 1]),
      inpatient counts (TOTAL_EPISODES, ADMISSIONS, MALE/FEMALE_ADMISSIONS, the 7 age bands),
      AE_SCORE (clipped to [0, 1]), RTT N_TOTAL and RTT_SCORE (clipped to [0, 1]) with
      N_18_WEEKS = round(N_TOTAL * RTT_SCORE) and RTT_SCORE rewritten as N_18_WEEKS / N_TOTAL
      (the readers check that the three agree; N_TOTAL 0 stays 0),
      staff survey: each item's five percentages (SD, D, NAND, A, SA) are perturbed, kept
      non-negative and rescaled to their original sum (about 100), the respondent counts _N
      perturbed as counts.
  * "-X" codes: in AE.csv and inpatient_data.csv a few more rows (5 each) get a "-X" suffix on
    a plain code whose trust-year is in the perturbed sample and which no other row of the file
    shares after trimming, upper-casing and stripping "-X" (so no duplicate trust-year appears in
    the "cleaned" processing). The authors' code strips "-X" only in inpatient_data.csv, so the
    AE ones lose A&E for that trust-year in the "authors" processing only.
  * rounding ties: 6 staff-survey rows of trust-years in the perturbed sample get integer item
    percentages whose item scores are dyadic (multiples of 0.25) and average exactly to 2.75,
    3.25 or 3.75, so the raw management score ((m - 1) / 4) * 100 is exactly 43.75, 56.25 or
    68.75 in binary floating point: a true tie at 1 decimal (R rounds these half-to-even).
    In addition the real rows whose raw score is within 1e-6 of a half at 1 decimal (real
    near-ties such as RM1 2016 = 61.25000000000001, where round(x, 1) and
    round(round(x, 9), 1) differ) are copied unperturbed and never dropped.
Everything else is kept byte for byte: file names, header line, column order, UTF-8 BOM (if the
original has one), CRLF line endings, no newline after the last row, minimal quoting (fields
with a comma are quoted, as in nhs_provider.csv), and codes with stray spaces (" RNA ").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path

import numpy as np

REL = Path("hospital_management") / "data" / "csv"
SD = 0.05
DROP = 0.05
N_EXTRA_X = 5
N_TIES = 6
TIE_MEANS = (2.75, 3.25, 3.75)  # raw scores 43.75, 56.25, 68.75: exact binary halves at 1 dp
ITEMS = [f"7{c}" for c in "abcdefg"] + [f"8{c}" for c in "abcd"]
LEVELS = ("SD", "D", "NAND", "A", "SA")

FILES = [
    "nhs_provider.csv",
    "managers_simple_def.csv",
    "consultants_simple_def.csv",
    "NHS_SS_management.csv",
    "financial_positions.csv",
    "AE.csv",
    "RTT.csv",
    "shmi.csv",
    "inpatient_data.csv",
    "beds.csv",
    "all_staff_simple_def.csv",
]
BANDS = ["0-14", "15-29", "30-44", "45-59", "60-74", "75-89", "90+"]
# column -> (lower, upper) bounds after perturbation (None: unbounded)
NUMERIC = {
    "managers_simple_def.csv": {"SIMPLE_MANAGERS_FTE": (0, None)},
    "consultants_simple_def.csv": {"SIMPLE_CONSULTANTS_FTE": (0, None)},
    "all_staff_simple_def.csv": {"SIMPLE_ALL_STAFF_FTE": (0, None)},
    "financial_positions.csv": {
        "FINANCIAL_POSITION": (None, None),
        "OP_INCOME": (None, None),
        "OP_COST": (None, None),
    },
    "AE.csv": {"AE_SCORE": (0, 1)},
    "RTT.csv": {"N_TOTAL": (0, None), "RTT_SCORE": (0, 1)},  # N_18_WEEKS derived
    "shmi.csv": {"SHMI": (0, None)},
    "inpatient_data.csv": {
        c: (0, None)
        for c in ["TOTAL_EPISODES", "ADMISSIONS", "MALE_ADMISSIONS", "FEMALE_ADMISSIONS", *BANDS]
    },
    "beds.csv": {"BEDS": (0, None), "BEDS_OCCUPIED_PERCENT": (0, 1)},
    "NHS_SS_management.csv": {f"{i}_N": (0, None) for i in ITEMS},  # percentages: see below
}


# ---- reading and writing, format-preserving ---------------------------------------------------
class Table:
    def __init__(self, path: Path):
        raw = path.read_bytes()
        self.bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw[3:].decode("utf-8") if self.bom else raw.decode("utf-8")
        self.eol = "\r\n" if "\r\n" in text else "\n"
        self.trailing_eol = text.endswith(self.eol)
        body = text[: -len(self.eol)] if self.trailing_eol else text
        self.header_line, rest = body.split(self.eol, 1)
        self.header = next(csv.reader([self.header_line]))
        self.rows = list(csv.reader(io.StringIO(rest, newline=""), lineterminator=self.eol))
        self.col = {name: i for i, name in enumerate(self.header)}
        if self.dump() != raw:
            raise SystemExit(f"{path}: cannot re-write the file byte for byte; refusing to go on")

    def dump(self) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=self.eol, quoting=csv.QUOTE_MINIMAL)
        w.writerows(self.rows)
        out = self.header_line + self.eol + buf.getvalue()
        if not self.trailing_eol:
            out = out[: -len(self.eol)]
        return (b"\xef\xbb\xbf" if self.bom else b"") + out.encode("utf-8")

    def get(self, r: list[str], name: str) -> str:
        return r[self.col[name]]

    def set(self, r: list[str], name: str, value: str) -> None:
        r[self.col[name]] = value


def as_float(s: str) -> float | None:
    try:
        v = float(s)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def decimals(s: str) -> int:
    s = s.strip()
    return len(s.split(".", 1)[1]) if "." in s else 0


def fmt(v: float, like: str, fixed: bool = True) -> str:
    """v with as many decimals as `like`; fixed=False strips trailing zeros (R's write.csv)."""
    out = f"{v:.{decimals(like)}f}"
    if not fixed and "." in out:
        out = out.rstrip("0").rstrip(".")
    if re.fullmatch(r"-0(\.0*)?", out):
        out = out[1:]
    return out


def fixed_style(t: Table, names: list[str]) -> bool:
    """True if the columns write a fixed number of decimals (some cell ends in a 0 decimal)."""
    return any(re.fullmatch(r"-?\d+\.\d*0", t.get(r, n).strip()) for r in t.rows for n in names)


def norm(code: str) -> str:
    return code.strip().upper()


def strip_x(code: str) -> str:
    return re.sub(r"-X$", "", norm(code))


def item_scores(t: Table, r: list[str]) -> list[float]:
    out = []
    for it in ITEMS:
        p = [as_float(t.get(r, f"{it}_{lv}")) for lv in LEVELS]
        if all(v is not None for v in p):
            out.append(sum((k + 1) * v for k, v in enumerate(p)) / 100)
    return out


def raw_score(t: Table, r: list[str]) -> float | None:
    s = item_scores(t, r)
    return ((sum(s) / len(s) - 1) / 4) * 100 if s else None


def integer_pcts(rng: np.random.Generator, score: float) -> list[int]:
    """Five integer percentages summing to 100 with (1 SD + ... + 5 SA) / 100 == score."""
    target = round(score * 100)
    p = rng.multinomial(100, [0.06, 0.14, 0.25, 0.40, 0.15]).tolist()
    w = sum((k + 1) * v for k, v in enumerate(p))
    while w != target:
        if w < target:
            i = int(rng.choice([k for k in range(4) if p[k] > 0]))
            p[i] -= 1
            p[i + 1] += 1
            w += 1
        else:
            i = int(rng.choice([k for k in range(1, 5) if p[k] > 0]))
            p[i] -= 1
            p[i - 1] += 1
            w -= 1
    return p


def tie_item_scores(rng: np.random.Generator, mean: float, n: int) -> list[float]:
    """n dyadic item scores (multiples of 0.25) whose mean is exactly `mean`."""
    out = []
    for _ in range(n // 2):
        d = float(rng.choice([0.0, 0.25, 0.5]))
        out += [mean - d, mean + d]
    if n % 2:
        out.append(mean)
    rng.shuffle(out)
    return out


# ---- main -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mirror", type=Path)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, required=True)
    a = ap.parse_args()
    src = a.mirror / REL
    dst = a.outdir / REL
    dst.mkdir(parents=True, exist_ok=True)

    def rng(tag: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([a.seed, tag]))

    tables = {f: Table(src / f) for f in FILES}
    record: dict = {
        "generated_by": "tests/reference/make_asaria_perturbed.py",
        "command": f"python tests/reference/make_asaria_perturbed.py {a.mirror} "
        f"{a.outdir} --seed {a.seed}",
        "seed": a.seed,
        "noise_sd": SD,
        "drop_share": DROP,
        "rows_dropped": {},
        "extra_x_codes": [],
        "exact_ties": [],
        "kept_real_near_ties": [],
    }

    # real near-ties of the management score: copied unperturbed, never dropped
    ss = tables["NHS_SS_management.csv"]
    protected = set()
    for i, r in enumerate(ss.rows):
        x = raw_score(ss, r)
        if x is not None and abs(x * 10 - np.floor(x * 10) - 0.5) < 1e-5:
            protected.add(i)
            record["kept_real_near_ties"].append(
                {"code": norm(ss.get(r, "ORG_CODE")), "year": int(ss.get(r, "YEAR")), "x": repr(x)}
            )

    # 1. drop rows
    for k, f in enumerate(FILES):
        t = tables[f]
        keep = rng(100 + k).random(len(t.rows)) >= DROP
        if f == "NHS_SS_management.csv":
            keep[list(protected)] = True
            protected = {int(np.sum(keep[:i])) for i in protected}  # new row indices
        record["rows_dropped"][f] = int((~keep).sum())
        t.rows = [r for r, kp in zip(t.rows, keep, strict=True) if kp]

    # the perturbed sample: acute non-specialist, managers and consultants rows, 2012-2018
    prov = tables["nhs_provider.csv"]
    acute = {
        norm(prov.get(r, "ORG_CODE"))
        for r in prov.rows
        if prov.get(r, "ORG_TYPE") == "Acute" and prov.get(r, "SPECIALIST") == "FALSE"
    }

    def keys(t: Table) -> set:
        return {(norm(t.get(r, "ORG_CODE")), int(t.get(r, "YEAR"))) for r in t.rows}

    sample = {
        (c, y)
        for c, y in keys(tables["managers_simple_def.csv"])
        & keys(tables["consultants_simple_def.csv"])
        if c in acute and 2012 <= y <= 2018
    }

    # 2. perturb values
    for k, f in enumerate(FILES):
        t = tables[f]
        g = rng(200 + k)
        for name, (lo, hi) in NUMERIC.get(f, {}).items():
            fixed = fixed_style(t, [name])
            noise = 1 + g.normal(0, SD, len(t.rows))
            for i, (r, e) in enumerate(zip(t.rows, noise, strict=True)):
                v = as_float(t.get(r, name))
                if v is None or (f == "NHS_SS_management.csv" and i in protected):
                    continue
                v = float(
                    np.clip(
                        v * e, lo if lo is not None else -np.inf, hi if hi is not None else np.inf
                    )
                )
                t.set(r, name, fmt(v, t.get(r, name), fixed))
        if f == "RTT.csv":
            for r in t.rows:
                n, s = as_float(t.get(r, "N_TOTAL")), as_float(t.get(r, "RTT_SCORE"))
                if n is not None and s is not None and as_float(t.get(r, "N_18_WEEKS")) is not None:
                    within = round(n * s)
                    t.set(r, "N_18_WEEKS", fmt(within, t.get(r, "N_18_WEEKS")))
                    if n > 0:  # the score as published: the rounded count over the total
                        t.set(r, "RTT_SCORE", f"{within / n:.9f}")  # as most published rows
        if f == "NHS_SS_management.csv":
            for it in ITEMS:
                cols = [f"{it}_{lv}" for lv in LEVELS]
                fixed = fixed_style(t, cols)
                noise = 1 + g.normal(0, SD, (len(t.rows), len(LEVELS)))
                for i, (r, e) in enumerate(zip(t.rows, noise, strict=True)):
                    p = [as_float(t.get(r, c)) for c in cols]
                    if i in protected or any(v is None for v in p):
                        continue
                    q = np.clip(np.array(p) * e, 0, None)
                    if q.sum() > 0:
                        q = q * (sum(p) / q.sum())
                    for c, v in zip(cols, q, strict=True):
                        t.set(r, c, fmt(float(v), t.get(r, c), fixed))

    # 3. extra "-X" codes (AE.csv, inpatient_data.csv)
    for k, f in enumerate(["AE.csv", "inpatient_data.csv"]):
        t = tables[f]
        g = rng(300 + k)
        count: dict = {}
        for r in t.rows:
            kk = (strip_x(t.get(r, "ORG_CODE")), int(t.get(r, "YEAR")))
            count[kk] = count.get(kk, 0) + 1
        cand = [
            i
            for i, r in enumerate(t.rows)
            if re.fullmatch(r"[A-Z0-9]+", t.get(r, "ORG_CODE"))
            and (t.get(r, "ORG_CODE"), int(t.get(r, "YEAR"))) in sample
            and count[(t.get(r, "ORG_CODE"), int(t.get(r, "YEAR")))] == 1
        ]
        for i in sorted(g.choice(cand, size=min(N_EXTRA_X, len(cand)), replace=False)):
            r = t.rows[i]
            t.set(r, "ORG_CODE", t.get(r, "ORG_CODE") + "-X")
            record["extra_x_codes"].append(
                {"file": f, "code": t.get(r, "ORG_CODE"), "year": int(t.get(r, "YEAR"))}
            )

    # 4. exact rounding ties in the staff survey
    g = rng(400)
    cand = [
        i
        for i, r in enumerate(ss.rows)
        if i not in protected
        and (norm(ss.get(r, "ORG_CODE")), int(ss.get(r, "YEAR"))) in sample
        and len(item_scores(ss, r)) > 0
    ]
    for j, i in enumerate(sorted(g.choice(cand, size=min(N_TIES, len(cand)), replace=False))):
        r = ss.rows[i]
        present = [
            it
            for it in ITEMS
            if all(as_float(ss.get(r, f"{it}_{lv}")) is not None for lv in LEVELS)
        ]
        mean = TIE_MEANS[j % len(TIE_MEANS)]
        for it, s in zip(present, tie_item_scores(g, mean, len(present)), strict=True):
            for lv, v in zip(LEVELS, integer_pcts(g, s), strict=True):
                ss.set(r, f"{it}_{lv}", str(v))
        x = raw_score(ss, r)
        assert x == ((mean - 1) / 4) * 100 and (x * 100) % 10 == 5, x
        record["exact_ties"].append(
            {
                "code": norm(ss.get(r, "ORG_CODE")),
                "year": int(ss.get(r, "YEAR")),
                "x": x,
                "n_items": len(present),
            }
        )

    for f in FILES:
        (dst / f).write_bytes(tables[f].dump())
    (a.outdir / "perturbation.json").write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"wrote {len(FILES)} files to {dst}; dropped {sum(record['rows_dropped'].values())} "
        f"rows; {len(record['extra_x_codes'])} extra -X codes; "
        f"{len(record['exact_ties'])} exact ties; "
        f"{len(record['kept_real_near_ties'])} real near-ties kept"
    )


if __name__ == "__main__":
    main()
