"""The packed weights move onto huge pages (``model_loader/huge_pages.py``)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

from vllm_stub import LLM, SamplingParams
from vllm_stub.model_executor.layers import cpu_fast_paths
from vllm_stub.model_executor.layers.linear import LinearBase
from vllm_stub.model_executor.model_loader import huge_pages

offered = pytest.mark.skipif(
    not huge_pages.huge_pages_offered(), reason="transparent huge pages are off"
)


def _weights() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    shapes = [(3, 5), (1024, 700), (16, 9, 16), (7,)]
    return [torch.randn(shape, generator=generator) for shape in shapes]


def _mapping(address: int) -> tuple[int, int, int]:
    """The mapping of this process that holds ``address``: its start, end and
    ``AnonHugePages`` (KiB)."""
    found = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            low, high = (int(end, 16) for end in head.split("-"))
            inside = low <= address < high
        elif inside and head == "AnonHugePages:":
            found = low, high, int(line.split()[1])
    assert found is not None, f"no mapping holds {address:#x}"
    return found


@offered
def test_weights_keep_objects_and_values_in_one_aligned_mapping() -> None:
    weights = _weights()
    copies = [w.clone() for w in weights]
    holder = weights[1]  # a layer's reference to its weight, taken before
    moved = huge_pages.move_to_huge_pages([*weights, holder])
    assert moved == sum(-(-w.nbytes // 64) * 64 for w in weights)
    for weight, copy in zip(weights, copies, strict=True):
        assert torch.equal(weight, copy) and weight.is_contiguous()
    # back to back from a huge page's boundary, each from its storage's start
    assert weights[0].data_ptr() % huge_pages.HUGE_PAGE == 0
    for weight, after in zip(weights, weights[1:], strict=False):
        assert after.data_ptr() - weight.data_ptr() == -(-weight.nbytes // 64) * 64
    assert all(w.storage_offset() == 0 for w in weights)
    assert holder.data_ptr() == weights[1].data_ptr()
    assert len({_mapping(w.data_ptr()) for w in weights}) == 1
    assert _mapping(weights[1].data_ptr())[2] >= huge_pages.HUGE_PAGE // 1024


@offered
def test_the_old_memory_is_freed() -> None:
    weight = cpu_fast_paths.pack_weight_(torch.randn(64, 32))
    assert weight is not None
    old = weight.untyped_storage()
    assert _holders(old) == 2  # the weight and this test
    huge_pages.move_to_huge_pages([weight])
    # this test alone: no view's base or other tensor keeps the old memory
    assert _holders(old) == 1


def _holders(storage: torch.UntypedStorage) -> int:
    return torch._C._storage_Use_Count(storage._cdata)


def test_nothing_moves_where_huge_pages_are_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting = tmp_path / "enabled"
    setting.write_text("always madvise [never]\n")
    monkeypatch.setattr(huge_pages, "_THP_SETTING", setting)
    weights = _weights()
    places = [w.data_ptr() for w in weights]
    assert huge_pages.move_to_huge_pages(weights) == 0
    assert [w.data_ptr() for w in weights] == places


@offered
def test_a_loaded_model_streams_its_weights_from_huge_pages(make_checkpoint) -> None:
    folder, hf_model = make_checkpoint(tie_word_embeddings=True)
    llm = LLM(str(folder))
    model = llm.llm_engine.model_runner.model
    packed = [
        inspect.getclosurevars(layer.cpu_linear).nonlocals["packed"]
        for layer in model.modules()
        if isinstance(layer, LinearBase)
    ]
    packed.append(model.model.embed_tokens.packed_weight)  # the tied LM head's
    mappings = {_mapping(weight.data_ptr()) for weight in packed}
    assert len(mappings) == 1 and mappings.pop()[2] >= huge_pages.HUGE_PAGE // 1024
    assert all(weight.storage_offset() == 0 for weight in packed)
    prompt = [3, 1, 4, 1, 5, 9, 2, 6]
    params = SamplingParams(temperature=0, max_tokens=12, ignore_eos=True)
    tokens = llm.generate({"prompt_token_ids": prompt}, params, use_tqdm=False)
    expected = hf_model.generate(
        torch.tensor([prompt]), do_sample=False, max_new_tokens=12, min_new_tokens=12
    )
    assert tokens[0].outputs[0].token_ids == expected[0, len(prompt) :].tolist()
