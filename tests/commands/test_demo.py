"""``scaffold demo``: the tour passes and never touches the user's files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scaffold.commands.demo import main

ROOT = Path(__file__).resolve().parents[2]


def git_status() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
def test_demo_passes_and_leaves_git_status_unchanged(run):
    before = git_status()
    done = run(["python", "-m", "scaffold", "demo"], cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "+++ b/vllm_stub/model_executor/models/mistral.py" in done.stdout
    assert "greedy tokens equal     yes" in done.stdout
    assert done.stdout.rstrip().endswith("demo passed")
    assert git_status() == before


def test_keep_refuses_a_non_empty_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "something").write_text("x")
    monkeypatch.chdir(ROOT)
    assert main(["--keep", str(tmp_path)]) == 2
    assert "--keep folder is not empty" in capsys.readouterr().err
