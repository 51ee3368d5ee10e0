"""Reports take SHMI's published deaths from a locked release, and kernels see the batch's lockfile.

The SHMI funnel's expected deaths are approximated from admissions unless the lockfile pins the
April-March SHMI window of the year: then NHS England's published observed and expected deaths
are drawn, and the axis, note, table caption and methods say so. Report kernels run in the report
folder, so the batch passes the lockfile it found as an absolute ICSRESEARCH_LOCK.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from icsresearch.releases import add, read
from icsresearch.reports import profile as rp
from releases_fixtures import (  # noqa: F401 (fixtures)
    Server,
    isolate,
    publish_shmi,
    server_fixture,
    shmi_rows,
    work_fixture,
)

#: Acute trusts of a hand-made SHMI window with enough of them for a funnel (Cheshire and
#: Merseyside's first, so a report on QYG highlights some).
FUNNEL_TRUSTS = ["REM", "RBL", "RBN", "RBT", "RJR", "RWW", "RVY", "R0A", "RJ1", "RYJ", "RGT", "RM1"]


def many_trusts_zip(window: str) -> bytes:
    """A SHMI data-files zip for ``window`` ("Apr21-Mar22") with :data:`FUNNEL_TRUSTS`."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["PROVIDER_CODE", "PROVIDER_NAME", "SHMI_VALUE", "SHMI_BANDING", "SPELLS",
                "OBSERVED", "EXPECTED"])  # fmt: skip
    for i, code in enumerate(FUNNEL_TRUSTS):
        expected = 900.5 + 150 * i
        observed = round(expected * (0.85 + 0.025 * i))
        w.writerow([code, f"TRUST {code}", round(observed / expected, 4), 2, 60000 + 9000 * i,
                    observed, expected])  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"SHMI data at trust level, {window} (csv).csv", out.getvalue())
    return buf.getvalue()


def report_data(trusts: pd.DataFrame, year: int, synthetic: bool = False):
    """The parts of a ReportData the SHMI functions read."""
    return SimpleNamespace(params=SimpleNamespace(year=year), trusts=trusts, synthetic=synthetic)


def test_shmi_funnel_uses_the_published_deaths_of_a_locked_window(work, server):
    trusts = pd.DataFrame(
        {
            "trust_code": ["R0A", "RJ1", "RYJ", "R0A"],
            "trust_name": ["Manchester", "Guy's", "Imperial", "Manchester"],
            "trust_type": ["acute non-specialist"] * 4,
            "year": [2019, 2019, 2019, 2018],
            "shmi": [1.0, 1.1, 0.9, 1.0],
            "admissions": [100_000.0] * 4,
        }
    )
    data = report_data(trusts, 2019)
    before = rp.shmi_funnel_table(data)  # no lockfile: 2018/19, approximated
    assert rp.shmi_year(data) == 2018 and set(before["deaths_source"]) == {"approximated"}
    assert not rp.shmi_deaths_text(before)["published"]
    publish_shmi(server, ["2020-03"])
    add("shmi", "2020-03", "2020-03", progress=False)
    assert rp.shmi_year(data) == 2019
    table = rp.shmi_funnel_table(data).set_index("trust_code")
    assert set(table["deaths_source"]) == {"published"} and set(table["window"]) == {"2020-03"}
    for code, _, shmi, _, _, observed, expected in shmi_rows("2020-03"):
        assert table.loc[code, "observed_deaths"] == observed
        assert table.loc[code, "expected_deaths"] == expected
        assert table.loc[code, "shmi"] == shmi
    assert table.loc["RJ1", "trust_name"] == "Guy's"  # the panel's name
    text = rp.shmi_deaths_text(table.reset_index())
    assert text["published"] and "April 2019 - March 2020" in text["note"]
    assert "published" in text["xlabel"] and "lockfile" in text["methods"]
    # the demo never reads a release
    demo = report_data(trusts, 2019, synthetic=True)
    assert set(rp.shmi_funnel_table(demo)["deaths_source"]) == {"approximated"}


def test_a_kernel_sees_the_lockfile_of_the_process_that_starts_it(work, server, tmp_path):
    from icsresearch.reports.batch import _kernel_env, input_fingerprint
    from icsresearch.reports.executor import PooledKernel

    env = _kernel_env()
    assert env["ICSRESEARCH_LOCK"] == str(work / "icsresearch.lock")  # absolute, even if absent
    before = input_fingerprint("real", env)
    publish_shmi(server, ["2020-03"])
    add("shmi", "2020-03", "2020-03", progress=False)  # ./icsresearch.lock, a relative name
    env = _kernel_env()
    assert input_fingerprint("real", env) != before  # a locked release re-runs the reports
    report_folder = tmp_path / "reports" / "QYG"
    kernel = PooledKernel("icsresearch", report_folder, env, warm_up=False)
    try:
        kernel.run_code(
            "import json, os\n"
            "from icsresearch.releases import default_path, read\n"
            "book = read()\n"
            "json.dump({'cwd': os.getcwd(), 'lock': str(default_path()),\n"
            "           'files': [e.label for e in book.files]}, open('seen.json', 'w'))\n"
        )
    finally:
        kernel.shutdown()
    seen = json.loads((report_folder / "seen.json").read_text())
    assert seen["cwd"] == str(report_folder)  # the kernel runs in the report folder ...
    assert seen["lock"] == str(work / "icsresearch.lock")  # ... and reads the batch's lockfile
    assert seen["files"] == [e.label for e in read().files] == ["shmi 2020-03"]


@pytest.mark.realdata
def test_a_batch_report_draws_the_shmi_funnel_from_the_locked_release(work, server, tmp_path):
    from icsresearch.reports.batch import run_batch

    publish_shmi(server, ["2022-03"])
    [zip_path] = [p for p in server.files if "SHMI%20data%20files" in p]
    server.files[zip_path] = (many_trusts_zip("Apr21-Mar22"), "application/zip")
    add("shmi", "2022-03", "2022-03", progress=False)  # ./icsresearch.lock in the work folder
    result = run_batch(
        ["QYG"], source="real", year=2021, out=tmp_path / "out", workers=1, progress=False
    )
    assert result.n_ok == 1, result.outcomes
    folder = tmp_path / "out" / "QYG"
    nb = nbformat.read(folder / "report.ipynb", as_version=4)
    shown = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            shown.append(str(data.get("text/markdown") or data.get("text/html") or ""))
            shown.append(str(data.get("text/plain") or ""))
    text = "\n".join(shown)
    assert "SHMI, non-specialist acute trusts, 2021/22" in text  # drawn, for the locked year
    assert "as published with SHMI (April 2021 - March 2022)" in text
    assert "Observed and expected deaths are those NHS England publishes" in text
    assert "approximated as 2% of a trust" not in text
    manifest = json.loads((folder / "manifest.json").read_text())
    locked = [i for i in manifest["inputs"] if i["source"] == "release shmi 2022-03"]
    assert locked and locked[0]["verified"] is True
    assert locked[0]["sha256"] == read().get("shmi", "2022-03").sha256
