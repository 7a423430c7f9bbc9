"""Real pre-commit, in a temporary repository, using this repository's hook definition."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="module")
def pre_commit():
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    return [sys.executable, "-m", "pre_commit"]


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.invalid", "HOME": str(cwd), "PATH": "/usr/bin:/bin"})


def test_hook_passes_a_clean_return_and_fails_a_broken_one(tmp_path, pre_commit):
    repo = tmp_path / "returns"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copy(FIXTURES / "clean-2025-26.xml", repo / "clean.xml")
    shutil.copy(FIXTURES / "broken-2025-26.xml", repo / "broken.xml")
    _git(repo, "add", "clean.xml", "broken.xml")
    home = tmp_path / "cache"
    env = {"PRE_COMMIT_HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path)}

    def try_repo(*files):
        return subprocess.run([*pre_commit, "try-repo", str(ROOT), "cin-validate", "--files", *files],
                              cwd=repo, capture_output=True, text=True, env=env, timeout=900)

    passed = try_repo("clean.xml")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
    failed = try_repo("broken.xml")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout and "8610" in failed.stdout
