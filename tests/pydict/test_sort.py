"""Sorting sections and the order/duplicate findings: before/after tables."""

from __future__ import annotations

import pytest

from scaffold.ordering import get_key
from scaffold.pydict.check import check_dicts
from scaffold.pydict.edit import sort_dicts

FAMILY = get_key("family")

# (id, before, after)
SORTS: list[tuple[str, str, str]] = [
    (
        "comments-travel-with-their-entry",
        'X = {\n    # about B\n    "B": ("b", "B"),  # AquilaChat2\n'
        '    "A": ("a", "A"),  # noqa: E501\n}\n',
        'X = {\n    "A": ("a", "A"),  # noqa: E501\n'
        '    # about B\n    "B": ("b", "B"),  # AquilaChat2\n}\n',
    ),
    (
        "exploded-values-move-whole",
        'X = {\n    "B": (\n        "b",\n        "B",\n    ),\n'
        '    "A": ("a", "A"),\n}\n',
        'X = {\n    "A": ("a", "A"),\n'
        '    "B": (\n        "b",\n        "B",\n    ),\n}\n',
    ),
    (
        "moved-last-entry-gets-its-comma",
        'X = {\n    "B": ("b", "B"),\n    "A": ("a", "A")  # t\n}\n',
        'X = {\n    "A": ("a", "A"),  # t\n    "B": ("b", "B"),\n}\n',
    ),
    (
        "header-is-a-barrier-splat-keeps-its-line-in-one-run",
        'X = {\n    # [One]\n    "D": 1,\n    "C": 1,\n'
        "    **{k: v for k, v in Y.items()},\n"
        '    "B": 1,\n    "A": 1,\n    # [Two]\n    "F": 1,\n    "E": 1,\n}\n',
        'X = {\n    # [One]\n    "A": 1,\n    "B": 1,\n'
        "    **{k: v for k, v in Y.items()},\n"
        '    "C": 1,\n    "D": 1,\n    # [Two]\n    "E": 1,\n    "F": 1,\n}\n',
    ),
    (
        "splat-is-no-barrier",
        'X = {\n    "B": 1,\n    **Y,\n    "A": 1,\n}\n',
        'X = {\n    "A": 1,\n    **Y,\n    "B": 1,\n}\n',
    ),
    (
        "off-region-untouched",
        'X = {\n    "B": 1,\n    # scaffold: off\n    "Z": 1,\n    "Y": 1,\n'
        '    # scaffold: on\n    "D": 1,\n    "C": 1,\n}\n',
        'X = {\n    "B": 1,\n    # scaffold: off\n    "Z": 1,\n    "Y": 1,\n'
        '    # scaffold: on\n    "C": 1,\n    "D": 1,\n}\n',
    ),
    (
        "blank-lines-floating-comments-and-footer-stay",
        'X = {\n    "C": 1,\n\n    # floating\n\n    "B": 1,\n    "A": 1,\n'
        '    # "Old": 1,\n}\n',
        'X = {\n    "A": 1,\n\n    # floating\n\n    "B": 1,\n    "C": 1,\n'
        '    # "Old": 1,\n}\n',
    ),
    (
        "non-literal-key-is-a-barrier",
        'X = {\n    "B": 1,\n    NAME: 1,\n    "C": 1,\n    "A": 1,\n}\n',
        'X = {\n    "B": 1,\n    NAME: 1,\n    "A": 1,\n    "C": 1,\n}\n',
    ),
    (
        "family-key-and-every-dict",
        'X = {\n    "Gemma2ForCausalLM": 1,\n    "GemmaForCausalLM": 1,\n}\n'
        'Y: dict = {\n    "GptOssForCausalLM": 1,\n    "GPT2LMHeadModel": 1,\n}',
        'X = {\n    "GemmaForCausalLM": 1,\n    "Gemma2ForCausalLM": 1,\n}\n'
        'Y: dict = {\n    "GPT2LMHeadModel": 1,\n    "GptOssForCausalLM": 1,\n}',
    ),
]

NOOPS = [
    'X = {\n    "A": 1,\n    "B": 1,\n}\n',
    'X = {"B": 1, "A": 1}\n',  # entries share a line: left alone
    "X = {}\n",
    "X = {\n}\n",
    'X = {\n    # scaffold: off\n    "B": 1,\n    "A": 1,\n}\n',
    'X = {\n    "A": 1,\n    **Y,\n    "B": 1,\n}\n',
    'X = {\n    "A": 1,\n    "A": 2,\n}\n',  # duplicates keep their order
    "Y = [3, 2, 1]\n",
]


@pytest.mark.parametrize(
    ("before", "after"), [case[1:] for case in SORTS], ids=[c[0] for c in SORTS]
)
def test_sort(before: str, after: str) -> None:
    assert sort_dicts(before, FAMILY) == after
    assert sort_dicts(after, FAMILY) == after
    assert check_dicts(after, FAMILY) == []


@pytest.mark.parametrize("source", NOOPS)
def test_sort_noop(source: str) -> None:
    assert sort_dicts(source, FAMILY) == source


def test_sort_only_named_dicts() -> None:
    source = 'X = {\n    "B": 1,\n    "A": 1,\n}\nY = {\n    "B": 1,\n    "A": 1,\n}\n'
    expected = (
        'X = {\n    "B": 1,\n    "A": 1,\n}\nY = {\n    "A": 1,\n    "B": 1,\n}\n'
    )
    assert sort_dicts(source, FAMILY, ["Y", "Missing"]) == expected


FINDINGS_SOURCE = """\
X = {
    # [Decoder-only]
    "Cohere2ForCausalLM": 1,
    "CohereForCausalLM": 1,
    "DForCausalLM": 1,
    **Y,
    "AForCausalLM": 1,
    "Cohere2ForCausalLM": 1,
    # scaffold: off
    "ZForCausalLM": 1,
    "BForCausalLM": 1,
    # scaffold: on
}
W = {"B": 1, "A": 1}
"""


def test_findings() -> None:
    found = [(f.code, f.line, f.arch) for f in check_dicts(FINDINGS_SOURCE, FAMILY)]
    assert found == [
        ("order", 4, "CohereForCausalLM"),
        ("order", 7, "AForCausalLM"),  # below D, through the splat
        ("duplicate", 8, "Cohere2ForCausalLM"),
    ]


def test_finding_messages_and_names() -> None:
    first = check_dicts(FINDINGS_SOURCE, FAMILY, ["X"])[0]
    assert first.path == ""
    assert first.message == (
        "CohereForCausalLM should come before Cohere2ForCausalLM in section "
        "[Decoder-only] of X; run `scaffold check --fix`"
    )
    assert check_dicts(FINDINGS_SOURCE, FAMILY, ["W", "Missing"]) == []
    assert [f.line for f in check_dicts(FINDINGS_SOURCE, get_key("ascii"))] == [7, 8]
