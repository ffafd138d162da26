"""Plan: diffs, JSON, and all-or-nothing apply."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scaffold import plan as plan_module
from scaffold import transaction
from scaffold.errors import ScaffoldError
from scaffold.plan import Plan
from scaffold.textio import read_raw


def make_plan(tmp_path: Path) -> tuple[Plan, dict[Path, bytes]]:
    files = {
        "a.py": b"alpha = 1\r\nbeta = 2\r\n",
        "b.md": "| `A` | \u2705\ufe0e |\n".encode(),
        "c.py": b"no_final_newline = 1",
        "gone.py": b"x = 1\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    plan = Plan(tmp_path)
    plan.add(tmp_path / "a.py", read_raw(tmp_path / "a.py"), "alpha = 1\r\nnew\r\n")
    plan.add(tmp_path / "b.md", read_raw(tmp_path / "b.md"), "| `A` | |\n")
    plan.add(tmp_path / "c.py", read_raw(tmp_path / "c.py"), "no_final_newline = 2")
    plan.add(tmp_path / "sub" / "new.py", None, "created = True\n")
    plan.add(tmp_path / "gone.py", read_raw(tmp_path / "gone.py"), None)
    return plan, snapshot(tmp_path)


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_unchanged_files_are_not_planned(tmp_path):
    plan = Plan(tmp_path)
    plan.add(tmp_path / "x", "same", "same")
    assert plan.changes == []


def test_diff_and_json(tmp_path):
    plan, before = make_plan(tmp_path)
    diff = plan.diff()
    assert "--- a/a.py\n+++ b/a.py\n" in diff
    assert "-beta = 2\r\n+new\r\n" in diff
    assert "--- /dev/null\n+++ b/sub/new.py\n" in diff
    assert "--- a/gone.py\n+++ /dev/null\n" in diff
    assert "\\ No newline at end of file" in diff
    data = plan.to_json()
    assert [(c["path"], c["action"]) for c in data["changes"]] == [
        ("a.py", "modify"),
        ("b.md", "modify"),
        ("c.py", "modify"),
        ("sub/new.py", "create"),
        ("gone.py", "delete"),
    ]
    assert snapshot(tmp_path) == before  # planning writes nothing


def test_apply_writes_exact_bytes(tmp_path):
    plan, _ = make_plan(tmp_path)
    plan.apply()
    assert (tmp_path / "a.py").read_bytes() == b"alpha = 1\r\nnew\r\n"
    assert (tmp_path / "b.md").read_bytes() == b"| `A` | |\n"
    assert (tmp_path / "c.py").read_bytes() == b"no_final_newline = 2"
    assert (tmp_path / "sub" / "new.py").read_text() == "created = True\n"
    assert not (tmp_path / "gone.py").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


@pytest.mark.parametrize("failing_call", [1, 3, 5])
def test_failure_during_renames_restores_every_file(
    tmp_path, monkeypatch, failing_call
):
    plan, before = make_plan(tmp_path)
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == failing_call:
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(plan_module.os, "replace", flaky_replace)
    with pytest.raises(ScaffoldError, match="nothing was changed"):
        plan.apply()
    monkeypatch.setattr(plan_module.os, "replace", real_replace)
    after = snapshot(tmp_path)
    assert after == before


def test_failure_while_staging_writes_nothing(tmp_path, monkeypatch):
    plan, before = make_plan(tmp_path)
    real_write = transaction._write_new
    calls = []

    def flaky_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the journal, then the 1st and 2nd staged files
            raise OSError(28, "No space left on device")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(transaction, "_write_new", flaky_write)
    with pytest.raises(ScaffoldError, match="No space left"):
        plan.apply()
    assert snapshot(tmp_path) == before
