"""``scaffold demo``: the tour passes and never touches the user's files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scaffold.commands import demo
from scaffold.commands.demo import diff_summary, main

ROOT = Path(__file__).resolve().parents[2]


def git_status() -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--ignored"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
def test_demo_passes_from_an_empty_folder_and_leaves_it_empty(run, tmp_path):
    before = git_status()
    done = run(["python", "-m", "scaffold", "demo"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []
    # A summary of the diff, not the new file's 380 lines.
    assert "  vllm_stub/model_executor/models/mistral.py  +" in done.stdout
    assert "+++ b/vllm_stub/model_executor/models/mistral.py" not in done.stdout
    assert len(done.stdout.splitlines()) < 60
    assert "Writing model shards" not in done.stdout + done.stderr
    assert "greedy tokens equal     yes" in done.stdout
    assert "-> text '" in done.stdout  # the generation, decoded
    assert done.stdout.rstrip().endswith("demo passed")
    assert git_status() == before  # the repository is untouched too


def test_diff_summary_counts_lines_per_file():
    diff = (
        "--- a/r.py\n+++ b/r.py\n@@ -1 +1,2 @@\n x\n+y\n"
        "--- /dev/null\n+++ b/m.py\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        "--- a/d.md\n+++ b/d.md\n@@ -1,2 +1 @@\n-gone\n kept\n"
    )
    assert diff_summary(diff) == ["  r.py  +1 -0", "  m.py  +2 -0", "  d.md  +0 -1"]


@pytest.mark.slow
def test_each_step_reports_for_itself(tmp_path, monkeypatch, capsys):
    # A bad architecture name: step 1 fails, check still runs (and is clean),
    # verify and the generation are reported as skipped, the tour fails.
    monkeypatch.setattr(demo, "NEW_MODEL_ARGS", ["mistral"])
    assert demo.tour(tmp_path) is False
    out = capsys.readouterr().out
    assert "[2/4] scaffold check\nclean" in out
    assert "skipped: step 1 did not add the model" in out
    assert "check failed" not in out


def test_keep_refuses_a_non_empty_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "something").write_text("x")
    monkeypatch.chdir(ROOT)
    assert main(["--keep", str(tmp_path)]) == 2
    assert "--keep folder is not empty" in capsys.readouterr().err
