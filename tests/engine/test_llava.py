"""LLaVA on vllm_stub against transformers: images in, greedy tokens equal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from PIL import Image

from scaffold.verify.images import TINY_VISION
from scaffold.verify.parity import TINY_CONFIG, save_byte_tokenizer
from vllm_stub import LLM, SamplingParams
from vllm_stub.model_executor.models.interfaces import supports_multimodal
from vllm_stub.model_executor.models.llava import LlavaForConditionalGeneration

IMAGE_TOKEN = 255
# verify's tiny CLIP tower, given to CLIPVisionConfig (no model_type)
VISION = {k: v for k, v in TINY_VISION.items() if k != "model_type"}
PARAMS = SamplingParams(temperature=0, max_tokens=10, ignore_eos=True)


def _image(seed: int, size: tuple[int, int] = (40, 50)) -> Image.Image:
    pixels = np.random.default_rng(seed).random((*size, 3)) * 255
    return Image.fromarray(pixels.astype("uint8"))


def _processor() -> object:
    cls = getattr(
        transformers, "CLIPImageProcessorPil", transformers.CLIPImageProcessor
    )
    return cls(size={"shortest_edge": 30}, crop_size={"height": 30, "width": 30})


def make_llava(folder: Path, text_cls: str = "LlamaConfig", **overrides: object):
    """A tiny random LLaVA with its image processor and a byte tokenizer."""
    text_config = getattr(transformers, text_cls)(**TINY_CONFIG)
    config = transformers.LlavaConfig(
        vision_config=transformers.CLIPVisionConfig(**VISION),
        text_config=text_config,
        image_token_index=IMAGE_TOKEN,
        **overrides,
    )
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    _processor().save_pretrained(folder)
    save_byte_tokenizer(folder)
    return model


def _expanded(prompt: list[int], count: int) -> list[int]:
    out: list[int] = []
    for token in prompt:
        out += [token] * count if token == IMAGE_TOKEN else [token]
    return out


def _reference(model, prompt: list[int], images: list[Image.Image]) -> list[int]:
    count = LlavaForConditionalGeneration.get_num_image_tokens(model.config)
    ids = torch.tensor([_expanded(prompt, count)])
    pixel_values = _processor()(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            pixel_values=pixel_values,
            do_sample=False,
            max_new_tokens=PARAMS.max_tokens,
            eos_token_id=None,
        )
    return out[0, ids.shape[1] :].tolist()


@pytest.mark.parametrize(
    ("text_cls", "overrides"),
    [
        ("LlamaConfig", {"vision_feature_layer": -2}),
        ("LlamaConfig", {"vision_feature_layer": -1}),
        ("LlamaConfig", {"vision_feature_layer": 1, "projector_hidden_act": "silu"}),
        ("Qwen2Config", {"vision_feature_select_strategy": "full"}),
    ],
    ids=["layer-2", "layer-1", "layer1-silu", "qwen2-full"],
)
def test_greedy_tokens_match_transformers(tmp_path, text_cls, overrides):
    reference = make_llava(tmp_path, text_cls, **overrides)
    llm = LLM(model=tmp_path, dtype="float32")
    assert supports_multimodal(type(llm.model))
    prompt = [1, 5, IMAGE_TOKEN, 17, 42]
    image = _image(0)
    (output,) = llm.generate(
        {"prompt_token_ids": prompt, "multi_modal_data": {"image": image}},
        PARAMS,
        use_tqdm=False,
    )
    assert output.outputs[0].token_ids == _reference(reference, prompt, [image])


def test_text_prompt_and_batch_of_several_images_equal_one_by_one(tmp_path):
    make_llava(tmp_path)
    llm = LLM(model=tmp_path, dtype="float32")
    prompts = [
        {"prompt": "Hi <image> what?", "multi_modal_data": {"image": _image(1)}},
        {
            "prompt_token_ids": [3, IMAGE_TOKEN, 9, IMAGE_TOKEN, 4],
            "multi_modal_data": {"image": [_image(2, (60, 30)), _image(3)]},
        },
        {"prompt_token_ids": [7, 8, 9]},
    ]
    batched = llm.generate(prompts, PARAMS, use_tqdm=False)
    for prompt, output in zip(prompts, batched, strict=True):
        (alone,) = llm.generate(prompt, PARAMS, use_tqdm=False)
        assert alone.outputs[0].token_ids == output.outputs[0].token_ids
    count = LlavaForConditionalGeneration.get_num_image_tokens(llm.model.config)
    text_ids = batched[0].prompt_token_ids
    assert text_ids.count(IMAGE_TOKEN) == count
    assert text_ids == [*b"Hi ", *[IMAGE_TOKEN] * count, *b" what?"]


def test_bad_multimodal_prompts_are_value_errors(tmp_path, make_checkpoint):
    make_llava(tmp_path)
    llm = LLM(model=tmp_path, dtype="float32")
    image = _image(0)
    cases = {
        "no image placeholder": {"prompt_token_ids": [1, 2], "image": image},
        "1 image placeholders .* for 2 image": {
            "prompt_token_ids": [1, IMAGE_TOKEN],
            "image": [image, image],
        },
        "must be a PIL.Image.Image": {
            "prompt_token_ids": [1, IMAGE_TOKEN],
            "image": np.zeros((4, 4, 3)),
        },
    }
    for message, case in cases.items():
        prompt = {
            "prompt_token_ids": case["prompt_token_ids"],
            "multi_modal_data": {"image": case["image"]},
        }
        good = {"prompt_token_ids": [1, 2, 3]}
        with pytest.raises(ValueError, match=message):
            llm.generate([good, prompt], PARAMS, use_tqdm=False)
        assert not llm.llm_engine.has_unfinished_requests()  # nothing half-run
    folder, _ = make_checkpoint("LlamaForCausalLM")
    text_only = LLM(model=folder, dtype="float32")
    with pytest.raises(ValueError, match="LlamaForCausalLM is a text-only model"):
        text_only.generate(
            {"prompt_token_ids": [1, 2], "multi_modal_data": {"image": image}}, PARAMS
        )
