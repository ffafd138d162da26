"""``scaffold new-plugin``: a package that pip installs and the engine loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scaffold.commands.new_plugin import main as new_plugin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
ARCH = "MyLlamaForCausalLM"
FILES = {
    "pyproject.toml",
    "my_plugin/__init__.py",
    "my_plugin/my_llama.py",
    "tests/test_my_llama.py",
}


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (bytes), keyed by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file()
    }


def generate(out: Path, *extra: str) -> int:
    return new_plugin(["my_plugin", "--arch", ARCH, "--out", str(out), *extra])


@pytest.mark.parametrize(
    ("argv", "engine"),
    [
        ([], "vllm"),
        (["--engine", "vllm"], "vllm"),
        (["--engine", "vllm_stub"], "vllm_stub"),
    ],
)
def test_layout_entry_points_and_register(tmp_path, capsys, monkeypatch, argv, engine):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "plugin"
    assert generate(out, *argv) == 0
    assert set(files_under(out)) == FILES
    pyproject = tomllib.loads((out / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my_plugin"
    # Only the engine it is made for loads it (the other would fail to import
    # the model module, and a failing plugin stops vLLM from starting).
    assert pyproject["project"]["entry-points"] == {
        f"{engine}.general_plugins": {"my_plugin": "my_plugin:register"}
    }
    init = (out / "my_plugin/__init__.py").read_text()
    assert 'MODEL = "my_plugin.my_llama:MyLlamaForCausalLM"' in init
    assert f"from {engine}.model_executor.models import ModelRegistry" in init
    model = (out / "my_plugin/my_llama.py").read_text()
    other = {"vllm": "vllm_stub", "vllm_stub": "vllm"}[engine]
    assert f"from {engine}.config import" in model
    assert f"from {other}." not in model + init
    assert "from __future__ import annotations" not in model
    config = {"vllm": "PreTrainedConfig", "vllm_stub": "PretrainedConfig"}[engine]
    assert f"from transformers import {config}\n" in model
    printed = capsys.readouterr().out
    assert "Created plugin/my_plugin/__init__.py" in printed
    assert "pip install --no-deps ./plugin && pytest plugin/tests" in printed
    # The generated package is clean under its own ruff settings.
    for tool in (["check"], ["format", "--check"]):
        subprocess.run(["ruff", *tool, "."], check=True, cwd=out)


def test_printed_paths_and_commands_work_from_where_the_user_stands(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["my_plugin", "--arch", ARCH, "--out", "plugins/x"]
    assert new_plugin(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    created = [line.split(" ", 1)[1] for line in printed if line.startswith("Created")]
    assert "plugins/x/pyproject.toml" in created
    assert all(Path(path).is_file() for path in created)  # from here, as printed
    todo = [line for line in printed if ": " in line and line.startswith("  [ ] ")]
    assert todo and all(Path(t[6:].split(":")[0]).is_file() for t in todo)
    # The same install as CONTRIBUTING's plugin route: plain, --no-deps.
    assert (
        printed[-1]
        == "  [ ] pip install --no-deps ./plugins/x && pytest plugins/x/tests"
    )


@pytest.mark.parametrize("engine", ["vllm", "vllm_stub"])
@pytest.mark.parametrize("name", ["a_plugin", "zz_plugin", "vllm_x", "vllm_stubx"])
def test_imports_sort_as_ruff_sorts_them_for_any_name(tmp_path, engine, name):
    out = tmp_path / "plugin"
    argv = [name, "--arch", ARCH, "--out", str(out), "--engine", engine]
    assert new_plugin(argv) == 0
    for tool in (["check"], ["format", "--check"]):
        subprocess.run(["ruff", *tool, "."], check=True, cwd=out)


@pytest.mark.slow
def test_installed_plugin_is_loaded_by_the_engine_and_matches_llama(tmp_path, run):
    out, site = tmp_path / "plugin", tmp_path / "site"
    assert generate(out, "--engine", "vllm_stub") == 0
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    pip += ["--quiet", "--target", str(site), str(out)]
    subprocess.run(pip, check=True, capture_output=True)
    assert (site / "my_plugin" / "__init__.py").is_file()
    # The generated tests: entry point installed, greedy tokens equal to
    # transformers' Llama on a checkpoint whose architectures say ARCH (the
    # engine finds ARCH only through the plugin), register() re-entrant.
    result = run(
        ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=out,
        pythonpath=[site, ROOT],
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "3 passed" in result.stdout


def test_dry_run_prints_the_files_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert generate(tmp_path / "plugin", "--dry-run") == 0
    diff = capsys.readouterr().out
    assert "+++ b/plugin/my_plugin/__init__.py" in diff
    assert not (tmp_path / "plugin").exists()


def test_force_writes_into_a_used_folder(tmp_path, capsys):
    out = tmp_path / "plugin"
    out.mkdir()
    (out / "README.md").write_text("mine\n")
    assert generate(out, "--force") == 0
    first = files_under(out)
    assert set(first) == FILES | {"README.md"}
    capsys.readouterr()
    assert generate(out, "--force") == 0  # twice: nothing changes
    assert files_under(out) == first
    assert "Created" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["my_plugin", "--arch", ARCH], "exists and is not empty"),
        (["My-Plugin", "--arch", ARCH], "NAME 'My-Plugin' must be a lower-case"),
        (["Plugin", "--arch", ARCH], "NAME 'Plugin' must be a lower-case"),
        (["import", "--arch", ARCH], "NAME 'import' must be a lower-case"),
        (["vllm", "--arch", ARCH], "NAME 'vllm' is an engine's package"),
        (["vllm_stub", "--arch", ARCH], "NAME 'vllm_stub' is an engine's package"),
        (["my_plugin", "--arch", ARCH, "--engine", "sglang"], "invalid choice"),
        (["my_plugin", "--arch", "my_llama"], "--arch 'my_llama' must be"),
        (["my_plugin"], "the following arguments are required: --arch"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, message):
    out = tmp_path / "plugin"
    assert generate(out) == 0  # a used folder, for the first case
    before = files_under(tmp_path)
    capsys.readouterr()
    assert new_plugin([*argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert message in captured.err
    assert files_under(tmp_path) == before
