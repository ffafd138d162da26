"""Inserting and removing docs rows: (before, after) tables and no-op cases.

Every table is placed in the same surrounding document (prose, non-ASCII
marks, a plugins table before, a Transformers-backend table after), so each
case also checks that everything outside the edited line is kept byte for byte.
"""

from __future__ import annotations

import pytest

from scaffold.docs.edit import NewRow, insert_row, remove_arch
from scaffold.errors import ScaffoldError
from scaffold.ordering import family_key

HEADINGS = {
    "text-generation": "## List of Text-only Language Models\n\n"
    "### Generative Models\n\n#### Text Generation\n\n",
    "multimodal": "## List of Multimodal Language Models\n\n#### Text Generation\n\n",
    "embedding": "### Pooling Models\n\n#### Embedding\n\n",
}
PREAMBLE = (
    "# Supported Models\n\n✅︎ supported, 🚧 planned, ⚠️ issues.\n\n"
    "| Architecture | Models | Plugin Repository |\n|---|---|---|\n"
    "| `PluginModel` | Plugin | [repo](https://example.org) |\n\n"
)
TRAILER = (
    "\nSupported via the Transformers backend:\n\n"
    "| Architecture | Models |\n| --- | --- |\n| `OlmoForCausalLM` | OLMo |\n\n"
    "⚠️ Trailing prose without a final newline"
)
TEXT_HEADER = (
    "| Architecture | Models | Example HF Models | [LoRA](../features/lora.md) "
    "| [PP](../serving/parallelism_scaling.md) |\n"
)
MM_HEADER = (
    "| Architecture | Models | Inputs | Example HF Models "
    "| [LoRA](../features/lora.md) | [PP](../serving/parallelism_scaling.md) |\n"
)
V1_HEADER = "| Architecture | Models | Example HF Models | LoRA | PP | [V1](x) |\n"
V1_SEP = "|---|---|---|---|---|---|\n"
SHORT_HEADER = "| Architecture | Models | Example HF Models | LoRA | PP |\n"
NEW_SEP = "| --- | --- | --- | --- | --- |\n"
OLD_SEP = "|---|---|---|---|---|\n"


def in_doc(table: str, kind: str = "text-generation") -> str:
    """``table`` under the headings of ``kind``, inside the shared document."""
    return PREAMBLE + HEADINGS[kind] + table + TRAILER


MISTRAL = NewRow("MistralForCausalLM", "Mistral", hf_example="mistralai/M-7B")
MISTRAL_FULL = NewRow(
    "MistralForCausalLM", "Mistral", hf_example="mistralai/M-7B", lora=True, pp=True
)

INSERTS = [
    pytest.param(
        "text-generation",
        TEXT_HEADER + NEW_SEP + "| `LlamaForCausalLM` | Llama | `m/L` | ✅︎ | ✅︎ |\n"
        "| `QWenLMHeadModel` | Qwen | `Q/Q` | ✅︎ | ✅︎ |\n",
        MISTRAL_FULL,
        TEXT_HEADER + NEW_SEP + "| `LlamaForCausalLM` | Llama | `m/L` | ✅︎ | ✅︎ |\n"
        "| `MistralForCausalLM` | Mistral | `mistralai/M-7B` | ✅︎ | ✅︎ |\n"
        "| `QWenLMHeadModel` | Qwen | `Q/Q` | ✅︎ | ✅︎ |\n",
        id="text-only header, new separator, middle",
    ),
    pytest.param(
        "multimodal",
        MM_HEADER + "|---|---|---|---|---|---|\n"
        "| `GLM4VForCausalLM`<sup>^</sup> | GLM-4V | T + I | `z/g` | ✅︎ | ✅︎ |\n",
        NewRow("Gemma3ForConditionalGeneration", "Gemma 3", pp=True),
        MM_HEADER + "|---|---|---|---|---|---|\n"
        "| `Gemma3ForConditionalGeneration` | Gemma 3 | T | | | ✅︎ |\n"
        "| `GLM4VForCausalLM`<sup>^</sup> | GLM-4V | T + I | `z/g` | ✅︎ | ✅︎ |\n",
        id="multimodal Inputs defaults to T, first slot",
    ),
    pytest.param(
        "multimodal",
        MM_HEADER + "|---|---|---|---|---|---|\n",
        NewRow("AriaForConditionalGeneration", "Aria", "T + I<sup>+</sup>", "r/A"),
        MM_HEADER + "|---|---|---|---|---|---|\n"
        "| `AriaForConditionalGeneration` | Aria | T + I<sup>+</sup> | `r/A` | | |\n",
        id="empty table: after the separator",
    ),
    pytest.param(
        "embedding",
        V1_HEADER + V1_SEP + "| `BertModel` | BERT | `b/b` |  |  | ✅︎ |\n",
        NewRow("RobertaModel", "RoBERTa", lora=True),
        V1_HEADER + V1_SEP + "| `BertModel` | BERT | `b/b` |  |  | ✅︎ |\n"
        "| `RobertaModel` | RoBERTa |  | ✅︎ |  |  |\n",
        id="old V1 column stays empty, empty cells as the table writes them",
    ),
    pytest.param(
        "text-generation",
        SHORT_HEADER + OLD_SEP + "|`AquilaForCausalLM`|Aquila|`B/A`|✅︎|✅︎|\n",
        MISTRAL,
        SHORT_HEADER + OLD_SEP + "|`AquilaForCausalLM`|Aquila|`B/A`|✅︎|✅︎|\n"
        "|`MistralForCausalLM`|Mistral|`mistralai/M-7B`|||\n",
        id="unpadded table gets an unpadded row",
    ),
    pytest.param(
        "text-generation",
        SHORT_HEADER + NEW_SEP + "| `Gemma2ForCausalLM` | Gemma 2 | `g/2` |✅︎|✅︎|\n"
        "| `ChatGLMModel`, `ChatGLMForConditionalGeneration` | ChatGLM | `z/c` | | |\n"
        "| `ZambaForCausalLM` | Zamba | `Z/z` | | |\n",
        NewRow("GemmaForCausalLM", "Gemma", hf_example="g/1"),
        SHORT_HEADER + NEW_SEP + "| `Gemma2ForCausalLM` | Gemma 2 | `g/2` |✅︎|✅︎|\n"
        "| `ChatGLMModel`, `ChatGLMForConditionalGeneration` | ChatGLM | `z/c` | | |\n"
        "| `GemmaForCausalLM` | Gemma | `g/1` | | |\n"
        "| `ZambaForCausalLM` | Zamba | `Z/z` | | |\n",
        # Slots 0 and 2 both leave one inversion (Gemma2 or ChatGLM); ties go last.
        id="messy table: latest slot with fewest inversions",
    ),
    pytest.param(
        "text-generation",
        SHORT_HEADER + NEW_SEP + "| `AquilaForCausalLM` | Aquila | | | |\n",
        NewRow("ZambaForCausalLM", "Zamba | hybrid"),
        SHORT_HEADER + NEW_SEP + "| `AquilaForCausalLM` | Aquila | | | |\n"
        "| `ZambaForCausalLM` | Zamba \\| hybrid | | | |\n",
        id="last slot; a pipe in the text is escaped",
    ),
]


@pytest.mark.parametrize(("kind", "before", "new", "after"), INSERTS)
def test_insert(kind: str, before: str, new: NewRow, after: str) -> None:
    inserted = insert_row(in_doc(before, kind), kind, new, family_key)
    assert inserted == in_doc(after, kind)
    with pytest.raises(ScaffoldError):
        insert_row(inserted, kind, new, family_key)
    assert remove_arch(inserted, new.arch) == in_doc(before, kind)


def test_insert_at_end_of_file_keeps_missing_newline() -> None:
    doc = (
        f"## Text-only\n#### Text Generation\n{SHORT_HEADER}{NEW_SEP}| `A` | a | | | |"
    )
    inserted = insert_row(doc, "text-generation", NewRow("B"), family_key)
    assert inserted == doc + "\n| `B` | | | | |"
    assert remove_arch(inserted, "B") == doc


@pytest.mark.parametrize(
    ("arch", "line"), [("LlamaForCausalLM", 17), ("ChatGLMModel", 18)]
)
def test_insert_refuses_arch_in_table(arch: str, line: int) -> None:
    doc = in_doc(
        SHORT_HEADER + NEW_SEP + "| `LlamaForCausalLM` | Llama | | | |\n"
        "| `ChatGLMForConditionalGeneration`, `ChatGLMModel` | GLM | | | |\n"
    )
    with pytest.raises(ScaffoldError) as error:
        insert_row(doc, "text-generation", NewRow(arch), family_key)
    assert error.value.line == line


def test_insert_allows_arch_listed_in_another_table() -> None:
    doc = in_doc(SHORT_HEADER + NEW_SEP)
    assert (
        insert_row(doc, "text-generation", NewRow("OlmoForCausalLM"), family_key)
        is not None
    )


@pytest.mark.parametrize("kind", ["speculative", "cross-encoder"])
def test_insert_without_table_returns_none(kind: str) -> None:
    assert insert_row(in_doc(SHORT_HEADER + NEW_SEP), kind, MISTRAL, family_key) is None


@pytest.mark.parametrize("arch", ["", "Not-An-Identifier", "A`B"])
def test_insert_refuses_bad_names(arch: str) -> None:
    with pytest.raises(ScaffoldError):
        insert_row(
            in_doc(SHORT_HEADER + NEW_SEP), "text-generation", NewRow(arch), family_key
        )


SHARED = "| `A`<sup>^</sup>, `B` <sup>Q</sup>, `C` | ABC | `o/abc` | ✅︎ | |\n"

REMOVES = [
    pytest.param(
        SHARED, "A", "| `B` <sup>Q</sup>, `C` | ABC | `o/abc` | ✅︎ | |\n", id="first"
    ),
    pytest.param(
        SHARED, "B", "| `A`<sup>^</sup>, `C` | ABC | `o/abc` | ✅︎ | |\n", id="middle"
    ),
    pytest.param(
        SHARED,
        "C",
        "| `A`<sup>^</sup>, `B` <sup>Q</sup> | ABC | `o/abc` | ✅︎ | |\n",
        id="last keeps the superscripts of the others",
    ),
    pytest.param("|`A`,`B`|AB|||\n", "B", "|`A`|AB|||\n", id="unpadded"),
    pytest.param(
        "| `A` | A | | | |\n| `B` | B | | | |\n", "A", "| `B` | B | | | |\n", id="row"
    ),
]


@pytest.mark.parametrize(("rows", "arch", "after"), REMOVES)
def test_remove(rows: str, arch: str, after: str) -> None:
    removed = remove_arch(in_doc(SHORT_HEADER + NEW_SEP + rows), arch)
    assert removed == in_doc(SHORT_HEADER + NEW_SEP + after)
    assert remove_arch(removed, arch) == removed


def test_remove_from_every_table_or_one_kind() -> None:
    doc = in_doc(SHORT_HEADER + NEW_SEP + "| `OlmoForCausalLM` | OLMo | | | |\n")
    everywhere = in_doc(SHORT_HEADER + NEW_SEP).replace(
        "| `OlmoForCausalLM` | OLMo |\n", ""
    )
    assert remove_arch(doc, "OlmoForCausalLM") == everywhere
    only_main = in_doc(SHORT_HEADER + NEW_SEP)
    assert remove_arch(doc, "OlmoForCausalLM", kind="text-generation") == only_main


def test_remove_last_line_without_newline() -> None:
    doc = "| Architecture |\n|---|\n| `A` |\n| `B` |"
    assert remove_arch(doc, "B") == "| Architecture |\n|---|\n| `A` |"


@pytest.mark.parametrize(
    ("doc", "arch"),
    [
        pytest.param(in_doc(SHORT_HEADER + NEW_SEP + SHARED), "D", id="absent"),
        pytest.param(in_doc(SHORT_HEADER + NEW_SEP), "Supported", id="prose"),
        pytest.param("```\n| Architecture |\n|---|\n| `A` |\n```\n", "A", id="code"),
        pytest.param(in_doc(SHORT_HEADER + NEW_SEP), "OlmoForCausalLM", id="kind"),
    ],
)
def test_remove_noop(doc: str, arch: str) -> None:
    assert remove_arch(doc, arch, kind="text-generation") == doc
