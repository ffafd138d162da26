"""Images for multimodal parity: a tiny vision config, a random image, pixels.

The checkpoint folder gets an image processor sized to its vision tower
(``preprocessor_config.json``, what the engine preprocesses with) and one
random image (``IMAGE_FILE``), which the engine subprocess opens; the
reference preprocesses the same image with the same processor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# CLIP-shaped and tiny: 3x3 patches of 10 pixels, a 3-layer tower.
TINY_VISION = {
    "model_type": "clip_vision_model",
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 3,
    "num_attention_heads": 2,
    "image_size": 30,
    "patch_size": 10,
}
IMAGE_FILE = "verify_image.png"  # PNG: lossless, the engine reads what was made
IMAGE_SIZE = (50, 40)  # width, height: not square, so it is resized and cropped


def image_token_id(config: Any) -> int:
    """The placeholder token of a LLaVA-style config (either field name)."""
    found = getattr(config, "image_token_index", None)
    return found if found is not None else config.image_token_id


def num_image_tokens(config: Any) -> int:
    """Tokens one image expands to: CLIP's patches, plus its CLS for ``full``."""
    vision = config.vision_config
    patches = (vision.image_size // vision.patch_size) ** 2
    strategy = getattr(config, "vision_feature_select_strategy", "default")
    return patches + 1 if strategy == "full" else patches


def with_placeholder(prompt: list[int], config: Any) -> list[int]:
    """``prompt`` with one image placeholder after its first two tokens."""
    return [*prompt[:2], image_token_id(config), *prompt[2:]]


def expanded(prompt: list[int], config: Any) -> list[int]:
    """The placeholder repeated once per image token, as vLLM expands it."""
    token = image_token_id(config)
    count = num_image_tokens(config)
    out: list[int] = []
    for item in prompt:
        out += [item] * count if item == token else [item]
    return out


def _processor_class() -> Any:
    import transformers

    # the PIL processor needs no torchvision (transformers >= 5); not a
    # getattr default: naming CLIPImageProcessor warns about torchvision
    pil = getattr(transformers, "CLIPImageProcessorPil", None)
    return pil or transformers.CLIPImageProcessor


def save_image_inputs(folder: Path, config: Any) -> None:
    """The image processor for ``config``'s tower, and a random image."""
    import numpy as np
    from PIL import Image

    size = config.vision_config.image_size
    processor = _processor_class()(
        size={"shortest_edge": size}, crop_size={"height": size, "width": size}
    )
    processor.save_pretrained(folder)
    width, height = IMAGE_SIZE
    pixels = np.random.default_rng(0).random((height, width, 3)) * 255
    Image.fromarray(pixels.astype("uint8")).save(folder / IMAGE_FILE)


def pixel_values(folder: Path) -> Any:
    """The saved image, preprocessed by the folder's own image processor."""
    from PIL import Image

    processor = _processor_class().from_pretrained(folder)
    with Image.open(folder / IMAGE_FILE) as image:
        return processor(images=[image.convert("RGB")], return_tensors="pt")[
            "pixel_values"
        ]
