"""Helpers shared by vision encoders, as vLLM's ``models/vision.py``."""


def get_num_selected_vision_tokens(num_vision_tokens: int, strategy: str) -> int:
    """Tokens left of an encoder's ``num_vision_tokens`` after feature selection.

    ``"default"`` drops the class token, ``"full"`` keeps every token,
    ``"class"`` keeps the class token alone.
    """
    if strategy == "class":
        return 1
    if strategy == "default":
        return num_vision_tokens - 1
    if strategy == "full":
        return num_vision_tokens
    raise ValueError(f"Unexpected feature select strategy: {strategy!r}")
