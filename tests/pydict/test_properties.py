"""Property-based tests: insertion, removal and sorting over generated registries.

The generator writes registries with every layout the editors must survive:
section headers, comments above entries, trailing comments, exploded values,
splats, blank lines, floating comments, ``off``/``on`` regions and footers.
"""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold.ordering import KEYS, get_key, slot_costs
from scaffold.pydict.check import check_dicts
from scaffold.pydict.edit import insert_entry, remove_entry, sort_dicts
from scaffold.pydict.model import DictLiteral, split_keeping_ends
from scaffold.pydict.parse import parse_source
from scaffold.pydict.values import registry_value

# Hypothesis runs hundreds of generated cases: CI runs them, the quick subset not.
pytestmark = pytest.mark.slow

STEMS = ["Aya", "Gemma", "Gemma2", "Gemma3n", "GPT2", "GptOss", "Llama", "MPT", "Mpt"]
STEMS += ["Qwen2", "Qwen2_5_VL", "Qwen3", "Olmoe", "OPT", "LongArchitectureName"]
SUFFIXES = ["ForCausalLM", "Model", "ForConditionalGeneration", "LMHeadModel", ""]
ARCHS = sorted({stem + suffix for stem in STEMS for suffix in SUFFIXES})
HEADERS = ["Decoder-only", "Encoder-decoder", "Multimodal"]
NAME = "_MODELS"


def entry_lines(key: str, draw: st.DrawFn) -> list[str]:
    """One entry: maybe comments above, one-line or exploded, maybe a trailing note."""
    above = [f"    # about {key} {n}\n" for n in range(draw(st.integers(0, 2)))]
    trailing = draw(st.sampled_from(["", "  # noqa: E501", "  # AquilaChat2"]))
    if draw(st.booleans()):
        return [*above, f'    "{key}": ("mod", "{key}"),{trailing}\n']
    value = ['        "mod",\n', f'        "{key}",\n', f"    ),{trailing}\n"]
    return [*above, f'    "{key}": (\n', *value]


@st.composite
def registries(draw: st.DrawFn) -> str:
    """A module holding the dict ``_MODELS`` with a random layout."""
    keys = draw(st.lists(st.sampled_from(ARCHS), unique=True, max_size=12))
    body: list[str] = []
    frozen = False
    for key in keys:
        barrier = draw(st.sampled_from(["", "", "", "header", "splat", "off", "gap"]))
        if barrier == "header":
            body.append(f"    # [{draw(st.sampled_from(HEADERS))}]\n")
        elif barrier == "splat":
            splat = draw(
                st.sampled_from(["**OTHER,", "**{k: v for k, v in OTHER.items()},"])
            )
            body.append(f"    {splat}\n")
        elif barrier == "off":
            body.append(f"    # scaffold: {'on' if frozen else 'off'}\n")
            frozen = not frozen
        elif barrier == "gap":
            body += draw(st.sampled_from([["\n"], ["    # floating\n", "\n"]]))
        body += entry_lines(key, draw)
    if frozen:
        body.append("    # scaffold: on\n")
    body += [
        f'    # "Old{n}": ("old", "Old"),\n' for n in range(draw(st.integers(0, 2)))
    ]
    if not body:  # ruff writes an empty dict as `{}`; `{\n}` is not round-tripped
        return f'"""Doc."""\n\nOTHER = {{}}\n{NAME} = {{}}\n'
    return f'"""Doc."""\n\nOTHER = {{}}\n{NAME} = {{\n{"".join(body)}}}\nTAIL = 1\n'


def mapping(text: str) -> dict[str, tuple[str, str]]:
    """What Python makes of ``_MODELS`` when it runs the module."""
    namespace: dict[str, object] = {}
    exec(compile(text, "<registry>", "exec"), namespace)
    return namespace[NAME]  # type: ignore[return-value]


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
        opcodes = difflib.SequenceMatcher(
            a=split_keeping_ends(text), b=split_keeping_ends(result), autojunk=False
        ).get_opcodes()
        assert {tag for tag, *_ in opcodes} <= {"equal", "insert"}
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


@settings(max_examples=150, deadline=None)
@given(registries(), sort_keys)
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
