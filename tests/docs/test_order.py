"""Checking and sorting docs tables (``scaffold check [--fix]``).

Sort cases are (before, after) documents; every one is sorted a second time to
show that fixing twice changes nothing and leaves no ``order`` finding.
"""

from __future__ import annotations

import pytest

from scaffold.docs.edit import NewRow, insert_row
from scaffold.docs.order import check_tables, sort_tables
from scaffold.ordering import family_key, get_key

HEAD = (
    "## Text-only\n\n#### Text Generation ✅︎\n\n| Architecture | Models |\n|---|---|\n"
)
PROSE = "\n⚠️ prose between tables 🚧\n\n"
OTHER_HEAD = "| Models | Architecture | [PP](x) |\n| --- | --- | --- |\n"

SORTS = [
    pytest.param(
        HEAD + "| `Qwen3ForCausalLM` | Q |\n| `GPT2LMHeadModel` | G |\n",
        HEAD + "| `GPT2LMHeadModel` | G |\n| `Qwen3ForCausalLM` | Q |\n",
        id="two rows",
    ),
    pytest.param(
        HEAD + "| `Gemma3nForConditionalGeneration` | 3n |\n| `Gemma2Model` | 2 |\n"
        "| `GemmaForCausalLM` | 1 |\n| `Gemma3ForCausalLM` | 3 |",
        HEAD + "| `GemmaForCausalLM` | 1 |\n| `Gemma2Model` | 2 |\n"
        "| `Gemma3ForCausalLM` | 3 |\n| `Gemma3nForConditionalGeneration` | 3n |",
        id="family key, no final newline",
    ),
    pytest.param(
        HEAD + "| `GptOssForCausalLM` | O |\n"
        "| `GPTBigCodeForCausalLM`<sup>^</sup>, `AModel` | B |\n"
        "|`GPT2LMHeadModel` <sup>Q</sup>|2|\n",
        HEAD + "|`GPT2LMHeadModel` <sup>Q</sup>|2|\n"
        "| `GPTBigCodeForCausalLM`<sup>^</sup>, `AModel` | B |\n"
        "| `GptOssForCausalLM` | O |\n",
        id="shared rows sort by their first arch; superscripts travel",
    ),
    pytest.param(
        HEAD + "| `B` | 1 |\n| `A` | 2 |\n" + PROSE + OTHER_HEAD + "| z | `D` | |\n"
        "| y | `C` | ✅︎ |\n",
        HEAD + "| `A` | 2 |\n| `B` | 1 |\n" + PROSE + OTHER_HEAD + "| y | `C` | ✅︎ |\n"
        "| z | `D` | |\n",
        id="each table on its own, Architecture column found anywhere",
    ),
    pytest.param(
        HEAD + "| `B` | first |\n| `A` | |\n| `B` | second |\n",
        HEAD + "| `A` | |\n| `B` | first |\n| `B` | second |\n",
        id="equal keys keep their order",
    ),
]

NOOPS = [
    pytest.param(HEAD, id="empty table"),
    pytest.param(HEAD + "| `A` | |\n| `B` | |\n", id="sorted"),
    pytest.param(
        "| Mark | Meaning |\n| --- | --- |\n| 🚧 | b |\n| ✅︎ | a |\n", id="legend"
    ),
    pytest.param("```\n| Architecture |\n|---|\n| `B` |\n| `A` |\n```\n", id="code"),
    pytest.param("| Name |\n| `B` |\n| `A` |\n", id="no separator, no arch column"),
]


@pytest.mark.parametrize(("before", "after"), SORTS)
def test_sort(before: str, after: str) -> None:
    assert sort_tables(before, family_key) == after
    assert sort_tables(after, family_key) == after
    assert [f for f in check_tables(after, family_key) if f.code == "order"] == []


@pytest.mark.parametrize("doc", NOOPS)
def test_sort_noop(doc: str) -> None:
    assert sort_tables(doc, family_key) == doc
    assert check_tables(doc, family_key) == []


@pytest.mark.parametrize(
    "doc",
    [
        "| Architecture |\n| `B` |\n| `A` |\n",
        "| Architecture | Models |\n| --- |\n| `B` | b |\n| `A` | a |\n",
        "| Architecture | Models |\n| --- | x |\n| `B` | b |\n",
    ],
)
def test_a_malformed_separator_is_a_finding_not_a_hidden_table(doc: str) -> None:
    assert sort_tables(doc, family_key) == doc  # nothing to read, nothing moved
    [finding] = check_tables(doc, family_key)
    assert (finding.code, finding.line) == ("docs-table", 1)
    assert "separator row" in finding.message


def test_sort_by_chosen_key() -> None:
    doc = HEAD + "| `StableLmForCausalLM` | |\n| `StableLMEpochForCausalLM` | |\n"
    assert sort_tables(doc, get_key("family")) == doc
    assert sort_tables(doc, get_key("ascii")) == (
        HEAD + "| `StableLMEpochForCausalLM` | |\n| `StableLmForCausalLM` | |\n"
    )


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        pytest.param(
            HEAD + "| `B` | |\n| `A` | |\n| `C` | |\n| `A2` | |\n",
            [("order", 8, "A"), ("order", 10, "A2")],
            id="order: each row smaller than the one above",
        ),
        pytest.param(
            HEAD + "| `A`, `B` | |\n| `B` | |\n| `C`, `C` | |\n",
            [("duplicate", 8, "B"), ("duplicate", 9, "C")],
            id="duplicate: later row, or twice in one row",
        ),
        pytest.param(
            HEAD + "| `B` | |\n" + PROSE + HEAD + "| `A` | |\n| `B` | |\n",
            [],
            id="tables are checked on their own",
        ),
    ],
)
def test_check(doc: str, expected: list[tuple[str, int, str]]) -> None:
    findings = check_tables(doc, family_key)
    assert [(f.code, f.line, f.arch) for f in findings] == expected
    assert all(f.message and f.path == "" for f in findings)


WILDCARD_TABLE = """\
| Architecture | Models |
| --- | --- |
| `BModel` | B |
| `AModel` | A |
| `*Model`<sup>C</sup>, `*ForCausalLM`<sup>C</sup>, etc. | Generative models |
"""


def test_wildcard_rows_stay_last_and_are_no_finding() -> None:
    # Upstream's pooling pages end their tables with converted-model rows.
    findings = check_tables(WILDCARD_TABLE, family_key)
    assert [(f.code, f.arch) for f in findings] == [("order", "AModel")]
    fixed = sort_tables(WILDCARD_TABLE, family_key)
    assert fixed.splitlines()[2:] == [
        "| `AModel` | A |",
        "| `BModel` | B |",
        WILDCARD_TABLE.splitlines()[-1],
    ]
    assert sort_tables(fixed, family_key) == fixed
    assert check_tables(fixed, family_key) == []
    page = insert_row(fixed, None, NewRow("ZModel", "Z"), family_key)
    assert page is not None
    assert page.splitlines()[-2:] == [
        "| `ZModel` | Z |",
        WILDCARD_TABLE.splitlines()[-1],
    ]
