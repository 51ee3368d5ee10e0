"""The ``.ics`` DataFrame accessor: column documentation and provenance at hand in notebooks."""

from __future__ import annotations

import pandas as pd


@pd.api.extensions.register_dataframe_accessor("ics")
class IcsAccessor:
    """``df.ics.docs``, ``df.ics.label(col)``, ``df.ics.provenance``, ``df.ics.synthetic``."""

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
    def provenance(self) -> dict:
        """Inputs (with sha256), parameters, package versions and git revision of the build."""
        return self._df.attrs.get("provenance", {})

    @property
    def synthetic(self) -> bool:
        """True for panels made from the synthetic demo data."""
        return bool(self._df.attrs.get("synthetic", False))

    @property
    def source_note(self) -> str:
        """One line for figure footers and table captions."""
        if self.synthetic:
            return "synthetic demo data (icsresearch.demo): not real NHS organisations"
        prov = self.provenance
        rev = prov.get("git_revision", "unknown")
        return f"NHS Digital / NHS England via icsresearch (git {rev[:12]}); OGL v3"

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.docs.to_html()
