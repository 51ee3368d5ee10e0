"""The report notebook itself: papermill on a 2026 system, reused vs fresh kernels, real data.

The default parameters (a demo system of the 2022 footprint) are run by nbval (the template's
folder, ``src/icsresearch/reports/templates``, is in pytest's ``testpaths``); these tests cover
the 2026 footprint, the real data and that a report run on a reused kernel is the same report as
on a fresh one.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from icsresearch.errors import KernelError
from icsresearch.panel import ics_year_panel
from icsresearch.reports.batch import check_kernel, run_batch
from icsresearch.reports.params import default_notebook

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session", autouse=True)
def report_kernel():
    """The "icsresearch" kernel that `make test` registers; the tests never install one."""
    try:
        return check_kernel("icsresearch")
    except KernelError as exc:
        pytest.fail(f"{exc} (`make install` registers it for the test suite)", pytrace=False)


def summary_of(nb) -> dict:
    for cell in nb.cells:
        if "report-summary" in cell.metadata.get("tags", []):
            return cell.outputs[0]["data"]["application/json"]
    raise AssertionError("the notebook has no report-summary output")


def texts_of(nb) -> list[str]:
    """Every text and markdown output, in order (what a reader sees besides the figures)."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o["output_type"] == "stream":
                out.append(o["text"])
            if "image/png" in o.get("data", {}):
                # a figure: its alt text (its data files are compared byte for byte; its HTML
                # holds the PNG and a download link only when figures_dir is relative)
                out.append(o["data"].get("text/plain"))
                continue
            for mime in ("text/markdown", "text/html"):
                if mime in o.get("data", {}):
                    out.append(o["data"][mime])
    return out


def test_2026_report_by_papermill_equals_the_batch_report_on_a_reused_kernel(tmp_path):
    """ZN02 run by papermill on a new kernel, and by the batch after ZQ01 on one kernel."""
    import papermill

    out = tmp_path / "zn02.ipynb"
    papermill.execute_notebook(
        str(default_notebook()),
        str(out),
        parameters={"ics_code": "ZN02", "footprint": 2026, "figures_dir": str(tmp_path / "fig")},
        kernel_name="icsresearch",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    s = summary_of(nb)
    assert s["parameters"] == {
        "ics_code": "ZN02",
        "footprint": 2026,
        "source": "demo",
        "year": 2023,
        "method": "headquarters",
    }
    panel = ics_year_panel("demo", footprint=2026)
    row = panel[(panel["icb_code"] == "ZN02") & (panel["year"] == 2023)].iloc[0]
    old = panel[(panel["icb_code"] == "ZN02") & (panel["year"] == 2018)].iloc[0]
    for col in ("ae_4hr_pct", "ga_occupancy_pct", "delayed_per_100_ga_beds", "staff_burnout_pct"):
        assert s["headline"][col] == pytest.approx(row[col])
    assert s["headline"]["rtt_18wk_pct"] == pytest.approx(old["rtt_18wk_pct"])  # 2018/19
    assert s["synthetic"] is True and s["inputs"] == []
    text = "\n".join(texts_of(nb))
    assert "formed on 1 April 2026 from" in text and "36 integrated care systems" in text
    assert "Synthetic demo data" in text and "Key points and caveats" in text
    assert "Footprint applied before it existed" in text  # 2026 boards on 2023/24 data
    assert "change the parameters" not in text.lower()
    pngs = sorted(p.name for p in (tmp_path / "fig").glob("*.png"))
    for name in (
        "funnel_ae",
        "funnel_rtt",
        "funnel_shmi",
        "spc_ae_system",
        "spc_beds_system",
        "spc_discharge_system",
        "staff_wellbeing",
        "trends",
        "map_ae",
    ):
        assert f"{name}.png" in pngs
    shown = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(shown) == len(pngs)  # every saved figure is in the notebook

    # the batch: ZQ01 (unchanged in 2026) first, then ZN02 on the same kernel
    batch = run_batch(
        ["ZQ01", "ZN02"], footprint=2026, source="demo", out=tmp_path / "b", workers=1,
        progress=False,
    )  # fmt: skip
    assert batch.n_ok == 2
    folder = tmp_path / "b" / "ZN02"
    assert json.loads((folder / "manifest.json").read_text())["worker"]["kernel_reused"] is True
    nb_b = nbformat.read(folder / "report.ipynb", as_version=4)
    s_b = summary_of(nb_b)
    assert {k: v for k, v in s_b.items() if k != "figures"} == {
        k: v for k, v in s.items() if k != "figures"
    }
    assert texts_of(nb_b) == texts_of(nb)
    data_files = sorted(
        p.name for p in (tmp_path / "fig").iterdir() if p.suffix in (".csv", ".json")
    )
    assert len(data_files) >= 20
    for name in data_files:
        assert (folder / "figures" / name).read_bytes() == (tmp_path / "fig" / name).read_bytes()
    # the HTML reads as a report: sections, the synthetic stamp, no code
    html = (folder / "report.html").read_text()
    for heading in (
        "1. Who the system is",
        "2. The ICS era",
        "Monthly: statistical process control",
        "3. Trends since 2012/13",
        "4. Before the ICS era: 2018/19",
        "Management and staffing",
        "5. The system on the map",
        "Data and methods",
    ):
        assert heading in html
    assert "rp.load_report_data" not in html and "Synthetic demo data" in html
    # contents, numbered figures and tables, data links, the way back to the index
    assert 'href="#section-4"' in html and 'id="section-4"' in html
    assert "<b>Figure 1.</b>" in html and "Table 1. " in html
    assert html.count("Download the data behind this chart (CSV)</a>") == len(pngs)
    assert 'href="figures/funnel_ae.csv"' in html and 'href="../index.html"' in html
    assert "No description has been provided" not in html
    assert 'class="icsr-synthetic synthetic"' in html  # the banner styled as on the index
    assert "Parameters of this report and verification of its inputs" in html
    assert "Parameters: {" not in html and "change the parameters" not in html.lower()


@pytest.mark.realdata
def test_real_report_for_a_2026_system(tmp_path):
    from icsresearch.data.registry import REGISTRY

    result = run_batch(
        ["D7T5G"], footprint=2026, source="real", out=tmp_path / "real", workers=1, progress=False
    )
    assert result.n_ok == 1, result.outcomes
    folder = tmp_path / "real" / "D7T5G"
    nb = nbformat.read(folder / "report.ipynb", as_version=4)
    s = summary_of(nb)
    assert s["system"]["short_name"] == "Essex" and s["synthetic"] is False
    # Essex was formed from Mid and South Essex and parts of Hertfordshire/West Essex and
    # Suffolk/North East Essex (tables/icb_2026_changes.csv)
    assert "formed on 1 April 2026 from QH8" in "\n".join(texts_of(nb))
    pinned = {e.name: e.sha256 for e in REGISTRY.values()}
    assert s["inputs"] and all(pinned[i["source"]] == i["sha256"] for i in s["inputs"])
    read = {i["source"] for i in s["inputs"]}
    assert {"ae_trust_monthly", "beds_trust_monthly", "staff_survey_2021_2024"} <= read
    assert s["headline"]["ae_4hr_pct_fy"] == "2023/24" and s["headline"]["ae_4hr_pct"] > 50
    m = json.loads((folder / "manifest.json").read_text())
    # the manifest's typed record names the same files (their file name as the path)
    assert [(i["source"], i["path"], i["sha256"], i["verified"]) for i in m["inputs"]] == [
        (i["source"], i["file"], i["sha256"], i["verified"]) for i in s["inputs"]
    ]
    assert m["synthetic"] is False
    html = (folder / "report.html").read_text()
    assert "synthetic demo data" not in html.lower()
    assert "Open Government Licence" in html
