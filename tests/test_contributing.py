"""Every command in CONTRIBUTING.md runs, in order, in a temporary tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bash_blocks() -> list[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_setup_block_is_the_readme_test_command_that_ci_runs():
    setup = bash_blocks()[0].strip()
    assert f"```bash\n{setup}\n```" in (ROOT / "README.md").read_text()
    assert setup in (ROOT / ".ci/run").read_text()


@pytest.mark.slow
def test_every_other_command_runs_in_a_temporary_tree(embedded_tree, tmp_path, run):
    # The set-up block is CI's own command (checked above), not rerun here.
    script = "set -euxo pipefail\n" + "".join(bash_blocks()[1:])
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "start"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=embedded_tree,
            check=True,
            capture_output=True,
        )
    # pip installs into a venv of the test, never into the running environment
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True
    )
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    done = run(
        ["bash", "-c", script], cwd=embedded_tree, env={"PATH": path}, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo passed" in done.stdout
    installed = list(venv.glob("lib/python*/site-packages/my_llama_plugin"))
    assert installed and (installed[0] / "__init__.py").is_file()
    assert (embedded_tree / "vllm_stub/model_executor/models/mistral.py").is_file()
