"""The editors against the quirky vLLM-shaped fixture (tests/fixtures/vllm_tree).

Expected findings are the ones listed in the fixture's README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.errors import ScaffoldError
from scaffold.ordering import get_key
from scaffold.pydict.check import check_dicts
from scaffold.pydict.edit import insert_entry, remove_entry, sort_dicts
from scaffold.pydict.parse import parse_source, split_keeping_ends
from scaffold.pydict.values import example_value, registry_value

TREE = Path(__file__).parents[1] / "fixtures" / "vllm_tree"
REGISTRY = (TREE / "vllm/model_executor/models/registry.py").read_text()
EXAMPLES = (TREE / "tests/models/registry.py").read_text()
KINDS = ["TEXT_GENERATION", "EMBEDDING", "CROSS_ENCODER", "MULTIMODAL"]
KINDS += ["SPECULATIVE_DECODING"]
REGISTRY_DICTS = [f"_{kind}_MODELS" for kind in KINDS]
EXAMPLE_DICTS = [f"_{kind}_EXAMPLE_MODELS" for kind in KINDS]
FAMILY = get_key("family")

REGISTRY_ORDER = [
    (12, "AquilaForCausalLM"),
    (19, "CohereForCausalLM"),
    (25, "GlmForCausalLM"),
    (27, "GPT2LMHeadModel"),
    (37, "MiniMaxM1ForCausalLM"),
    # (40, "MPTForCausalLM") after "MptForCausalLM": equal but for case, no finding
    (44, "StableLMEpochForCausalLM"),
    (60, "Qwen2ForRewardModel"),
    (61, "Qwen2ForProcessRewardModel"),
    (69, "PrithviGeoSpatialMAE"),
    (91, "DeepseekOCRForCausalLM"),
    (100, "Qwen2VLForConditionalGeneration"),
    (105, "TarsierForConditionalGeneration"),
    (112, "EagleLlamaForCausalLM"),
    (114, "Eagle3LlamaForCausalLM"),
    (115, "DeepSeekMTPModel"),
]
EXAMPLES_ORDER = [
    (27, "AquilaForCausalLM"),
    # (60, "LLaMAForCausalLM"): equal but for case to "LlamaForCausalLM" above
    (74, "Qwen3ForCausalLM"),
    (88, "Qwen2ForProcessRewardModel"),
    (125, "LlavaForConditionalGeneration"),
    (133, "Qwen2VLForConditionalGeneration"),
    (146, "DeepSeekMTPModel"),
    (156, "Eagle3LlamaForCausalLM"),
]


def test_fixture_layout() -> None:
    dicts = parse_source(REGISTRY).dicts
    assert [len(dicts[name].entries) for name in REGISTRY_DICTS] == [27, 11, 3, 12, 6]
    sections = [(s.name, len(s.entries)) for s in dicts["_EMBEDDING_MODELS"].sections]
    # The splat sits inside [Text-only] without cutting it (upstream's
    # _EMBEDDING_MODELS is one alphabetical run through its splat).
    assert sections == [(None, 0), ("Text-only", 7), ("Multimodal", 4)]
    whisper = dicts["_MULTIMODAL_MODELS"].find("WhisperForConditionalGeneration")
    assert whisper[0].section == "Encoder-decoder"
    assert dicts["_TEXT_GENERATION_MODELS"].find("StableLMEpochForCausalLM")[
        0
    ].pair == (
        "stablelm",
        "StablelmForCausalLM",
    )


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        (REGISTRY, REGISTRY_DICTS, REGISTRY_ORDER),
        (EXAMPLES, EXAMPLE_DICTS, EXAMPLES_ORDER),
    ],
    ids=["registry", "examples"],
)
def test_known_order_findings(
    text: str, names: list[str], expected: list[tuple[int, str]]
) -> None:
    findings = check_dicts(text, FAMILY, names)
    assert {finding.code for finding in findings} == {"order"}
    assert [(finding.line, finding.arch) for finding in findings] == expected


@pytest.mark.parametrize("text", [REGISTRY, EXAMPLES], ids=["registry", "examples"])
def test_sort_fixes_every_order_finding(text: str) -> None:
    fixed = sort_dicts(text, FAMILY)
    assert fixed != text
    assert sort_dicts(fixed, FAMILY) == fixed
    assert check_dicts(fixed, FAMILY) == []
    before, after = split_keeping_ends(text), split_keeping_ends(fixed)
    assert sorted(before) == sorted(after)
    for number, line in enumerate(before):
        stripped = line.strip()
        if (
            stripped.startswith(("# [", "**", "# Temporarily", '# "MLP'))
            or not stripped
        ):
            assert after[number] == line  # headers, splats, footers stay put


# (dict, key, section, the line the entry lands on, the line just above it)
REGISTRY_INSERTS = [
    (
        "_TEXT_GENERATION_MODELS",
        "MistralForCausalLM",
        None,
        38,
        '"MiniMaxM1ForCausalLM"',
    ),
    ("_TEXT_GENERATION_MODELS", "AfmoeForCausalLM", None, 11, "# [Decoder-only]"),
    # Splats are no barriers: past "LlamaModel", through the **{...}.
    ("_EMBEDDING_MODELS", "NomicBertModel", None, 59, '"MistralModel"'),
    ("_EMBEDDING_MODELS", "ZetaModel", None, 62, '"Qwen2ForProcessRewardModel"'),
    ("_EMBEDDING_MODELS", "CLIPEmbeddingModel", "Multimodal", 63, "# [Multimodal]"),
    (
        "_MULTIMODAL_MODELS",
        "BartForConditionalGeneration",
        "Encoder-decoder",
        107,
        "# [",
    ),
    ("_SPECULATIVE_DECODING_MODELS", "Qwen3NextMTP", None, 117, '"MedusaModel"'),
]


@pytest.mark.parametrize(("name", "key", "section", "line", "above"), REGISTRY_INSERTS)
def test_insert_into_quirky_registry(
    name: str, key: str, section: str | None, line: int, above: str
) -> None:
    value = registry_value("some_module", key)
    result = insert_entry(REGISTRY, name, key, value, FAMILY, section)
    lines = split_keeping_ends(result)
    assert lines[line - 1] == f'    "{key}": ("some_module", "{key}"),\n'
    assert lines[line - 2].strip().startswith(above)
    assert remove_entry(result, name, key) == REGISTRY


def test_duplicates_only_refused_within_one_dict() -> None:
    key = "LlavaNextForConditionalGeneration"  # in embedding and multimodal
    value = registry_value("llava_next", key)
    assert key in insert_entry(REGISTRY, "_TEXT_GENERATION_MODELS", key, value, FAMILY)
    with pytest.raises(ScaffoldError, match="already in _MULTIMODAL_MODELS"):
        insert_entry(REGISTRY, "_MULTIMODAL_MODELS", key, value, FAMILY)


def test_insert_exploded_example() -> None:
    key = "Qwen2_5_VLForConditionalGeneration"
    value = example_value("Qwen/Qwen2.5-VL-3B-Instruct", trust_remote_code=True)
    result = insert_entry(EXAMPLES, "_MULTIMODAL_EXAMPLE_MODELS", key, value, FAMILY)
    assert (
        f'    "{key}": _HfExamplesInfo(\n'
        '        "Qwen/Qwen2.5-VL-3B-Instruct",\n'
        "        trust_remote_code=True,\n"
        "    ),\n"
        '    "QwenVLForConditionalGeneration": _HfExamplesInfo(\n'
    ) in result
    assert remove_entry(result, "_MULTIMODAL_EXAMPLE_MODELS", key) == EXAMPLES
