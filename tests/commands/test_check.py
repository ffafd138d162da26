"""``scaffold check`` and ``--fix`` on the quirky fixture and in real git repos."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from scaffold.check import check_tree
from scaffold.commands.check import main
from scaffold.commands.new_model import main as new_model
from scaffold.ordering import family_key
from scaffold.pydict.parse import parse_source
from scaffold.tree import find_tree

REGISTRY = "vllm/model_executor/models/registry.py"
EXAMPLES = "tests/models/registry.py"
DOCS = "docs/models/supported_models.md"

# From tests/fixtures/vllm_tree/README.md ("Known problems").
KNOWN_ORDER = {
    REGISTRY: [12, 19, 25, 27, 37, 44, 60, 61, 69, 91, 100, 105, 112, 114, 115],
    EXAMPLES: [27, 74, 88, 125, 133, 146, 156],
    DOCS: [29, 32, 39, 60, 61, 63, 64, 96, 99, 101],
}
KNOWN_CONSISTENCY = {
    ("docs-extra", "FalconForCausalLM"),
    ("docs-missing", "HunYuanDenseV1ForCausalLM"),
    ("docs-missing", "DeepseekOCRForCausalLM"),
    ("module-missing", "KimiLinearForCausalLM"),
    ("class-missing", "StableLMEpochForCausalLM"),
    ("example-missing", "Step3TextForCausalLM"),
    ("example-missing", "TarsierForConditionalGeneration"),
}


def order_lines(root: Path) -> dict[str, list[int]]:
    findings = check_tree(find_tree(root), family_key).findings
    lines: dict[str, list[int]] = {}
    for finding in findings:
        if finding.code == "order":
            lines.setdefault(finding.path, []).append(finding.line)
    return lines


def test_fixture_known_problems(fixture_tree):
    findings = check_tree(find_tree(fixture_tree), family_key).findings
    assert order_lines(fixture_tree) == KNOWN_ORDER
    others = {(f.code, f.arch) for f in findings if f.code != "order"}
    assert others == KNOWN_CONSISTENCY


def test_json_findings(fixture_tree, capsys):
    assert main(["--root", str(fixture_tree), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {tuple(sorted(item)) for item in data} == {
        ("arch", "code", "line", "message", "path")
    }
    located = [(i["code"], i["path"], i["line"], i["arch"]) for i in data]
    assert ("class-missing", REGISTRY, 44, "StableLMEpochForCausalLM") in located


def layout(text: str) -> dict[str, object]:
    """What --fix must keep: entries with their own comments, and fixed lines."""
    source = parse_source(text)
    lines = text.splitlines()
    owned: set[int] = set()
    entries = Counter()
    for name, literal in source.dicts.items():
        for entry in literal.entries:
            block = lines[entry.first_line - 1 : entry.last_line]
            entries[(name, entry.section, "\n".join(block))] += 1
            owned.update(range(entry.first_line, entry.last_line + 1))
    fixed = {n: line for n, line in enumerate(lines, 1) if n not in owned}
    return {"entries": entries, "fixed": fixed}


def normalise_comma(block: str) -> str:
    return block if block.rstrip().endswith(",") else block + ","


def test_fix_sorts_and_keeps_everything_else(fixture_tree, take_snapshot, capsys):
    before = {p: (fixture_tree / p).read_text() for p in (REGISTRY, EXAMPLES, DOCS)}
    assert main(["--root", str(fixture_tree), "--fix"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        f"Fixing {REGISTRY}",
        f"Fixing {EXAMPLES}",
        f"Fixing {DOCS}",
    ]
    assert order_lines(fixture_tree) == {}
    for path in (REGISTRY, EXAMPLES):
        old, new = layout(before[path]), layout((fixture_tree / path).read_text())
        assert new["fixed"] == old["fixed"]  # headers, splats, footers stay put
        assert Counter(
            {(n, s, normalise_comma(b)): c for (n, s, b), c in new["entries"].items()}
        ) == Counter(
            {(n, s, normalise_comma(b)): c for (n, s, b), c in old["entries"].items()}
        )
    docs_old = before[DOCS].splitlines()
    docs_new = (fixture_tree / DOCS).read_text().splitlines()
    assert Counter(docs_old) == Counter(docs_new)
    fixed_once = take_snapshot(fixture_tree)
    assert main(["--root", str(fixture_tree), "--fix"]) == 1  # unfixable remain
    assert "Fixing" not in capsys.readouterr().out
    assert take_snapshot(fixture_tree) == fixed_once


def test_fix_on_a_clean_tree_exits_0(embedded_tree, take_snapshot, capsys):
    before = take_snapshot(embedded_tree)
    assert main(["--root", str(embedded_tree), "--fix"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "clean: 8 architectures, no findings"
    ]
    assert take_snapshot(embedded_tree) == before


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def fixture_repo(fixture_tree) -> Path:
    git(fixture_tree, "init", "-q")
    git(fixture_tree, "add", ".")
    git(fixture_tree, "commit", "-qm", "messy upstream")
    return fixture_tree


def since(repo: Path, capsys) -> tuple[int, list[str]]:
    """Exit code and the finding lines (the "clean: ..." line left out)."""
    code = main(["--root", str(repo), "--since", "HEAD"])
    lines = capsys.readouterr().out.splitlines()
    return code, [line for line in lines if not line.startswith("clean: ")]


def test_since_grandfathers_old_disorder(fixture_repo, capsys):
    assert since(fixture_repo, capsys) == (0, [])


def test_since_correctly_placed_new_entry_is_clean(fixture_repo, capsys):
    argv = ["ZambaForCausalLM", "--alias-of", "llama:LlamaForCausalLM"]
    assert new_model([*argv, "--root", str(fixture_repo)]) == 0
    capsys.readouterr()
    assert since(fixture_repo, capsys) == (0, [])


def test_since_reports_a_misplaced_new_entry_and_its_gaps(fixture_repo, capsys):
    registry = fixture_repo / REGISTRY
    text = registry.read_text()
    anchor = '    "AquilaModel": ("llama", "LlamaForCausalLM"),\n'
    assert anchor in text
    registry.write_text(
        text.replace(
            anchor, anchor + '    "ZzzForCausalLM": ("llama", "LlamaForCausalLM"),\n'
        )
    )
    code, lines = since(fixture_repo, capsys)
    assert code == 1
    codes = sorted(line.split("[")[1].split("]")[0] for line in lines)
    assert codes == ["docs-missing", "example-missing", "order"]
    assert all("ZzzForCausalLM" in line for line in lines)


def test_since_bad_revision_and_no_repository(fixture_tree, capsys):
    assert main(["--root", str(fixture_tree), "--since", "HEAD"]) == 2
    assert "not a git repository" in capsys.readouterr().err
    git(fixture_tree, "init", "-q")
    git(fixture_tree, "add", ".")
    git(fixture_tree, "commit", "-qm", "x")
    assert main(["--root", str(fixture_tree), "--since", "no-such-ref"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--since no-such-ref: unknown git revision" in err[0]


def test_unparsable_registry_is_exit_2_with_its_line(embedded_tree, capsys):
    registry = embedded_tree / "vllm_stub/model_executor/models/registry.py"
    lines = registry.read_text().splitlines(keepends=True)
    broken = next(i for i, line in enumerate(lines) if '"Qwen2ForCausalLM"' in line)
    lines[broken] = lines[broken].replace("),", ")")
    registry.write_text("".join(lines))
    assert main(["--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vllm_stub/model_executor/models/registry.py:")
    assert "\n" not in err and "Traceback" not in err


def test_bad_value_is_a_finding_and_missing_table_a_note(embedded_tree, capsys):
    registry = embedded_tree / "vllm_stub/model_executor/models/registry.py"
    registry.write_text(
        registry.read_text().replace(
            '"XverseForCausalLM": ("llama", "LlamaForCausalLM"),',
            '"XverseForCausalLM": "llama.LlamaForCausalLM",',
        )
    )
    docs = embedded_tree / "docs/models/supported_models.md"
    docs.write_text("# Supported models\n\nNo tables yet.\n")
    assert main(["--root", str(embedded_tree)]) == 1
    captured = capsys.readouterr()
    assert "[bad-entry] XverseForCausalLM" in captured.out
    assert "no text-generation table; not checked" in captured.err


@pytest.mark.parametrize(
    ("stand_in", "registry_shown"),
    [
        (".", "vllm/model_executor/models/registry.py"),
        ("vllm/model_executor", "models/registry.py"),
        ("..", "vllm_tree/vllm/model_executor/models/registry.py"),
    ],
)
def test_paths_are_relative_to_where_the_user_stands(
    fixture_tree, monkeypatch, capsys, stand_in, registry_shown
):
    monkeypatch.chdir(fixture_tree / stand_in)
    # Above the tree, the walk up from here cannot find it: name it.
    assert main(["--root", "vllm_tree"] if stand_in == ".." else []) == 1
    out = capsys.readouterr().out
    assert f"\n{registry_shown}:12: [order] AquilaForCausalLM" in f"\n{out}"
