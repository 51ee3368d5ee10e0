"""Hold-out damaged inputs: variants no other test has shown the readers, made at test time.

Five CSV reader families (A&E shares, managers FTE, beds and occupancy, RTT counts and shares,
finance in GBP thousands) each get a small hand-made file in the published layout. From each,
a seeded RNG makes a broad set of damaged copies: cut at random byte offsets, random byte flips,
NUL bytes, a repeated header, shuffled columns, BOM + latin-1, mixed CRLF, blank lines, very long
lines, unicode lookalike digits, negative counts, percent signs, quoted numbers with spaces, a
renamed column, another delimiter, UTF-16, gzip... For every copy the reader must give either

- a table whose values equal the undamaged reading (rows may be missing, never changed), or a
  warning that says something looks wrong, or
- exactly one :class:`~icsresearch.errors.DataFileError` naming the file and saying "Fix:";

never another exception type, never a silently different number. The damaged copies are not
named like the published files, so the size rule of the short-file warning stays out of it:
every warning seen here comes from the content.

A byte flip may only write bytes that damage structure (separators, line ends, quotes, NUL,
bytes that are not UTF-8, a letter): a digit turned into another digit, sign, point or space, or
a code letter into another letter, makes a valid file with different numbers that no reader can
tell from a real one. That is what the registry's sha256 check is for.
"""

from __future__ import annotations

import codecs
import gzip
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.ae import read_ae_annual
from icsresearch.sources.beds import read_beds
from icsresearch.sources.finance import read_finance
from icsresearch.sources.rtt import read_rtt
from icsresearch.sources.workforce import read_managers_fte

TRUSTS = ["RA2", "RA3", "RA4", "RA7", "RA9", "RAE", "RAJ", "RAL"]
YEARS = [2014, 2015, 2016]


@dataclass(frozen=True)
class Family:
    """One reader and a hand-made file in its published layout."""

    name: str
    reader: Callable[[Path], pd.DataFrame]
    key: tuple[str, ...]
    header: list[str]
    rows: list[list[str]]
    numeric: tuple[int, ...]  # field positions holding numbers (for targeted damage)

    def text(self, sep: str = ",", end: str = "\n") -> str:
        lines = [sep.join(self.header)] + [sep.join(_quote(v) for v in r) for r in self.rows]
        return end.join(lines) + end


def _quote(value: str) -> str:
    return f'"{value}"' if "," in value else value


def _families() -> list[Family]:
    rng = random.Random(12)
    cells = [(y, t) for y in YEARS for t in TRUSTS]
    ae = [[str(y), t, f"0.{rng.randint(70, 99)}"] for y, t in cells]
    managers = [[str(y), t, f"{rng.uniform(20, 400):.{rng.choice([1, 2, 5])}f}"] for y, t in cells]
    beds = [[str(y), t, str(rng.randint(200, 1500)), f"0.{rng.randint(75, 97)}"] for y, t in cells]
    rtt = []
    for y, t in cells:
        total = rng.randint(8_000, 90_000)
        within = int(total * rng.uniform(0.7, 0.95))
        rtt.append([f"31/03/{y + 1}", str(y), t, str(total), str(within), f"{within / total:.9f}"])
    finance = []
    for y, t in cells:
        income = rng.randint(90_000, 900_000)
        cost = income - rng.randint(-20_000, 20_000)
        finance.append([t, str(y), str(income - cost), f"{income:,}", str(-cost)])
    return [
        Family(
            "ae", read_ae_annual, ("trust_code", "year"), ["YEAR", "ORG_CODE", "AE_SCORE"], ae, (2,)
        ),
        Family(
            "managers",
            read_managers_fte,
            ("trust_code", "year"),
            ["YEAR", "ORG_CODE", "SIMPLE_MANAGERS_FTE"],
            managers,
            (2,),
        ),
        Family(
            "beds",
            read_beds,
            ("trust_code", "year"),
            ["YEAR", "ORG_CODE", "BEDS", "BEDS_OCCUPIED_PERCENT"],
            beds,
            (2, 3),
        ),
        Family(
            "rtt",
            read_rtt,
            ("trust_code", "year"),
            ["DATE", "YEAR", "ORG_CODE", "N_TOTAL", "N_18_WEEKS", "RTT_SCORE"],
            rtt,
            (3, 4, 5),
        ),
        Family(
            "finance",
            read_finance,
            ("trust_code", "year"),
            ["ORG_CODE", "YEAR", "FINANCIAL_POSITION", "OP_INCOME", "OP_COST"],
            finance,
            (2, 3, 4),
        ),
    ]


FAMILIES = _families()

#: Bytes a flip may write: each breaks structure or encoding. Not the characters a published
#: number may hold (digits, sign, point, padding space, ``%``): written over a digit, those make
#: another valid number (``5982`` -> ``-982``, `` 982``, ``5.82``, ``598%``), as undetectable as
#: a digit flip.
DAMAGE_BYTES = [b"\x00", b"\xff", b"\xa3", b'"', b",", b"\n", b"\r", b"#", b";", b"?"]

#: Digits that look like ASCII ones (fullwidth, Arabic-Indic, superscript, letters O and l).
LOOKALIKES = {"0": ["\uff10", "\u0660", "O"], "1": ["\uff11", "l", "\u00b9"], "9": ["\uff19"]}


def _variants(fam: Family) -> list[tuple[str, bytes, bool]]:
    """``(label, damaged bytes, must_read_equal)`` for one family; seeded, so deterministic."""
    rng = random.Random(f"damaged-{fam.name}")
    good = fam.text().encode()
    lines = fam.text().splitlines()
    out: list[tuple[str, bytes, bool]] = []

    def add(label, data, equal=False):
        out.append((label, data if isinstance(data, bytes) else data.encode("utf-8"), equal))

    # cut anywhere; a cut at a line end gives a shorter, valid file (rows missing, none changed)
    for offset in sorted(rng.sample(range(1, len(good)), 25)):
        add(f"cut at byte {offset}", good[:offset])
    for _ in range(40):
        i = rng.randrange(len(good))
        b = rng.choice(DAMAGE_BYTES)
        add(f"byte {i} -> {b!r}", good[:i] + b + good[i + 1 :])
    for _ in range(6):
        i = rng.randrange(len(good))
        add(f"NUL inserted at {i}", good[:i] + b"\x00" + good[i:])
    # whole-file damage
    add("empty", b"")
    add("blank space only", b" \n\r\n\t\n")
    add("BOM only", codecs.BOM_UTF8)
    add("header only", lines[0] + "\n")
    add("header twice", "\n".join([lines[0], *lines]) + "\n")
    add("header repeated mid-file", "\n".join([*lines[:6], lines[0], *lines[6:]]) + "\n")
    add("a row repeated", "\n".join([*lines, lines[3]]) + "\n")
    add("rows shuffled", "\n".join([lines[0], *rng.sample(lines[1:], len(lines) - 1)]) + "\n", True)
    order = rng.sample(range(len(fam.header)), len(fam.header))
    shuffled = [",".join(_quote(r[j]) for j in order) for r in [fam.header, *fam.rows]]
    add("columns shuffled", "\n".join(shuffled) + "\n", True)
    add("BOM + CRLF", codecs.BOM_UTF8 + fam.text(end="\r\n").encode(), True)
    add(
        "BOM + latin-1 pound sign",
        codecs.BOM_UTF8 + fam.text().replace(lines[2], lines[2] + "\xa3").encode("latin-1"),
    )
    add("BOM + latin-1 (ASCII content)", codecs.BOM_UTF8 + fam.text().encode("latin-1"), True)
    mixed = "".join(line + ("\r\n" if k % 2 else "\n") for k, line in enumerate(lines))
    add("CRLF mixed with LF", mixed, True)
    add("old Mac CR line ends", fam.text(end="\r"), True)
    add("no final line end", fam.text().rstrip("\n"), True)
    add(
        "blank lines in the middle",
        "\n".join([*lines[:4], "", "", *lines[4:8], "  ", *lines[8:]]) + "\n",
    )
    add("trailing comma on every line", "\n".join(line + "," for line in lines) + "\n", True)
    add("semicolon delimiter", fam.text(sep=";"))
    add("tab delimiter", fam.text(sep="\t"))
    add("renamed column", fam.text().replace(fam.header[-1], fam.header[-1] + "_V2", 1))
    add("lower-case header", "\n".join([lines[0].lower(), *lines[1:]]) + "\n")
    add("UTF-16", fam.text().encode("utf-16"))
    add("gzip", gzip.compress(good))
    add(
        "very long line",
        "\n".join([*lines[:3], lines[3] + "," + "9" * 1_000_000, *lines[4:]]) + "\n",
    )
    add(
        "very long value",
        "\n".join([*lines[:3], lines[3].replace(",", "," + "R" * 200_000, 1), *lines[4:]]) + "\n",
    )

    # damage to one numeric field of one row
    def field_edit(label, edit, equal=False):
        r = rng.randrange(len(fam.rows))
        j = rng.choice(fam.numeric)
        rows = [list(row) for row in fam.rows]
        rows[r][j] = edit(rows[r][j])
        damaged = Family(fam.name, fam.reader, fam.key, fam.header, rows, fam.numeric)
        add(f"{label} (row {r + 2}, field {j})", damaged.text(), equal)

    field_edit("quoted with spaces", lambda v: f'" {v} "' if "," not in v else v, True)
    field_edit("padded with spaces", lambda v: f"  {v}   ", True)
    field_edit("negative", lambda v: v[1:] if v.startswith("-") else "-" + v)
    field_edit("percent sign", lambda v: v + "%")
    field_edit("x100 with percent sign", lambda v: f"{float(v.replace(',', '')) * 100:g}%")
    field_edit("decimal comma", lambda v: v.replace(".", ",") if "." in v else v + ",5")
    field_edit("doubled decimal point", lambda v: v.replace(".", "..") if "." in v else v + "..")
    field_edit("infinity", lambda v: "1e400")
    field_edit("huge", lambda v: "9e15")
    field_edit("text", lambda v: "n/k")
    field_edit("excel error", lambda v: "#VALUE!")
    for digit, looks in LOOKALIKES.items():
        for look in looks:
            field_edit(
                f"lookalike {look!r} for a digit",
                lambda v, d=digit, lk=look: v.replace(d, lk, 1) if d in v else lk + v[1:],
            )
    return out


def _read(fam: Family, path: Path) -> tuple[pd.DataFrame | None, str | None, list[str]]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        try:
            df = fam.reader(path)
            error = None
        except DataFileError as exc:
            df, error = None, str(exc)
    shown = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    return df, error, shown


def _same(a, b) -> bool:
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        if pd.isna(a) and pd.isna(b):
            return True
        return bool(np.isclose(float(a), float(b), rtol=1e-12, atol=0))
    return a == b


def _silent_changes(fam: Family, df: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Rows of ``df`` whose key is unknown or whose values differ from the undamaged reading."""
    ref = expected.set_index(list(fam.key))
    problems = []
    for row in df.itertuples(index=False):
        record = row._asdict()
        key = tuple(record[k] for k in fam.key)
        if key not in ref.index:
            problems.append(f"new row {key}")
            continue
        for column, value in record.items():
            if column in fam.key or column.endswith("_published"):
                continue  # the published text of a code: spaces and case are the damage
            if not _same(value, ref.at[key, column]):
                problems.append(f"{key} {column}: {value!r} != {ref.at[key, column]!r}")
    return problems


@pytest.mark.parametrize("fam", FAMILIES, ids=[f.name for f in FAMILIES])
def test_damaged_copies_are_read_right_or_refused_with_one_clear_error(fam, tmp_path):
    original = tmp_path / f"{fam.name}-original.csv"
    original.write_text(fam.text())
    expected, error, shown = _read(fam, original)
    assert error is None and not shown, (error, shown)
    assert len(expected) == len(fam.rows)

    failures, refused, read_equal = [], 0, 0
    for n, (label, data, must_equal) in enumerate(_variants(fam)):
        path = tmp_path / f"{fam.name}-damaged-{n}.csv"
        path.write_bytes(data)
        try:
            df, error, shown = _read(fam, path)
        except Exception as exc:  # any other type is a failure of the reader
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if error is not None:
            refused += 1
            if must_equal:
                failures.append(f"{label}: refused a file that reads the same: {error[:300]}")
            elif not (
                error.startswith(f"{path}: ") and "\n  Fix: " in error and len(error) < 2_000
            ):
                failures.append(f"{label}: unclear error: {error[:300]}")
            continue
        changes = _silent_changes(fam, df, expected)
        if must_equal and (changes or len(df) != len(expected)):
            failures.append(f"{label}: expected the full table, got {len(df)} rows, {changes[:3]}")
        elif changes and not shown:
            failures.append(f"{label}: silently different: {changes[:3]}")
        else:
            read_equal += 1
    assert failures == [], "\n".join(failures)
    # both outcomes occur: the damage is real and the readers are not refusing everything
    assert refused > 30 and read_equal > 10


# --- families derived from the mirror at test time (nothing of it is committed) ---------------

#: Small published files of other reader families: R data (gzip inside) and the real AE.csv.
REAL_FILES = {
    "health_index_icb": "healthyr/data/england_health_index_ics.rda",
    "ae_type3_attribution": "healthyr/data/england_ae_acute_trust_attribution.rda",
    "hm_ae": "hospital_management/data/csv/AE.csv",
}


def _real_variants(data: bytes, seed: str) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = [(f"cut at byte {o}", data[:o]) for o in sorted(rng.sample(range(1, len(data)), 20))]
    for _ in range(30):
        i = rng.randrange(len(data))
        b = rng.choice(DAMAGE_BYTES)
        out.append((f"byte {i} -> {b!r}", data[:i] + b + data[i + 1 :]))
    for _ in range(10):  # any byte at all: compressed data has no "valid different value" bytes
        i = rng.randrange(len(data))
        out.append((f"byte {i} xor 0x5a", data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1 :]))
    out += [("doubled", data + data), ("gzip of it", gzip.compress(data)), ("empty", b"")]
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_damaged_copies_of_real_files_are_read_right_or_refused(mirror, name, tmp_path):
    from icsresearch.sources import read, schema

    relative, key = REAL_FILES[name], schema(name).key
    data = (mirror / relative).read_bytes()
    expected = read(name)
    fam = Family(name, lambda p: read(name, p), key, [], [], ())
    csv_text = relative.endswith(".csv")

    failures, refused = [], 0
    for n, (label, damaged) in enumerate(_real_variants(data, name)):
        if csv_text and "xor" in label:
            continue  # in text, an arbitrary byte may be another digit: see the module docstring
        path = tmp_path / f"damaged-{n}{Path(relative).suffix}"
        path.write_bytes(damaged)
        try:
            df, error, shown = _read(fam, path)
        except Exception as exc:
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if error is not None:
            refused += 1
            if not (error.startswith(f"{path}: ") and "\n  Fix: " in error and len(error) < 2_000):
                failures.append(f"{label}: unclear error: {error[:300]}")
            continue
        changes = _silent_changes(fam, df, expected)
        if changes and not shown:
            failures.append(f"{label}: silently different: {changes[:3]}")
    assert failures == [], "\n".join(failures)
    assert refused > 10
