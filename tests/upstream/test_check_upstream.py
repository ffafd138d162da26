"""check, --fix, new-model --alias-of and remove on vLLM 0.33.0's own tree."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from scaffold.commands.check import main as check
from scaffold.commands.new_model import main as new_model
from scaffold.commands.remove import main as remove
from scaffold.pydict import parse_source

REGISTRY = "vllm/model_executor/models/registry.py"
ENTRY_KEY = re.compile(r'    "(\w+)":')  # an entry's key line, at the dicts' indent
EXAMPLES = "tests/models/registry.py"

# What a maintainer would agree with, by code. docs-extra: a removed model
# (_PREVIOUSLY_SUPPORTED_MODELS) still has a docs row. docs-missing: registered
# architectures no docs page names.
KNOWN_DOCS_EXTRA = ["MiniMaxVL01ForConditionalGeneration"]
KNOWN_DOCS_MISSING = 34
# Order findings the family key adds over plain case-insensitive sorting: each
# is a base listed after its own variant (DESIGN §4: base first).
FAMILY_ONLY_ORDER = {
    "LLaMAForCausalLM",  # below Llama4ForCausalLM
    "LlamaModel",  # below LlamaBidirectionalModel
    "LlavaOnevisionForConditionalGeneration",  # below LlavaOnevision2...
    "MiMoV2ForCausalLM",  # below MiMoV2FlashForCausalLM
    "Qwen2_5OmniModel",  # below Qwen2_5_VL... (underscores ignored)
    "Qwen2_5OmniThinkerForConditionalGeneration",
    "RForConditionalGeneration",  # below RadioMBartPrefixForCausalLM
}


def findings(tree: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    """``scaffold check --json`` on ``tree``."""
    check(["--root", str(tree), "--json", *args])
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_check_reports_only_what_a_maintainer_would_agree_with(upstream_tree, capsys):
    found = findings(upstream_tree, capsys)
    codes = Counter(finding["code"] for finding in found)
    assert set(codes) == {"order", "docs-missing", "docs-extra"}
    assert [f["arch"] for f in found if f["code"] == "docs-extra"] == KNOWN_DOCS_EXTRA
    assert codes["docs-missing"] == KNOWN_DOCS_MISSING
    # Case-equal names (ExaoneMoE/ExaoneMoe) are never order findings, and
    # versions compare digit by digit (DeepseekV32 before DeepseekV4).
    casefold = findings(upstream_tree, capsys, "--key", "casefold")
    family_order = {
        (f["path"], f["line"], f["arch"]) for f in found if f["code"] == "order"
    }
    casefold_order = {
        (f["path"], f["line"], f["arch"]) for f in casefold if f["code"] == "order"
    }
    assert len(family_order) <= len(casefold_order)
    assert {arch for _, _, arch in family_order - casefold_order} == FAMILY_ONLY_ORDER
    flagged = {arch for _, _, arch in family_order}
    assert not {"ExaoneMoeForCausalLM", "DeepseekV4ForCausalLM", "KimiK3"} & flagged


def dict_keys(text: str) -> dict[str, list[str]]:
    return {
        name: [e.key for e in d.entries] for name, d in parse_source(text).dicts.items()
    }


@pytest.mark.slow
def test_fix_sorts_only_checked_dicts_keeps_everything_and_is_idempotent(
    upstream_tree, capsys
):
    before = {path: (upstream_tree / path).read_text() for path in (REGISTRY, EXAMPLES)}
    assert check(["--root", str(upstream_tree), "--fix"]) == 1
    printed = capsys.readouterr().out
    assert f"Fixing {REGISTRY}" in printed
    for path, text in before.items():
        after = (upstream_tree / path).read_text()
        assert sorted(after.splitlines()) == sorted(text.splitlines())  # no line lost
        old, new = dict_keys(text), dict_keys(after)
        assert {k: sorted(v) for k, v in old.items()} == {
            k: sorted(v) for k, v in new.items()
        }
    after = dict_keys((upstream_tree / REGISTRY).read_text())
    old = dict_keys(before[REGISTRY])
    for untouched in ("_PREVIOUSLY_SUPPORTED_MODELS", "_OOT_SUPPORTED_MODELS"):
        assert after[untouched] == old[untouched]  # check never reports on them
    assert check(["--root", str(upstream_tree), "--fix"]) == 1  # findings remain
    assert "Fixing" not in capsys.readouterr().out  # but nothing was rewritten


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "path", "entry_above"),
    [
        # Through the **{...} splat: after XLMRobertaModel, not before the splat.
        (
            [
                "ZetaModel",
                "--kind",
                "embedding",
                "--alias-of",
                "llama:LlamaForCausalLM",
            ],
            REGISTRY,
            "XLMRobertaModel",
        ),
        # Sections are per file: the registry dict has none, the examples [MTP].
        (
            ["OrcaMTPModel", "--kind", "speculative", "--section", "MTP"]
            + ["--alias-of", "llama:LlamaForCausalLM"],
            EXAMPLES,
            "OpenPanguMTPModel",
        ),
    ],
)
def test_alias_lands_in_the_right_slot_and_remove_undoes_it(
    upstream_tree, argv, path, entry_above
):
    pristine = (upstream_tree / path).read_text()
    assert new_model([*argv, "--root", str(upstream_tree)]) == 0
    lines = (upstream_tree / path).read_text().splitlines()
    added = [i for i, line in enumerate(lines) if line.startswith(f'    "{argv[0]}"')]
    assert len(added) == 1
    keys_above = [m[1] for line in lines[: added[0]] if (m := ENTRY_KEY.match(line))]
    assert keys_above[-1] == entry_above
    assert remove([argv[0], "--root", str(upstream_tree)]) == 0
    assert (upstream_tree / path).read_text() == pristine


@pytest.mark.slow
def test_remove_keeps_a_module_another_package_file_imports(upstream_tree, capsys):
    module = upstream_tree / "vllm/model_executor/models/step3p7.py"
    arch = "Step3p7ForConditionalGeneration"
    assert remove([arch, "--root", str(upstream_tree)]) == 0
    assert module.is_file()
    assert "imported by vllm/models/step5/" in capsys.readouterr().err
