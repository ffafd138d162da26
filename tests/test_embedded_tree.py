"""This repository dogfoods its own hook: the embedded tree is consistent."""

from __future__ import annotations

from pathlib import Path

from scaffold.check import check_tree
from scaffold.commands.check import main as check_main
from scaffold.docs.locate import named_archs
from scaffold.ordering import family_key
from scaffold.pydict.parse import parse_source
from scaffold.registry import RegistryView
from scaffold.tree import find_tree

ROOT = Path(__file__).resolve().parents[1]


def test_scaffold_check_passes_on_the_embedded_tree(capsys):
    assert check_main(["--root", str(ROOT)]) == 0
    # One line when clean, as the demo prints.
    assert capsys.readouterr().out == "clean: 8 architectures, no findings\n"
    assert check_tree(find_tree(ROOT), family_key).findings == []


def test_every_arch_has_an_example_and_a_docs_row_and_is_sorted():
    tree = find_tree(ROOT)
    registry = parse_source(tree.registry_path.read_text())
    registered = RegistryView(registry).registered
    examples = parse_source(tree.examples_path.read_text())
    example_keys = {e.key for d in examples.dicts.values() for e in d.entries}
    docs_archs = {arch for arch, _ in named_archs(tree.docs_path.read_text())}
    assert set(registered) <= example_keys
    assert set(registered) <= docs_archs
    for source in (registry, examples):
        for literal in source.dicts.values():
            for section in literal.sections:
                keys = [entry.key for entry in section.entries]
                assert keys == sorted(keys, key=family_key), literal.name
    assert "MistralForCausalLM" not in registered  # the tour adds it
