"""Property tests over generated supported-models documents.

Documents mix realistic architecture names, shared rows, superscripts, both
separator styles, odd padding, a second architecture table, a legend table,
non-ASCII prose and an optional missing final newline.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaffold.docs.edit import NewRow, insert_row, remove_arch
from scaffold.docs.locate import locate_table, named_archs
from scaffold.docs.order import check_tables, sort_tables
from scaffold.docs.table import split_dropping_ends
from scaffold.ordering import get_key, slot_costs

# Hypothesis runs hundreds of generated cases: CI runs them, the quick subset not.
pytestmark = pytest.mark.slow

STEMS = ["Llama", "Qwen2", "Qwen2_5_VL", "Qwen3", "Gemma", "Gemma3n", "GPT2"]
STEMS += ["GptOss", "GPTBigCode", "ChatGLM", "StableLm", "StableLMEpoch", "Phi"]
SUFFIXES = ["ForCausalLM", "Model", "LMHeadModel", "ForConditionalGeneration", ""]
SUPERSCRIPTS = ["", "", "<sup>^</sup>", " <sup>Q</sup>", "<sup>E, F</sup>"]
HEADERS = [
    "| Architecture | Models | Example HF Models | [LoRA](../features/lora.md) "
    "| [PP](../serving/parallelism_scaling.md) |",
    "| Architecture | Models | Inputs | Example HF Models | [LoRA](x) | [PP](y) |",
    "| Architecture | Models | Example HF Models | LoRA | PP | [V1](gh-issue:8779) |",
]
KEYS = st.sampled_from(["family", "casefold", "ascii"])

arch_names = st.builds(
    "".join, st.lists(st.sampled_from(STEMS), min_size=1, max_size=2)
).flatmap(lambda stem: st.sampled_from([stem + suffix for suffix in SUFFIXES]))


@st.composite
def rows(draw: st.DrawFn, width: int) -> tuple[str, tuple[str, ...]]:
    """A table row and the architectures it names."""
    archs = draw(st.lists(arch_names, min_size=1, max_size=3, unique=True))
    arch_cell = ", ".join(f"`{a}`{draw(st.sampled_from(SUPERSCRIPTS))}" for a in archs)
    others = draw(
        st.lists(
            st.sampled_from(["✅︎", "", "Llama 3", "`org/m`, etc.", "🚧"]),
            min_size=width - 1,
            max_size=width - 1,
        )
    )
    pad = draw(st.sampled_from([" ", "", "  "]))
    line = "|" + "|".join(f"{pad}{c}{pad}" for c in [arch_cell, *others]) + "|"
    return line, tuple(archs)


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[tuple[str, ...]]]:
    """A whole table (header, separator, rows) and each row's architectures."""
    header = draw(st.sampled_from(HEADERS))
    width = header.count("|") - 1
    separator = draw(st.sampled_from(["|---", "| --- "])) * width + "|"
    body = draw(st.lists(rows(width), max_size=8))
    lines = [header, separator] + [line for line, _ in body]
    return "\n".join(lines), [archs for _, archs in body]


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[tuple[str, ...]]]:
    """A doc whose text-generation table has the returned rows' architectures."""
    main, main_archs = draw(tables())
    backend, _ = draw(tables())
    parts = [
        "# Supported Models\n\n✅︎ supported, 🚧 planned, ⚠️ issues.\n",
        "| Mark | Meaning |\n| --- | --- |\n| 🚧 | planned |\n| ✅︎ | yes |\n",
        "## List of Text-only Language Models\n\n#### Text Generation\n",
        main,
        "\nOnly via the Transformers backend:\n",
        backend,
        "\n## List of Multimodal Language Models\n",
    ]
    ending = draw(st.sampled_from(["", "\n", "\nprose ⚠️"]))
    return "\n".join(parts) + ending, main_archs


@settings(max_examples=150, deadline=None)
@given(documents(), KEYS)
def test_sort_is_idempotent_keeps_rows_and_leaves_no_order_finding(
    doc: tuple[str, list[tuple[str, ...]]], key: str
) -> None:
    text, _ = doc
    fixed = sort_tables(text, get_key(key))
    assert sort_tables(fixed, get_key(key)) == fixed
    before, after = split_dropping_ends(text), split_dropping_ends(fixed)
    assert len(before) == len(after)
    assert Counter(before) == Counter(after)
    # Only table rows move; every other line stays where it was.
    for old, new in zip(before, after, strict=True):
        assert old == new or (old.startswith("|") and new.startswith("|"))
    assert [f for f in check_tables(fixed, get_key(key)) if f.code == "order"] == []


@settings(max_examples=150, deadline=None)
@given(documents())
def test_parsed_rows_name_the_generated_archs(
    doc: tuple[str, list[tuple[str, ...]]],
) -> None:
    text, main_archs = doc
    table = locate_table(text, "text-generation")
    assert table is not None
    assert [row.archs for row in table.rows] == main_archs


@settings(max_examples=200, deadline=None)
@given(documents(), arch_names, KEYS)
def test_insert_one_line_at_a_best_slot_and_remove_undoes_it(
    doc: tuple[str, list[tuple[str, ...]]], arch: str, key: str
) -> None:
    text, main_archs = doc
    if any(arch in archs for archs in main_archs):
        return  # covered by the refusal tests; here the arch is new
    inserted = insert_row(text, "text-generation", NewRow(arch, "M"), get_key(key))
    assert inserted is not None
    before, after = split_dropping_ends(text), split_dropping_ends(inserted)
    assert len(after) == len(before) + 1
    # The lists differ in length by design: the first difference is the new row.
    pairs = enumerate(zip(before, after, strict=False))
    new_index = next((i for i, (old, new) in pairs if old != new), len(before))
    assert after[:new_index] + after[new_index + 1 :] == before
    table = locate_table(text, "text-generation")
    assert table is not None
    sort_key = get_key(key)
    costs = slot_costs([sort_key(r.first_arch) for r in table.rows], sort_key(arch))
    slot = new_index + 1 - (table.header_line + 2)
    assert costs[slot] == min(costs)
    assert slot == max(i for i, cost in enumerate(costs) if cost == min(costs))
    assert remove_arch(inserted, arch, kind="text-generation") == text
    if arch not in {name for name, _ in named_archs(text)}:
        assert remove_arch(inserted, arch) == text
