"""A run killed inside its apply leaves a tree the next command restores.

The kill comes from the ``SCAFFOLD_KILL_AT`` fault hook, so every point of
the commit window is hit exactly; one test also kills by timing.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from scaffold.transaction import JOURNAL_NAME

# The template route touches five files: registry, docs, examples, the model
# file and its generated test.
NEW_MODEL = [
    "new-model",
    "OrcaForCausalLM",
    "--models",
    "Orca",
    "--hf-example",
    "acme/orca",
]
FILES = 5
KILL_POINTS = [
    "journal",
    *(f"stage:{n}" for n in range(1, FILES + 1)),
    *(f"commit:{n}" for n in range(1, FILES + 1)),
    "done",
]


def scaffold(tree, *argv, run, env=None):
    return run(["python", "-m", "scaffold", *argv], cwd=tree, env=env)


def killed_run(tree, point, run):
    result = scaffold(tree, *NEW_MODEL, run=run, env={"SCAFFOLD_KILL_AT": point})
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert (tree / JOURNAL_NAME).exists()


def assert_rolled_back(tree, before, take_snapshot, run, command=("check",)):
    result = scaffold(tree, *command, run=run)
    assert "rolled back an interrupted scaffold run" in result.stderr
    assert take_snapshot(tree) == before  # no file, temp file or journal left


@pytest.mark.parametrize("point", ["commit:3"])
def test_killed_mid_commit_then_check_restores_before(
    embedded_tree, take_snapshot, run, point
):
    before = take_snapshot(embedded_tree)
    killed_run(embedded_tree, point, run)
    assert take_snapshot(embedded_tree) != before  # half written, as promised
    assert_rolled_back(embedded_tree, before, take_snapshot, run)
    # ... and the same command then lands whole.
    assert scaffold(embedded_tree, *NEW_MODEL, run=run).returncode == 0
    assert scaffold(embedded_tree, "check", run=run).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_every_kill_point_is_recovered(embedded_tree, take_snapshot, run, point):
    before = take_snapshot(embedded_tree)
    killed_run(embedded_tree, point, run)
    assert_rolled_back(embedded_tree, before, take_snapshot, run)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [NEW_MODEL, ["remove", "LlamaForCausalLM", "--dry-run"]]
)
def test_writers_and_dry_runs_recover_first(embedded_tree, take_snapshot, run, command):
    before = take_snapshot(embedded_tree)
    killed_run(embedded_tree, "commit:2", run)
    result = scaffold(embedded_tree, *command, run=run)
    assert result.returncode == 0, result.stderr
    assert "rolled back an interrupted scaffold run" in result.stderr
    if "--dry-run" in command:
        assert take_snapshot(embedded_tree) == before


@pytest.mark.slow
def test_a_file_changed_after_the_crash_is_not_overwritten(
    embedded_tree, take_snapshot, run
):
    killed_run(embedded_tree, "commit:2", run)
    journal = json.loads((embedded_tree / JOURNAL_NAME).read_text())
    first = embedded_tree / journal["writes"][0]["path"]
    first.write_text("edited by hand after the crash\n")
    after_edit = take_snapshot(embedded_tree)
    result = scaffold(embedded_tree, "check", run=run)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert JOURNAL_NAME in line and "has changed since" in line
    assert take_snapshot(embedded_tree) == after_edit


@pytest.mark.parametrize(
    "journal",
    ['{"token": "ab", "wri', '{"writes": []}', '{"token": "ab", "writes": [{}]}'],
    ids=["truncated", "no token", "entry without fields"],
)
def test_an_unreadable_journal_is_one_line(embedded_tree, take_snapshot, run, journal):
    (embedded_tree / JOURNAL_NAME).write_text(journal)
    before = take_snapshot(embedded_tree)
    result = scaffold(embedded_tree, "check", run=run)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "the journal cannot be read" in line
    assert take_snapshot(embedded_tree) == before


@pytest.mark.slow
def test_a_half_written_journal_is_cleaned(embedded_tree, take_snapshot, run):
    before = take_snapshot(embedded_tree)
    (embedded_tree / f"{JOURNAL_NAME}.0badc0de.tmp").write_text('{"tok')
    assert scaffold(embedded_tree, *NEW_MODEL, "--dry-run", run=run).returncode == 0
    assert take_snapshot(embedded_tree) == before


@pytest.mark.slow
def test_kills_at_random_moments_leave_before_or_after(
    embedded_tree, take_snapshot, run
):
    """Timing kills, as a user's Ctrl-\\ would: never a tree in between."""
    before = take_snapshot(embedded_tree)
    rng = random.Random(14)
    for _ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "scaffold", *NEW_MODEL],
            cwd=embedded_tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        scaffold(embedded_tree, "check", run=run)  # recovers if needed
        now = take_snapshot(embedded_tree)
        if now == before:
            continue
        assert (
            "OrcaForCausalLM"
            in now["vllm_stub/model_executor/models/registry.py"].decode()
        )
        assert len(set(now) - set(before)) == 2  # the model file and its test
        removed = scaffold(embedded_tree, "remove", "OrcaForCausalLM", run=run)
        assert removed.returncode == 0, removed.stderr
        assert take_snapshot(embedded_tree) == before
