"""Tokenizer and end-of-sequence ids of a local model folder."""

from __future__ import annotations

import json
from pathlib import Path

from transformers import AutoTokenizer, PretrainedConfig, PreTrainedTokenizerBase

# Any of these means the folder ships a tokenizer.
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "vocab.json",
)


def get_tokenizer(
    folder: str | Path, trust_remote_code: bool = False, required: bool = False
) -> PreTrainedTokenizerBase | None:
    """The folder's tokenizer, or ``None`` when it has no tokenizer files.

    ``required`` (a tokenizer folder the user named) turns a missing folder or
    tokenizer into a ``FileNotFoundError``.
    """
    path = Path(folder)
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        if required:
            raise FileNotFoundError(
                f"tokenizer folder {str(path)!r} has no tokenizer files "
                f"(one of {', '.join(_TOKENIZER_FILES)})"
            )
        return None
    return AutoTokenizer.from_pretrained(
        path, local_files_only=True, trust_remote_code=trust_remote_code
    )


def get_eos_token_ids(model: str | Path, hf_config: PretrainedConfig) -> set[int]:
    """EOS ids from ``generation_config.json``, else from the model config."""
    eos = None
    generation_config = Path(model) / "generation_config.json"
    if generation_config.is_file():
        eos = json.loads(generation_config.read_text()).get("eos_token_id")
    if eos is None:
        eos = getattr(hf_config, "eos_token_id", None)
    if eos is None:
        return set()
    return {eos} if isinstance(eos, int) else set(eos)
