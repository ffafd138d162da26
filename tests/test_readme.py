"""The README's set-up commands: CI runs exactly the test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_command(heading_words: str) -> str:
    """The single line of the bash block that follows a sentence with these words."""
    text = (ROOT / "README.md").read_text()
    match = re.search(
        rf"{re.escape(heading_words)}[^\n]*\n+```bash\n(?P<cmd>[^\n]+)\n```", text
    )
    assert match, f"README has no command after {heading_words!r}"
    return match["cmd"]


def test_ci_runs_exactly_the_readme_test_command():
    command = readme_command("Install and run the tests")
    ci_lines = [
        line
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci_lines == [command]


def test_main_job_installs_only_the_core():
    command = readme_command("Install and run the main job")
    assert command.startswith("pip install . &&")
    assert "torch" not in command
