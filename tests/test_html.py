"""The HTML report: self-contained, and it renders in a real headless Chromium without errors."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from validator import validate
from validator.formats.html_format import render

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    report = validate(ROOT / "fixtures" / "broken-2025-26.xml", population=20000)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render([report]), encoding="utf-8")
    return path


def test_page_is_self_contained(page):
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<link" not in text and " src=" not in text
    assert "default-src 'none'" in text
    for title in ("Assessment duration", "Strategy discussion to ICPC", "child protection plans ended",
                  "Factors identified at assessment", "Referrals by source"):
        assert title in text
    assert "8610" in text and "Preview indicators" in text


def test_page_renders_in_headless_chromium(page, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed here")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--virtual-time-budget=3000"]
    result = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                            timeout=120)
    dom = result.stdout
    assert 'data-ready="yes"' in dom, result.stderr[-2000:]  # the page's script ran to its end
    assert len(re.findall(r"<svg", dom)) >= 5
    assert len(re.findall(r'<rect class="bar"', dom)) >= 10
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri()],
                   capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000
