"""The benchmark command runs (at 1,000 children here; the 50,000-child figures are made by hand)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_at_a_thousand_children():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "1000", "--runs", "1"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 1,000 children")]
    assert len(rows) == 2  # clean, and with breaches
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert re.fullmatch(r"[\d.]+ s / \d+ MB", cells[4]) and re.fullmatch(r"[\d.]+x", cells[5])
