"""The tree lock: a kernel lock on the root that a dead holder cannot keep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from scaffold.errors import ScaffoldError
from scaffold.lock import tree_lock

LOCKED_INCREMENT = """\
import sys, time
from pathlib import Path
from scaffold.lock import tree_lock
root = Path(sys.argv[1])
with tree_lock(root):
    counter = root / "counter"
    value = int(counter.read_text())
    time.sleep(0.05)
    counter.write_text(str(value + 1))
"""

HOLD_FOREVER = """\
import sys, time
from pathlib import Path
from scaffold.lock import tree_lock
with tree_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def increment(root, count):
    procs = [
        subprocess.Popen([sys.executable, "-c", LOCKED_INCREMENT, str(root)])
        for _ in range(count)
    ]
    return [p.wait(timeout=60) for p in procs]


def test_lock_serialises_concurrent_processes(tmp_path):
    (tmp_path / "counter").write_text("0")
    assert increment(tmp_path, 8) == [0] * 8
    assert (tmp_path / "counter").read_text() == "8"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter"]


@pytest.mark.parametrize(
    "content",
    ["", *(pytest.param(c, marks=pytest.mark.slow) for c in ["1", "junk", "99999999"])],
)
def test_an_old_pid_lock_file_is_ignored(tmp_path, content):
    """The pid file of earlier releases (empty, foreign, dead): no wait, untouched."""
    (tmp_path / ".scaffold.lock").write_text(content)
    (tmp_path / "counter").write_text("0")
    # Well under the 60 s the pid-file lock waited on a lock it could not judge.
    assert increment(tmp_path, 4) == [0] * 4
    assert (tmp_path / "counter").read_text() == "4"
    assert (tmp_path / ".scaffold.lock").read_text() == content


def test_a_killed_holder_releases_the_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOREVER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ScaffoldError, match="another scaffold run"):
        with tree_lock(tmp_path, timeout=0.2):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with tree_lock(tmp_path, timeout=5):
        pass  # the kernel released it with the process


def test_a_missing_root_is_one_error(tmp_path):
    with pytest.raises(ScaffoldError, match="cannot lock the tree"):
        with tree_lock(tmp_path / "nope"):
            pass
