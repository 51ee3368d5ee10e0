"""The ``.ics`` DataFrame accessor: column documentation and provenance at hand in notebooks."""

from __future__ import annotations

import pandas as pd

from ..provenance import Provenance, of


@pd.api.extensions.register_dataframe_accessor("ics")
class IcsAccessor:
    """``df.ics.docs``, ``df.ics.label(col)``, ``df.ics.provenance``, ``df.ics.synthetic``.

    Works on any DataFrame: one the package did not make has no column documentation and an
    *unknown* provenance (never an NHS source).
    """

    def __init__(self, df: pd.DataFrame):
        self._df = df

    @property
    def docs(self) -> pd.DataFrame:
        """label, unit, source, year convention and aggregation rule of each column present."""
        cols = self._df.attrs.get("columns", {})
        rows = [{"column": c, **cols[c]} for c in self._df.columns if c in cols]
        return pd.DataFrame(rows).set_index("column") if rows else pd.DataFrame()

    def label(self, column: str, with_unit: bool = True) -> str:
        """A readable axis label, e.g. ``"A&E within 4 hours (%)"``."""
        doc = self._df.attrs.get("columns", {}).get(column)
        if not doc:
            return column
        unit = doc.get("unit", "")
        return f"{doc['label']} ({unit})" if with_unit and unit else doc["label"]

    @property
    def provenance(self) -> Provenance:
        """The typed record: inputs (with sha256), parameters, versions, git revision, synthetic."""
        return of(self._df)

    @property
    def synthetic(self) -> bool | None:
        """True for the synthetic demo data, False for published data, None when unknown."""
        return self.provenance.synthetic

    @property
    def source_note(self) -> str:
        """One line for figure footers and table captions (``"source unknown"`` without a record)."""
        return self.provenance.source_note

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.docs.to_html()
