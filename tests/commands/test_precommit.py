"""The hooks through the real pre-commit client (``pre-commit try-repo``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

REGISTRY = """\
_TEXT_GENERATION_MODELS = {
    # [Decoder-only]
    "Qwen2ForCausalLM": ("qwen2", "Qwen2ForCausalLM"),
    "LlamaForCausalLM": ("llama", "LlamaForCausalLM"),
}
"""
EXAMPLES = """\
_TEXT_GENERATION_EXAMPLE_MODELS = {
    "LlamaForCausalLM": _HfExamplesInfo("meta-llama/Llama-3.2-1B"),
    "Qwen2ForCausalLM": _HfExamplesInfo("Qwen/Qwen2-0.5B"),
}
"""
DOCS = """\
## List of Text-only Language Models

### Generative Models

#### Text Generation

| Architecture | Models | Example HF Models | LoRA | PP |
|--------------|--------|-------------------|------|----|
| `LlamaForCausalLM` | Llama | `meta-llama/Llama-3.2-1B` | ✅︎ | ✅︎ |
| `Qwen2ForCausalLM` | Qwen2 | `Qwen/Qwen2-0.5B` | ✅︎ | ✅︎ |
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("upstream")
    models = repo / "vllm" / "model_executor" / "models"
    models.mkdir(parents=True)
    (models / "registry.py").write_text(REGISTRY)
    (models / "llama.py").write_text("class LlamaForCausalLM:\n    pass\n")
    (models / "qwen2.py").write_text("class Qwen2ForCausalLM:\n    pass\n")
    (repo / "tests" / "models").mkdir(parents=True)
    (repo / "tests" / "models" / "registry.py").write_text(EXAMPLES)
    (repo / "docs" / "models").mkdir(parents=True)
    (repo / "docs" / "models" / "supported_models.md").write_text(DOCS)
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return repo


def try_repo(repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        ["pre-commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_check_fails_fix_rewrites_then_check_passes(user_repo, tmp_path):
    registry = user_repo / "vllm/model_executor/models/registry.py"
    failed = try_repo(user_repo, "scaffold-check", tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "[order] LlamaForCausalLM should come before Qwen2ForCausalLM" in (
        failed.stdout
    )
    assert registry.read_text() == REGISTRY  # check never writes

    fixed = try_repo(user_repo, "scaffold-fix", tmp_path)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "Fixing vllm/model_executor/models/registry.py" in fixed.stdout
    assert registry.read_text().index("LlamaForCausalLM") < registry.read_text().index(
        "Qwen2ForCausalLM"
    )

    passed = try_repo(user_repo, "scaffold-check", tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_this_repository_passes_its_own_hooks(tmp_path):
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path)}
    for hook in ("scaffold-check", "ruff", "ruff-format"):
        done = subprocess.run(
            ["pre-commit", "run", hook, "--all-files"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
