"""Reading the supported-models doc: cells, architectures, headers, table lookup."""

from __future__ import annotations

import pytest

from scaffold.docs.locate import architecture_tables, locate_table, named_archs
from scaffold.docs.table import arch_items, split_cells

TEXT_HEADER = (
    "| Architecture | Models | Example HF Models | [LoRA](../features/lora.md) "
    "| [PP](../serving/parallelism_scaling.md) |"
)
MM_HEADER = (
    "| Architecture | Models | Inputs | Example HF Models "
    "| [LoRA](../features/lora.md) | [PP](../serving/parallelism_scaling.md) |"
)
V1_HEADER = (
    "| Architecture | Models | Example HF Models | [LoRA](../features/lora.md) "
    "| [PP](../serving/distributed_serving.md) | [V1](gh-issue:8779) |"
)

# A doc shaped like upstream's: a plugins table first, a legend table, the
# text-only main table followed by a Transformers-backend table, a code block
# with a table-like example, the multimodal table, and old pooling sections.
DOC = f"""\
# Supported Models

### Plugins

| Architecture | Models | Plugin Repository |
|--------------|--------|-------------------|
| `BartForConditionalGeneration` | BART | [bart-plugin](https://example.org) |

| Mark | Meaning |
| --- | --- |
| ✅︎ | supported |
| 🚧 | planned |

## List of Text-only Language Models

### Generative Models

#### Text Generation

{TEXT_HEADER}
| ------------ | ------ | ----------------- | ---- | -- |
| `BaiChuanForCausalLM` | Baichuan2, Baichuan | `b-inc/Baichuan-7B`, etc. | ✅︎ | ✅︎ |
| `ChatGLMModel`, `ChatGLMForConditionalGeneration` | ChatGLM | `z/chatglm2` | ✅︎ | ✅︎ |
| `GPT2LMHeadModel` | GPT-2 | `openai-community/gpt2` |  |✅︎|

Some models are supported only via the Transformers modeling backend:

| Architecture | Models | Example HF Models | [LoRA](../features/lora.md) | [PP](x) |
| --- | --- | --- | --- | --- |
| `OlmoForCausalLM` | OLMo | `allenai/OLMo-1B-hf` | ✅︎ | ✅︎ |

```markdown
## Multimodal in a code block does not count
| Architecture | Models |
| --- | --- |
| `FencedForCausalLM` | no |
```

## List of Multimodal Language Models

{MM_HEADER}
|--------------|--------|--------|-------------------|------|----|
| `GLM4VForCausalLM`<sup>^</sup> | GLM-4V | T + I | `zai-org/glm-4v-9b` | ✅︎ | ✅︎ |
| `Qwen2VLForConditionalGeneration` <sup>Q</sup> | QVQ | T + I<sup>E+</sup> | | | |

### Pooling Models

#### Embedding

{V1_HEADER}
|---|---|---|---|---|---|
| `BertModel`<sup>C</sup> | BERT-based | `BAAI/bge-base-en-v1.5` | | | ✅︎ |

#### Cross-encoder / Reranker

| Architecture | Models | Example HF Models | Score template (see note) |
| --- | --- | --- | --- |
| `BertForSequenceClassification` | BERT-based | `c/ms-marco` | |"""


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ("| a | b |", [" a ", " b "]),
        ("|a|b|", ["a", "b"]),
        ("|✅︎|  |", ["✅︎", "  "]),
        ("| a | b", [" a ", " b"]),
        ("  | a |  ", [" a "]),
        (r"| a \| b | c |", [r" a \| b ", " c "]),
    ],
)
def test_split_cells(line: str, cells: list[str]) -> None:
    assert split_cells(line) == cells


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        (" `A` ", ["A"]),
        (" `A`, `B` ", ["A", "B"]),
        ("`A`<sup>^</sup>, `B` <sup>Q</sup>", ["A", "B"]),
        (" `A`<sup>E, F</sup>, `B` ", ["A", "B"]),
        (" Plain ", ["Plain"]),
        ("  ", []),
        (" `A`, ", ["A"]),
    ],
)
def test_arch_items_names(cell: str, names: list[str]) -> None:
    assert [item.name for item in arch_items(cell)] == names


def test_arch_items_spans_keep_superscripts() -> None:
    cell = " `A`<sup>^</sup>, `B` "
    assert [cell[item.start : item.end] for item in arch_items(cell)] == [
        "`A`<sup>^</sup>",
        "`B`",
    ]


@pytest.mark.parametrize(
    ("kind", "header_line", "columns", "rows"),
    [
        (
            "text-generation",
            20,
            ("Architecture", "Models", "Example HF Models", "LoRA", "PP"),
            [
                (22, ("BaiChuanForCausalLM",)),
                (23, ("ChatGLMModel", "ChatGLMForConditionalGeneration")),
                (24, ("GPT2LMHeadModel",)),
            ],
        ),
        (
            "multimodal",
            41,
            ("Architecture", "Models", "Inputs", "Example HF Models", "LoRA", "PP"),
            [
                (43, ("GLM4VForCausalLM",)),
                (44, ("Qwen2VLForConditionalGeneration",)),
            ],
        ),
        (
            "embedding",
            50,
            ("Architecture", "Models", "Example HF Models", "LoRA", "PP", "V1"),
            [(52, ("BertModel",))],
        ),
        (
            "cross-encoder",
            56,
            (
                "Architecture",
                "Models",
                "Example HF Models",
                "Score template (see note)",
            ),
            [(58, ("BertForSequenceClassification",))],
        ),
    ],
)
def test_locate_table(
    kind: str,
    header_line: int,
    columns: tuple[str, ...],
    rows: list[tuple[int, tuple[str, ...]]],
) -> None:
    table = locate_table(DOC, kind)
    assert table is not None
    assert table.header_line == header_line
    assert table.columns == columns
    assert [(row.line, row.archs) for row in table.rows] == rows
    assert DOC.split("\n")[header_line - 1] == table.header_raw


@pytest.mark.parametrize("kind", ["speculative", "no-such-kind"])
def test_locate_table_missing_kind(kind: str) -> None:
    assert locate_table(DOC, kind) is None


@pytest.mark.parametrize(
    "doc",
    [
        "",
        "no tables at all\n",
        # A Text Generation table outside any Text-only section is not the one.
        "## Multimodal\n\n#### Text Generation\n\n| Architecture |\n|---|\n| `A` |\n",
        # A heading that names the kind but has no architecture table under it.
        "## Text-only\n\n#### Text Generation\n\n| Mark |\n| --- |\n| x |\n",
        # A table-looking line without a separator row is prose.
        "## Text-only\n\n#### Text Generation\n\n| Architecture |\n| `A` |\n",
    ],
)
def test_locate_text_generation_none(doc: str) -> None:
    assert locate_table(doc, "text-generation") is None


def test_architecture_tables_skip_plugins_legend_and_code() -> None:
    headers = [table.header_line for table in architecture_tables(DOC)]
    # Line 5's table is under "### Plugins": out-of-tree archs, not registered.
    assert headers == [20, 28, 41, 50, 56]


def test_named_archs_lists_every_table() -> None:
    archs = named_archs(DOC)
    assert all(arch != "BartForConditionalGeneration" for arch, _ in archs)  # plugin
    assert ("ChatGLMForConditionalGeneration", 23) in archs
    assert ("OlmoForCausalLM", 30) in archs
    assert ("BertForSequenceClassification", 58) in archs
    assert all(arch != "FencedForCausalLM" for arch, _ in archs)
    assert len(archs) == 9


def test_last_line_of_an_empty_table_is_its_separator() -> None:
    doc = "## Text-only\n#### Text Generation\n| Architecture | Models |\n|--|--|"
    table = locate_table(doc, "text-generation")
    assert table is not None
    assert table.rows == ()
    assert table.last_line == 4
