"""Issue #14's repros, end to end through the commands.

Each would lose a byte, write half a tree, or print a traceback on the code
before the fix.
"""

from __future__ import annotations

import os

import pytest

from scaffold import transaction
from scaffold.commands.check import main as check
from scaffold.commands.new_model import main as new_model
from scaffold.commands.remove import main as remove
from scaffold.pydict import parse_source

REGISTRY = "vllm_stub/model_executor/models/registry.py"
EXAMPLES = "tests/models/registry.py"
DOCS = "docs/models/supported_models.md"
ALIAS = ["--alias-of", "llama:LlamaForCausalLM"]


def one_line_refusal(capsys, code: int) -> str:
    assert code == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    assert "Traceback" not in captured.err
    return line


def mix_endings(path):
    """Every other line of ``path`` ends in CRLF."""
    lines = path.read_bytes().split(b"\n")
    mixed = [line + (b"\r" if i % 2 else b"") for i, line in enumerate(lines[:-1])]
    path.write_bytes(b"\n".join([*mixed, lines[-1]]))


@pytest.mark.parametrize("how", [ALIAS, ["--models", "Orca"]])
def test_mixed_endings_round_trip_byte_for_byte(embedded_tree, take_snapshot, how):
    for relative in (REGISTRY, EXAMPLES, DOCS):
        mix_endings(embedded_tree / relative)
    before = take_snapshot(embedded_tree)
    root = ["--root", str(embedded_tree)]
    assert new_model(["OrcaForCausalLM", *how, *root]) == 0
    assert remove(["OrcaForCausalLM", *root]) == 0
    assert take_snapshot(embedded_tree) == before


def test_fix_keeps_each_untouched_lines_ending(embedded_tree):
    registry = embedded_tree / REGISTRY
    text = registry.read_text()
    # Swap two neighbours so --fix has one thing to do.
    first = '    "Qwen2ForCausalLM": ("qwen2", "Qwen2ForCausalLM"),\n'
    assert first in text
    registry.write_text(
        text.replace(first, "").replace(
            '    "LlamaForCausalLM"', first + '    "LlamaForCausalLM"'
        )
    )
    mix_endings(registry)
    before = registry.read_bytes().split(b"\n")
    assert check(["--fix", "--root", str(embedded_tree)]) == 1
    after = registry.read_bytes().split(b"\n")
    assert sorted(before) == sorted(after)  # the same lines, endings included
    assert check(["--root", str(embedded_tree)]) == 0


def test_a_symlinked_registry_is_written_through(embedded_tree, tmp_path):
    link = embedded_tree / REGISTRY
    target = tmp_path / "elsewhere" / "registry.py"
    target.parent.mkdir()
    target.write_bytes(link.read_bytes())
    link.unlink()
    link.symlink_to(target)
    assert new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert '"OrcaForCausalLM"' in target.read_text()


def test_a_dangling_symlink_is_named(embedded_tree, take_snapshot, capsys):
    link = embedded_tree / EXAMPLES
    link.unlink()
    link.symlink_to(embedded_tree / "nowhere.py")
    before = take_snapshot(embedded_tree)
    code = new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)])
    assert "dangling symlink" in one_line_refusal(capsys, code)
    assert take_snapshot(embedded_tree) == before


def test_a_nul_byte_in_a_comment_is_refused(embedded_tree, take_snapshot, capsys):
    registry = embedded_tree / REGISTRY
    registry.write_text(registry.read_text().replace("# [Decoder-only]", "# \0 x"))
    before = take_snapshot(embedded_tree)
    code = new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)])
    assert "a NUL byte" in one_line_refusal(capsys, code)
    assert take_snapshot(embedded_tree) == before


def test_a_lone_cr_file_gets_a_message_about_line_endings(
    embedded_tree, take_snapshot, capsys
):
    registry = embedded_tree / REGISTRY
    registry.write_bytes(registry.read_bytes().replace(b"\n", b"\r"))
    before = take_snapshot(embedded_tree)
    line = one_line_refusal(capsys, check(["--root", str(embedded_tree)]))
    assert f"{REGISTRY}:1: this line ends in a lone CR" in line
    assert take_snapshot(embedded_tree) == before


def test_a_huge_registry_fails_fast(embedded_tree, take_snapshot, capsys):
    registry = embedded_tree / REGISTRY
    filler = "".join(f"# padding line {i}\n" for i in range(120_000))
    registry.write_text(registry.read_text() + filler)
    before = take_snapshot(embedded_tree)
    code = new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)])
    assert "too large for scaffold" in one_line_refusal(capsys, code)
    assert take_snapshot(embedded_tree) == before


def test_a_malformed_docs_separator_is_a_finding(embedded_tree, capsys):
    docs = embedded_tree / DOCS
    text = docs.read_text()
    separator = "| ------------ | ------ | ----------------- |"
    docs.write_text(text.replace(separator, "| --- | --- |", 1))
    assert check(["--root", str(embedded_tree)]) == 1
    out = capsys.readouterr().out
    assert f"{DOCS}:18: [docs-table]" in out
    assert "separator row" in out


def test_a_section_frozen_in_the_examples_only_is_taken(embedded_tree, capsys):
    examples = embedded_tree / EXAMPLES
    lines = examples.read_text().splitlines(keepends=True)
    close = parse_source("".join(lines)).dicts["_TEXT_GENERATION_EXAMPLE_MODELS"]
    lines[close.close_line - 1 : close.close_line - 1] = [
        "    # scaffold: off\n",
        "    # [Legacy]\n",
        '    "ZzzLegacyForCausalLM": _HfExamplesInfo("z/z"),\n',
    ]
    examples.write_text("".join(lines))
    registry = embedded_tree / REGISTRY  # no sections: --section is for examples
    registry.write_text(registry.read_text().replace("    # [Decoder-only]\n", ""))
    argv = ["OrcaForCausalLM", *ALIAS, "--section", "Legacy"]
    assert new_model([*argv, "--root", str(embedded_tree)]) == 0
    assert "[Legacy] of _TEXT_GENERATION_EXAMPLE_MODELS is frozen" in (
        capsys.readouterr().err
    )
    assert '"OrcaForCausalLM"' in examples.read_text()


def test_an_unwritable_tree_is_one_line(
    embedded_tree, take_snapshot, capsys, monkeypatch
):
    """As root the test cannot chmod the tree away; the kernel's answer is faked."""
    real_open = os.open

    def read_only_tree(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and str(path).startswith(str(embedded_tree)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(transaction.os, "open", read_only_tree)
    before = take_snapshot(embedded_tree)
    code = new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)])
    line = one_line_refusal(capsys, code)
    assert line == (
        f"{embedded_tree}: cannot write: Permission denied (nothing was changed)"
    )
    assert take_snapshot(embedded_tree) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any mode bits")
def test_a_read_only_tree_for_real(embedded_tree, take_snapshot, capsys):
    os.chmod(embedded_tree, 0o555)
    try:
        code = new_model(["OrcaForCausalLM", *ALIAS, "--root", str(embedded_tree)])
        assert "cannot write" in one_line_refusal(capsys, code)
    finally:
        os.chmod(embedded_tree, 0o755)
