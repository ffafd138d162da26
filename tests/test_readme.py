"""The README's set-up commands: CI runs exactly the test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def readme_command(heading_words: str) -> str:
    """The single line of the bash block that follows a sentence with these words."""
    text = (ROOT / "README.md").read_text()
    match = re.search(
        rf"{re.escape(heading_words)}.*?```bash\n(?P<cmd>[^\n]+)\n```", text, re.S
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


def test_main_job_runs_the_tour_on_the_cpu_torch():
    command = readme_command("Install and run the main job")
    assert command.startswith("pip install torch==2.13.0 && ")
    assert command.endswith("&& scaffold demo")


def test_core_install_pulls_no_torch():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert "torch" not in core and "transformers" not in core
    assert any(
        d.startswith("torch>=") for d in project["optional-dependencies"]["runtime"]
    )


@pytest.mark.slow
def test_python_api_section_runs_as_written(tmp_path, run):
    """The README's Python block, on a tiny checkpoint in place of its path."""
    from scaffold.verify.parity import build_checkpoint

    build_checkpoint("LlamaForCausalLM", None, tmp_path / "ckpt")
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The engine from Python") :]
    block = re.search(r"```python\n(?P<code>.*?)```", section, re.S)["code"]
    code = block.replace("path/to/checkpoint", str(tmp_path / "ckpt"))
    code += "\nassert 'MyLlamaForCausalLM' in ModelRegistry.get_supported_archs()\n"
    done = run(["python", "-c", code], cwd=tmp_path, pythonpath=[ROOT])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("[")  # the printed prompt token ids


def test_setup_py_cites_no_document_the_repository_lacks():
    assert "DESIGN" not in (ROOT / "setup.py").read_text()
