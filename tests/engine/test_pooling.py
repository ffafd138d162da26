"""``LLM(runner="pooling")``: embed and classify against transformers.

A causal-LM checkpoint run as a pooling model is converted as vLLM converts
it: the last token's final hidden state, L2-normalised.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vllm_stub import LLM
from vllm_stub.outputs import ClassificationRequestOutput, EmbeddingRequestOutput
from vllm_stub.pooler_config import PoolerConfig
from vllm_stub.pooling_params import PoolingParams

PROMPTS = [[1, 2, 3, 4, 5], [9, 8, 7], [5, 6, 7, 8, 9, 10, 11, 12, 13], [42]]


def _ids(prompts: list[list[int]]) -> list[dict[str, list[int]]]:
    return [{"prompt_token_ids": p} for p in prompts]


def _hidden(model: torch.nn.Module, prompt: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model.model(torch.tensor([prompt])).last_hidden_state[0]


@pytest.mark.parametrize(
    "overrides",
    [
        {"num_key_value_heads": 2},  # GQA
        {"num_key_value_heads": 4, "tie_word_embeddings": True},
    ],
    ids=["gqa", "tied"],
)
def test_embed_is_transformers_last_token_normalised(make_checkpoint, overrides):
    folder, reference = make_checkpoint("Qwen2ForCausalLM", **overrides)
    llm = LLM(model=folder, runner="pooling", dtype="float32")
    outputs = llm.embed(_ids(PROMPTS), use_tqdm=False)
    assert all(isinstance(o, EmbeddingRequestOutput) for o in outputs)
    for prompt, output in zip(PROMPTS, outputs, strict=True):
        expected = F.normalize(_hidden(reference, prompt)[-1], dim=-1)
        got = torch.tensor(output.outputs.embedding)
        assert output.prompt_token_ids == prompt
        assert F.cosine_similarity(expected, got, dim=0) >= 0.9999
        assert (expected - got).abs().max() < 1e-4


def test_batch_of_mixed_lengths_equals_one_by_one(make_checkpoint):
    folder, _ = make_checkpoint("Qwen2ForCausalLM", num_key_value_heads=2)
    llm = LLM(model=folder, runner="pooling", dtype="float32", max_num_seqs=3)
    batched = llm.embed(_ids(PROMPTS), use_tqdm=False)
    for prompt, output in zip(PROMPTS, batched, strict=True):
        alone = llm.embed(_ids([prompt]), use_tqdm=False)[0]
        assert torch.allclose(
            torch.tensor(alone.outputs.embedding),
            torch.tensor(output.outputs.embedding),
            atol=1e-6,
        )


@pytest.mark.parametrize("pooling", ["MEAN", "CLS"])
def test_pooler_config_picks_the_pooling(make_checkpoint, pooling):
    folder, reference = make_checkpoint("LlamaForCausalLM")
    llm = LLM(
        model=folder,
        runner="pooling",
        dtype="float32",
        pooler_config=PoolerConfig(seq_pooling_type=pooling),
    )
    outputs = llm.embed(_ids(PROMPTS), use_tqdm=False)
    for prompt, output in zip(PROMPTS, outputs, strict=True):
        hidden = _hidden(reference, prompt)
        pooled = hidden.mean(0) if pooling == "MEAN" else hidden[0]
        got = torch.tensor(output.outputs.embedding)
        assert torch.allclose(F.normalize(pooled, dim=-1), got, atol=1e-5)


def test_pooling_params_truncate_and_skip_normalisation(make_checkpoint):
    folder, reference = make_checkpoint("LlamaForCausalLM")
    llm = LLM(model=folder, runner="pooling", dtype="float32")
    raw, short = llm.embed(
        _ids(PROMPTS[:2]),
        use_tqdm=False,
        pooling_params=[
            PoolingParams(use_activation=False),
            PoolingParams(dimensions=8),
        ],
    )
    expected = _hidden(reference, PROMPTS[0])[-1]
    assert torch.allclose(torch.tensor(raw.outputs.embedding), expected, atol=1e-5)
    assert short.outputs.hidden_size == 8


def test_backbone_checkpoint_named_model_is_an_embedding_model(make_checkpoint):
    # a bare Qwen2Model checkpoint: no LM head, no "model." prefix; *Model
    # architectures resolve to pooling as in vLLM
    folder, reference = make_checkpoint("Qwen2Model", num_key_value_heads=2)
    llm = LLM(model=folder, dtype="float32")
    (output,) = llm.embed(_ids(PROMPTS[:1]), use_tqdm=False)
    with torch.no_grad():
        hidden = reference(torch.tensor([PROMPTS[0]])).last_hidden_state[0, -1]
    got = torch.tensor(output.outputs.embedding)
    assert F.cosine_similarity(F.normalize(hidden, dim=-1), got, dim=0) >= 0.9999


@pytest.mark.parametrize("num_labels", [3, 1])
def test_classify_matches_transformers_sequence_classification(
    make_checkpoint, num_labels
):
    folder, reference = make_checkpoint(
        "Qwen2ForSequenceClassification", num_key_value_heads=2, num_labels=num_labels
    )
    llm = LLM(model=folder, dtype="float32")  # runner and convert from the name
    outputs = llm.classify(_ids(PROMPTS), use_tqdm=False)
    assert all(isinstance(o, ClassificationRequestOutput) for o in outputs)
    for prompt, output in zip(PROMPTS, outputs, strict=True):
        with torch.no_grad():
            logits = reference(torch.tensor([prompt])).logits[0]
        expected = logits.softmax(-1) if num_labels > 1 else logits.sigmoid()
        assert output.outputs.num_classes == num_labels
        assert torch.allclose(torch.tensor(output.outputs.probs), expected, atol=1e-5)


def test_bad_requests_are_value_errors(make_checkpoint):
    folder, _ = make_checkpoint("Qwen2ForCausalLM", num_key_value_heads=2)
    generator = LLM(model=folder, dtype="float32")
    with pytest.raises(ValueError, match=r"LLM.embed\(\) is only supported"):
        generator.embed(_ids(PROMPTS))
    with pytest.raises(ValueError, match="has no pooling form"):
        LLM(model=folder, runner="pooling", convert="none")
    embedder = LLM(model=folder, runner="pooling", dtype="float32")
    with pytest.raises(ValueError, match=r"LLM.generate\(\) is only supported"):
        embedder.generate(_ids(PROMPTS))
    with pytest.raises(ValueError, match="Classification API is not supported"):
        embedder.classify(_ids(PROMPTS))
    # a bad prompt anywhere in the batch: nothing is pooled
    with pytest.raises(ValueError, match="prompt token ids must be ints"):
        embedder.embed(_ids([[1, 2], [999]]))
    with pytest.raises(ValueError, match="runner must be one of"):
        LLM(model=folder, runner="embed")
