"""Property-based tests: insertion, removal and sorting over generated registries.

The generator (``tests/registry_strategies.py``) writes registries with every
layout the editors must survive.
"""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_strategies import ARCHS, NAME, registries

from scaffold.ordering import KEYS, get_key, slot_costs
from scaffold.pydict.check import check_dicts
from scaffold.pydict.edit import insert_entry, remove_entry, sort_dicts
from scaffold.pydict.model import DictLiteral, split_keeping_ends
from scaffold.pydict.parse import parse_source
from scaffold.pydict.values import registry_value

# Hypothesis runs hundreds of generated cases: CI runs them, the quick subset not.
pytestmark = pytest.mark.slow


def mapping(text: str) -> dict[str, tuple[str, str]]:
    """What Python makes of ``_MODELS`` when it runs the module."""
    namespace: dict[str, object] = {}
    exec(compile(text, "<registry>", "exec"), namespace)
    return namespace[NAME]  # type: ignore[return-value]


def only_inserts(before: str, after: str) -> bool:
    """``after`` is ``before`` with whole lines added and nothing else changed."""
    opcodes = difflib.SequenceMatcher(
        a=split_keeping_ends(before), b=split_keeping_ends(after), autojunk=False
    ).get_opcodes()
    return {tag for tag, *_ in opcodes} <= {"equal", "insert"}


def with_missing_comma(text: str, literal: DictLiteral) -> str:
    """``text`` with the comma its last entry lacks, if it lacks one."""
    if literal.missing_comma_at is None:
        return text
    line, column = literal.missing_comma_at
    lines = split_keeping_ends(text)
    lines[line - 1] = lines[line - 1][:column] + "," + lines[line - 1][column:]
    return "".join(lines)


def blocks(literal: DictLiteral, lines: list[str]) -> dict[str, str]:
    """Each entry's own lines (comments above, value, trailing comment)."""
    return {
        entry.key: "".join(lines[entry.first_line - 1 : entry.last_line])
        for entry in literal.entries
    }


def fixed_lines(literal: DictLiteral, lines: list[str]) -> list[tuple[int, str]]:
    """Lines no entry owns: outside the entry runs by number, inside them in order.

    Barriers and footers keep their line number; a blank line or a floating
    comment between entries keeps its place in the sequence of blocks.
    """
    owned = {n for e in literal.entries for n in range(e.first_line, e.last_line + 1)}
    runs = {
        n: section.index
        for section in literal.sections
        if section.entries
        for n in range(section.entries[0].first_line, section.entries[-1].last_line)
    }
    return [
        (-runs[number] if number in runs else number, line)
        for number, line in enumerate(lines, start=1)
        if number not in owned
    ]


sort_keys = st.sampled_from(sorted(KEYS))


@settings(max_examples=150, deadline=None)
@given(registries(), st.sampled_from(ARCHS), sort_keys, st.data())
def test_insert_is_a_minimal_pure_addition(
    text: str, key: str, key_name: str, data: st.DataObject
) -> None:
    sort_key = get_key(key_name)
    literal = parse_source(text).require(NAME)
    if literal.find(key):
        return  # refusing duplicates is covered by the table tests
    headers = sorted({s.name for s in literal.sections if s.name and not s.frozen})
    section = data.draw(st.sampled_from([None, *headers]))
    value = registry_value("mod", key)
    result = insert_entry(text, NAME, key, value, sort_key, section)

    if literal.open_line != literal.close_line:  # `{}` itself must be split open
        # Appended after a comma-less last entry, that entry gains its comma.
        bases = [text, with_missing_comma(text, literal)]
        assert any(only_inserts(base, result) for base in bases)
    assert mapping(result) == {**mapping(text), key: ("mod", key)}

    new_literal = parse_source(result).require(NAME)
    (entry,) = new_literal.find(key)
    target = new_literal.sections[entry.section_index]
    assert not target.frozen
    if section is not None:
        assert entry.section == section
    others = [sort_key(e.key) for e in target.entries if e.key != key]
    costs = slot_costs(others, sort_key(key))
    position = [e.key for e in target.entries].index(key)
    assert costs[position] == min(costs)

    assert remove_entry(result, NAME, key) == text


@settings(max_examples=100, deadline=None)
@given(registries(), sort_keys)
def test_sort_of_a_comma_less_dict_only_adds_that_comma(text: str, key_name: str):
    sort_key = get_key(key_name)
    result = sort_dicts(text, sort_key)
    assert sort_dicts(result, sort_key) == result
    assert mapping(result) == mapping(text)

    def without_commas(source: str) -> list[str]:
        return sorted(line.replace(",", "") for line in split_keeping_ends(source))

    # The same lines, but for the comma a moved comma-less entry gains.
    assert without_commas(result) == without_commas(text)


@settings(max_examples=150, deadline=None)
@given(registries(comma_less=False), sort_keys)
def test_sort_moves_whole_entries_within_sections(text: str, key_name: str) -> None:
    sort_key = get_key(key_name)
    result = sort_dicts(text, sort_key)
    assert sort_dicts(result, sort_key) == result
    assert mapping(result) == mapping(text)

    before_lines, after_lines = split_keeping_ends(text), split_keeping_ends(result)
    assert sorted(before_lines) == sorted(after_lines)
    before = parse_source(text).require(NAME)
    after = parse_source(result).require(NAME)
    assert blocks(before, before_lines) == blocks(after, after_lines)

    def layout(literal: DictLiteral) -> list[tuple[str | None, bool, list[str]]]:
        """Per section: its name, whether frozen, and its keys (as a set if not)."""
        return [
            (
                s.name,
                s.frozen,
                [e.key for e in s.entries]
                if s.frozen
                else sorted(e.key for e in s.entries),
            )
            for s in literal.sections
        ]

    assert layout(before) == layout(after)
    assert fixed_lines(before, before_lines) == fixed_lines(after, after_lines)
    assert not [f for f in check_dicts(result, sort_key) if f.code == "order"]


@settings(max_examples=100, deadline=None)
@given(registries(), sort_keys)
def test_findings_agree_with_sorting(text: str, key_name: str) -> None:
    sort_key = get_key(key_name)
    has_order_findings = any(f.code == "order" for f in check_dicts(text, sort_key))
    assert has_order_findings == (sort_dicts(text, sort_key) != text)
