"""Re-make the report screenshots in docs/img with headless Chromium.

Usage (from the repository root; the real reports need ``ICSRESEARCH_MIRROR``)::

    .venv/bin/python docs/img/make_screenshots.py

Runs three reports into a temporary folder - the demo system ZQ01 (2022 footprint), the real
QE1 (Healthier Lancashire & South Cumbria, 2022) and the real D7T5G (a board formed on 1 April
2026 from three systems, 2026 footprint) - and saves the top of each ``report.html`` as it
opens in Chromium 1000 px wide (key points and caveats, contents, the first section and
figures) as ``docs/img/report-<source>-<footprint>-<code>.png`` (PNG, 256 colours).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from icsresearch.reports.batch import run_batch

HERE = Path(__file__).resolve().parent
REPORTS = (("demo", 2022, "ZQ01"), ("real", 2022, "QE1"), ("real", 2026, "D7T5G"))
WIDTH, HEIGHT = 1000, 4600


def chromium() -> str:
    """The Chromium binary (``apt-get install -y chromium``)."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("chromium is not installed. Fix: apt-get install -y chromium")


def screenshot(page: Path, target: Path) -> None:
    """Save the top ``WIDTH`` x ``HEIGHT`` pixels of ``page`` as a 256-colour PNG."""
    raw = target.with_suffix(".raw.png")
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            "--virtual-time-budget=15000",
            f"--screenshot={raw}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    Image.open(raw).convert("RGB").quantize(256).save(target, optimize=True)
    raw.unlink()


def main() -> None:
    """Run the three reports and save their screenshots."""
    work = Path(tempfile.mkdtemp(prefix="icsr-shots-"))
    try:
        for source, footprint, code in REPORTS:
            out = work / f"{source}-{footprint}"
            result = run_batch(
                [code], source=source, footprint=footprint, out=out, workers=1, progress=False
            )
            if result.n_failed:
                raise SystemExit(f"report {code} failed: {result.outcomes[0]['error']}")
            target = HERE / f"report-{source}-{footprint}-{code}.png"
            screenshot(out / code / "report.html", target)
            print(f"wrote {target}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
