"""Parsing module-level dict literals into sections of entries."""

from __future__ import annotations

import pytest

from scaffold.errors import ScaffoldError
from scaffold.pydict.parse import parse_source, split_keeping_ends

REGISTRY = """\
'''Docstring.'''

_MODELS: dict[str, tuple[str, str]] = {
    # [Decoder-only]
    "BForCausalLM": ("b", "BForCausalLM"),  # trailing
    # about A
    # second line
    "AForCausalLM": (
        "a",
        "AForCausalLM",
    ),
    **OTHER,
    "CForCausalLM": ("c", "C"),

    # floating comment

    # [Encoder-decoder]
    "DForCausalLM": _Info("org/d"),
    # scaffold: off
    "ZForCausalLM": ("z", "Z"),
    "YForCausalLM": ("y", "Y"),
    # scaffold: on
    "EForCausalLM": ("e", "E")
    # footer
}
"""


def test_sections_and_entries() -> None:
    literal = parse_source(REGISTRY).require("_MODELS")
    assert literal.open_line == 3 and literal.close_line == 25
    assert literal.one_per_line
    assert literal.missing_comma_at == (23, 30)
    summary = [
        (s.name, s.start_line, s.end_line, s.frozen, [e.key[0] for e in s.entries])
        for s in literal.sections
    ]
    assert summary == [
        (None, 3, 3, False, []),
        # **OTHER sits inside the section: a splat is no barrier
        ("Decoder-only", 4, 16, False, ["B", "A", "C"]),
        ("Encoder-decoder", 17, 18, False, ["D"]),
        ("Encoder-decoder", 19, 21, True, ["Z", "Y"]),
        ("Encoder-decoder", 22, 24, False, ["E"]),
    ]


def test_entry_lines_values_and_comments() -> None:
    literal = parse_source(REGISTRY).require("_MODELS")
    b, a, c, d = literal.entries[:4]
    assert (b.key, b.key_line, b.first_line, b.last_line) == ("BForCausalLM", 5, 5, 5)
    assert b.pair == ("b", "BForCausalLM")
    assert b.value_source == '("b", "BForCausalLM")'
    assert (a.first_line, a.key_line, a.last_line) == (6, 8, 11)
    assert a.value_source == '(\n        "a",\n        "AForCausalLM",\n    )'
    assert a.section == "Decoder-only" and a.section_index == 1
    assert c.first_line == 13  # the blank line and floating comment stay fixed
    assert d.pair is None and d.value_source == '_Info("org/d")'
    assert [e.key for e in literal.find("ZForCausalLM")] == ["ZForCausalLM"]
    assert literal.find("Missing") == []


@pytest.mark.parametrize(
    "source",
    [
        'X = {\n    SOME_NAME: ("a", "b"),\n    "A": ("a", "A"),\n}\n',
        'X = {\n    f"{p}A": ("a", "b"),\n    "A": ("a", "A"),\n}\n',
        'X = {\n    b"A": ("a", "b"),\n    "A": ("a", "A"),\n}\n',
    ],
)
def test_non_literal_keys_are_barriers(source: str) -> None:
    literal = parse_source(source).require("X")
    assert [entry.key for entry in literal.entries] == ["A"]
    assert [len(section.entries) for section in literal.sections] == [0, 1]
    assert literal.sections[1].start_line == 2


def test_concatenated_string_key_is_an_entry() -> None:
    literal = parse_source('X = {\n    "A" "B": ("a", "b"),\n}\n').require("X")
    assert [entry.key for entry in literal.entries] == ["AB"]


def test_entries_sharing_lines_are_read_but_frozen() -> None:
    literal = parse_source('X = {"B": ("b", "B"), "A": ("a", "A")}\n').require("X")
    assert not literal.one_per_line
    assert [entry.key for entry in literal.entries] == ["B", "A"]
    assert all(section.frozen for section in literal.sections)


def test_bindings_later_wins_and_non_dicts() -> None:
    source = "X = {}\nY = dict(a=1)\nX = [1]\nZ: dict = {}\nif True:\n    W = {}\n"
    parsed = parse_source(source)
    assert set(parsed.dicts) == {"Z"}
    assert parsed.non_dicts == {"X": 3, "Y": 2}


@pytest.mark.parametrize(
    ("name", "message", "line"),
    [
        ("X", "X is not a dict literal", 1),
        ("Y", "no module-level dict Y found", None),
    ],
)
def test_require_errors(name: str, message: str, line: int | None) -> None:
    with pytest.raises(ScaffoldError) as error:
        parse_source("X = {k: 1 for k in 'ab'}\nZ = {}\n").require(name)
    assert message in error.value.message and error.value.line == line


def test_syntax_error_has_its_line() -> None:
    with pytest.raises(ScaffoldError) as error:
        parse_source('X = {\n    "A": ("a", "A"),\n    "B": ("b", "B"),,\n}\n')
    assert error.value.line == 3
    assert "cannot parse" in error.value.message


@pytest.mark.parametrize("text", ["", "a\n", "a\nb", "a\n\nb\n", "x\r\ny\n"])
def test_split_lines_round_trips(text: str) -> None:
    assert "".join(split_keeping_ends(text)) == text


def test_only_reads_the_named_dicts_and_reads_them_the_same() -> None:
    source = 'A = {\n    "X": ("x", "X"),\n}\nB = {"Y": 1}\nC = 3\n'
    full = parse_source(source)
    only = parse_source(source, only={"A", "C"})
    assert set(only.dicts) == {"A"} and only.dicts["A"] == full.dicts["A"]
    assert only.non_dicts == {"C": 5}
