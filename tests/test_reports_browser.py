"""A demo report and its index rendered in headless Chromium at phone width (400 px).

Chromium (the Debian package ``chromium``; ``.ci/run`` installs it when missing) loads the page
inside a 400 px wide frame (a headless window is never narrower than 500 px) and a small script
writes what it measured into the DOM, which ``--dump-dom`` prints: the page's scroll width, and
every image's alt text. One demo report is built per module (about 15 s).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from icsresearch.reports.batch import run_batch

pytestmark = pytest.mark.slow

#: Phone width the report must fit without sideways scrolling.
PHONE_WIDTH = 400

#: Loads ``page`` in a ``PHONE_WIDTH`` frame and writes the measurements into ``#icsr-check``.
_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{page}" style="width:{width}px;height:900px;border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {{
  var d = this.contentDocument, w = this.contentWindow;
  var out = {{
    innerWidth: w.innerWidth,
    scrollWidth: d.documentElement.scrollWidth,
    alts: Array.prototype.map.call(d.images, function (i) {{ return i.getAttribute('alt'); }}),
    naturalWidths: Array.prototype.map.call(d.images, function (i) {{ return i.naturalWidth; }}),
    sorted: null
  }};
  var button = d.querySelector('thead th[data-type="num"] button');
  if (button) {{  // the index: sort by the first numeric column, descending (two clicks)
    var col = Array.prototype.indexOf.call(button.parentNode.parentNode.children,
                                           button.parentNode);
    button.click(); button.click();
    out.sorted = Array.prototype.map.call(
      d.querySelectorAll('tbody.sortable tr'),
      function (r) {{ return r.cells[col].getAttribute('data-sort'); }});
  }}
  var pre = document.createElement('pre');
  pre.id = 'icsr-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}});
</script></body></html>
"""


def chromium() -> str:
    """The Chromium binary; the test fails (never skips) without it: `.ci/run` installs it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "chromium is not installed. Fix: `apt-get install -y chromium` (.ci/run does it).",
        pytrace=False,
    )


def measure(page: Path) -> dict:
    """Render ``page`` at phone width in headless Chromium and return what the probe measured."""
    probe = page.parent / f".probe-{page.stem}.html"
    probe.write_text(_PROBE.format(page=page.name, width=PHONE_WIDTH), encoding="utf-8")
    run = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--window-size=800,1000",
            "--virtual-time-budget=15000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    probe.unlink()
    found = re.search(r'<pre id="icsr-check">(.*?)</pre>', run.stdout, re.S)
    assert found, f"chromium printed no measurement (rc {run.returncode}): {run.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory):
    """Two demo reports and their index (one batch for the module)."""
    out = tmp_path_factory.mktemp("browser") / "reports"
    result = run_batch(["ZQ01", "ZQ02"], source="demo", out=out, workers=1, progress=False)
    assert result.n_ok == 2, result.outcomes
    return out


def test_report_fits_a_phone_and_every_image_says_what_it_shows(demo_batch):
    m = measure(demo_batch / "ZQ01" / "report.html")
    assert m["innerWidth"] == PHONE_WIDTH
    assert m["scrollWidth"] <= PHONE_WIDTH  # no page-level horizontal overflow
    assert len(m["alts"]) >= 9  # every chart of the report is an image
    for alt in m["alts"]:
        assert alt and alt != "png" and "No description" not in alt
        assert len(alt) > 40  # a description, not a file type
    assert len(set(m["alts"])) == len(m["alts"])  # each chart described for itself
    assert all(w > 0 for w in m["naturalWidths"])  # the embedded PNGs decode


def test_index_fits_a_phone_and_sorts(demo_batch):
    m = measure(demo_batch / "index.html")
    assert m["scrollWidth"] <= PHONE_WIDTH
    values = [float(v) for v in m["sorted"]]
    assert len(values) == 2 and values == sorted(values, reverse=True)
