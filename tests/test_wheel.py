"""The package works when installed from a wheel, away from the source checkout.

A wheel of the checkout is built and installed into a fresh virtual environment, which borrows the
project environment's dependencies (nothing heavy is downloaded again); the ``icsresearch`` kernel
is registered inside it and found first. From a folder outside the checkout, ``icsresearch demo``
(all 42 demo reports) and one real report must then run from the installed files alone: the demo
calibration, the tables, the report template and the replication notebooks are package data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "icsresearch"


def _run(cmd, *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done


class Installed:
    """A fresh virtual environment holding the wheel, and how to run commands in it."""

    def __init__(self, wheel: Path, venv: Path, work: Path):
        self.wheel, self.venv, self.work = wheel, venv, work
        self.python = venv / "bin" / "python"
        self.exe = venv / "bin" / "icsresearch"
        self.version = wheel.name.split("-")[1]
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.pop("ICSRESEARCH_REPLICATION_NOTEBOOKS", None)
        env.update(
            VIRTUAL_ENV=str(venv),
            PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            # The fresh environment's kernelspec before any user-wide or other one; then the
            # project environment's share/jupyter, where the borrowed nbconvert keeps its HTML
            # templates (data files outside site-packages, so the .pth line does not reach them).
            JUPYTER_PATH=os.pathsep.join(
                [str(venv / "share" / "jupyter"), str(Path(sys.prefix) / "share" / "jupyter")]
            ),
            COLUMNS="200",
        )
        self.env = env

    def run(self, *args, timeout: float = 300):
        return _run(args, cwd=self.work, env=self.env, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    # Build from a copy: an in-tree build writes build/ into the checkout, and files left there by
    # an earlier build would end up in the wheel and hide a missing package-data entry.
    tree = base / "tree"
    shutil.copytree(
        ROOT / "src",
        tree / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", ".ipynb_checkpoints"),
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    dist = base / "dist"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, tree],
        cwd=base,
        timeout=600,
    )
    (wheel,) = dist.glob("icsresearch-*.whl")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=base)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel],
        cwd=base,
    )
    # The dependencies come from the project environment: a .pth line appends its site-packages
    # to the fresh one's sys.path. A directory added by a .pth line is not scanned for .pth files
    # itself, so the project's editable install of icsresearch (a .pth there) stays invisible.
    # Written after the install, so pip never sees the editable icsresearch either.
    site = _run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=base
    ).stdout.strip()
    (Path(site) / "_project_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    work = base / "work"  # every command runs here, outside the checkout
    work.mkdir()
    inst = Installed(wheel, venv, work)
    inst.run(
        python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "icsresearch",
        "--display-name", "Python (icsresearch wheel)",
    )  # fmt: skip
    return inst


def _package_data() -> set[str]:
    """Every non-Python file of the source package (documentation and caches aside)."""
    return {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file()
        and p.suffix not in (".py", ".pyc", ".md")
        and "__pycache__" not in p.parts
        and ".ipynb_checkpoints" not in p.parts
    }


def _manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_wheel_holds_the_package_data_and_the_installed_package_finds_it(installed):
    with zipfile.ZipFile(installed.wheel) as zf:
        names = set(zf.namelist())
    data = _package_data()
    assert {
        "icsresearch/demo/calibration.json",
        "icsresearch/reports/templates/ics_profile.ipynb",
        "icsresearch/replications/notebooks/asaria2022.ipynb",
        "icsresearch/tables/trust_hq_icb.csv",
    } <= data
    assert data - names == set(), "package files missing from the wheel (pyproject package-data)"

    where = installed.run(
        installed.python,
        "-c",
        "import icsresearch, importlib.metadata as m\n"
        "from icsresearch.reports.params import default_notebook\n"
        "from icsresearch.replications.runner import notebook_path\n"
        "from jupyter_client.kernelspec import KernelSpecManager\n"
        "print(icsresearch.__file__)\n"
        "print(m.version('icsresearch'))\n"
        "print(default_notebook())\n"
        "print(notebook_path('asaria2022'))\n"
        "print(KernelSpecManager().get_kernel_spec('icsresearch').argv[0])\n",
    ).stdout.splitlines()
    assert Path(where[0]).is_relative_to(installed.venv), f"icsresearch imported from {where[0]}"
    assert where[1] == installed.version
    # the template, a replication notebook and the kernel's Python: all the fresh environment's
    assert all(Path(p).is_relative_to(installed.venv) for p in where[2:]), where
    listed = installed.run(installed.exe, "replicate", "--list")
    assert "asaria2022" in listed.stdout and "mchugh2021" in listed.stdout


def test_demo_runs_from_the_installed_wheel(installed):
    out = installed.work / "demo"
    done = installed.run(installed.exe, "demo", "--out", out, timeout=900)
    assert "Traceback" not in done.stdout + done.stderr
    assert "42 report(s) written" in " ".join(done.stdout.split())
    reports = out / "reports"
    folders = sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(folders) == 42
    for folder in folders:
        m = _manifest(folder / "manifest.json")
        assert m["status"] == "ok" and m["synthetic"] is True, folder.name
        assert (folder / "report.html").stat().st_size > 10_000
        assert m["environment"]["icsresearch"] == installed.version
        # a wheel carries no git history, so the version identifies the code; a revision here
        # would mean the code ran from the checkout (git works there), not from the wheel
        assert m["git_revision"] == "unknown"
        assert Path(m["notebook"]).is_relative_to(installed.venv)
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{f.name}/report.html"' in index for f in folders)
    assert "Synthetic demo data" in index
    panel = _manifest(out / "trust_year_panel.csv.manifest.json")
    assert panel["environment"]["icsresearch"] == installed.version


@pytest.mark.realdata
def test_a_real_report_runs_from_the_installed_wheel(installed):
    from icsresearch.data.registry import REGISTRY

    out = installed.work / "real"
    done = installed.run(
        installed.exe, "reports", "--ics", "QYG", "--source", "real", "--out", out, "-q",
        timeout=900,
    )  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr
    assert "1 report(s) written" in " ".join(done.stdout.split())
    m = _manifest(out / "QYG" / "manifest.json")
    assert m["status"] == "ok" and m["synthetic"] is False
    assert m["system"]["icb_code"] == "QYG"
    assert m["environment"]["icsresearch"] == installed.version and m["git_revision"] == "unknown"
    assert Path(m["notebook"]).is_relative_to(installed.venv)
    pinned = {e.name: e.sha256 for e in REGISTRY.values()}
    assert m["inputs"] and all(pinned[i["source"]] == i["sha256"] for i in m["inputs"])
    html = (out / "QYG" / "report.html").read_text(encoding="utf-8")
    assert "Cheshire" in html and "synthetic demo data" not in html.lower()
    assert 'href="QYG/report.html"' in (out / "index.html").read_text(encoding="utf-8")
