"""Published claims, the verdict on each, and the ``comparison.md`` a reviewer reads.

A :class:`Claim` holds one published statement: what was published (and whether that number is
verified against the paper or approximate), the rule that decides the verdict - written down
before the data are looked at - what the data give, and the verdict itself, one of
:data:`VERDICTS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..errors import InvalidParameterError

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_REPRODUCIBLE = "not reproducible from public data"

#: The three verdicts a claim can get.
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_REPRODUCIBLE)

#: How sure we are of a published number: checked against the paper, or only approximate.
STATUSES = ("verified", "approximate")


@dataclass(frozen=True)
class Claim:
    """One published claim and, once evaluated, its verdict.

    Attributes
    ----------
    id
        Short stable identifier, e.g. ``"managers_vs_performance:shmi"``.
    claim
        The published statement, in the project's words.
    published
        The published number(s) or wording, e.g. ``"RR 1.22 (1.04-1.43)"``.
    status
        ``"verified"`` (number checked against the publication) or ``"approximate"`` (from an
        abstract, press release or secondary source; treat as approximate).
    rule
        The verdict rule, e.g. ``"reproduced if the within estimate's 95% CI includes 0"``.
    reproduced
        What the data give (filled in by the evaluation).
    verdict
        One of :data:`VERDICTS` (filled in by the evaluation).
    note
        Why a claim cannot be tested, or what differs from the published design.
    """

    id: str
    claim: str
    published: str
    status: str
    rule: str
    reproduced: str = ""
    verdict: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InvalidParameterError(
                f"claim {self.id!r}: status={self.status!r} is not one of {list(STATUSES)}"
            )
        if self.verdict and self.verdict not in VERDICTS:
            raise InvalidParameterError(
                f"claim {self.id!r}: verdict={self.verdict!r} is not one of {list(VERDICTS)}"
            )

    def judged(self, verdict: str, reproduced: str, note: str | None = None) -> Claim:
        """A copy with the verdict and what the data give filled in."""
        changes = {"verdict": verdict, "reproduced": reproduced}
        if note is not None:
            changes["note"] = note
        return dataclasses.replace(self, **changes)

    def unreproducible(self, reason: str) -> Claim:
        """A copy judged "not reproducible from public data" for ``reason``."""
        return dataclasses.replace(
            self, verdict=NOT_REPRODUCIBLE, reproduced="-", note=reason or self.note
        )


def verdict_from(condition: bool) -> str:
    """``"reproduced"`` if ``condition`` else ``"not reproduced"``."""
    return REPRODUCED if condition else NOT_REPRODUCED


def claims_frame(claims: Iterable[Claim]):
    """The claims as a DataFrame, one row per claim (columns as :class:`Claim`'s fields)."""
    import pandas as pd

    rows = [dataclasses.asdict(c) for c in claims]
    return pd.DataFrame(rows, columns=[f.name for f in dataclasses.fields(Claim)])


def _cell(text: str) -> str:
    # Markdown table cells: no raw pipes or line breaks
    return " ".join(str(text).replace("|", "\\|").split())


def render_comparison(
    *,
    title: str,
    citation: str,
    claims: Sequence[Claim],
    data_note: str = "",
    sections: Sequence[tuple[str, str]] = (),
) -> str:
    """``comparison.md``: a verdict count, one line per claim, then the details side by side.

    Parameters
    ----------
    title
        Heading, e.g. ``"asaria2022: management and hospital performance"``.
    citation
        The publication, with DOI.
    claims
        Evaluated claims (each with a verdict).
    data_note
        What data were used (sources, years, sample, synthetic or real).
    sections
        Further ``(heading, markdown)`` sections appended at the end (e.g. regression tables).

    Returns
    -------
    str
        Markdown text.
    """
    unjudged = [c.id for c in claims if c.verdict not in VERDICTS]
    if unjudged:
        raise InvalidParameterError(
            f"claims without a verdict: {unjudged}\n  Fix: evaluate every claim before rendering"
        )
    counts = {v: sum(c.verdict == v for c in claims) for v in VERDICTS}
    lines = [f"# {title}", "", f"**Publication.** {citation}", ""]
    if data_note:
        lines += [f"**Data.** {data_note}", ""]
    lines += [
        "**Verdicts.** " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".",
        "",
        "## Verdict per claim",
        "",
    ]
    for c in claims:
        lines.append(f"- **{c.verdict}** - {c.claim} (`{c.id}`)")
    lines += [
        "",
        "## Published and reproduced, side by side",
        "",
        "| claim | published | status | reproduced | verdict | rule |",
        "|---|---|---|---|---|---|",
    ]
    for c in claims:
        lines.append(
            f"| {_cell(c.claim)} | {_cell(c.published)} | {c.status} | {_cell(c.reproduced)} "
            f"| **{c.verdict}** | {_cell(c.rule)} |"
        )
    notes = [c for c in claims if c.note]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- `{c.id}`: {c.note}" for c in notes]
    for heading, body in sections:
        lines += ["", f"## {heading}", "", body.rstrip()]
    return "\n".join(lines) + "\n"
