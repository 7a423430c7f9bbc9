"""The wheel carries the rules and schemas, and works from any directory; CI runs the README's command."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, cwd=tmp_path)
    (wheel,) = dist.glob("cin_validate-*.whl")
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # The dependencies come from the test environment: a plain path entry, so that environment's own
    # start-up hooks (such as an editable install of this project) do not load.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import validator.paths as p; print(p.rules_dir(), p.schemas_dir())"],
                           capture_output=True, text=True, check=True, cwd=elsewhere).stdout
    assert str(target) in where and str(ROOT) not in where
    reader = subprocess.run([str(python), "-c", "import validator._tables as t; print(t.__file__)"],
                            capture_output=True, text=True, cwd=elsewhere)
    assert reader.returncode == 0 and str(target) in reader.stdout, "the compiled reader is not in the wheel"
    result = subprocess.run([str(target / "bin" / "cin-validate"), str(ROOT / "fixtures" / "clean-2025-26.xml")],
                            capture_output=True, text=True, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "No problems found" in result.stdout
    listed = subprocess.run([str(target / "bin" / "cin-validate"), "--list-rules", "--year", "2026-27"],
                            capture_output=True, text=True, cwd=elsewhere)
    assert listed.returncode == 0 and "8610" in listed.stdout


def _readme_block(marker: str) -> str:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index(f"<!-- {marker} -->")
    assert lines[start + 1] == "```"
    return lines[start + 2]


def test_ci_runs_the_readme_test_command():
    command = _readme_block("test command")
    printed = subprocess.run(
        ["awk", '/<!-- test command -->/ {found=1; next} found && /^```$/ {if (inside) exit; inside=1; next} '
         'inside {print; exit}', "README.md"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    assert printed == command
    assert "awk '/<!-- test command -->/" in (ROOT / ".ci" / "run").read_text()
    assert "pytest" in command and "pip install" in command and "venv" in command


def test_readme_run_command_checks_a_bundled_return():
    command = _readme_block("run command")
    fixture = command.rsplit(" ", 1)[-1]
    assert (ROOT / fixture).is_file() and "cin-validate" in command
