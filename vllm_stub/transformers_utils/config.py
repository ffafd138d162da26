"""Load a local folder's ``config.json`` and normalise its RoPE fields."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig, PretrainedConfig


def get_config(model: str | Path, trust_remote_code: bool = False) -> PretrainedConfig:
    """The transformers config of a local model folder (no hub look-ups)."""
    path = Path(model)
    if not path.is_dir():
        raise FileNotFoundError(f"model folder {str(path)!r} does not exist")
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"model folder {str(path)!r} has no config.json")
    config = AutoConfig.from_pretrained(
        path, local_files_only=True, trust_remote_code=trust_remote_code
    )
    patch_rope_parameters(config)
    return config


def patch_rope_parameters(config: PretrainedConfig) -> None:
    """Give ``config`` a v5-style ``rope_parameters`` dict whatever its vintage.

    transformers 5 keeps ``rope_theta``/``rope_type`` inside ``rope_parameters``;
    4.x configs have a top-level ``rope_theta`` and an optional ``rope_scaling``
    (whose type key may be the legacy ``type``). Model code reads only the dict.
    """
    params = dict(getattr(config, "rope_parameters", None) or {})
    # vars(): transformers 5 turns `rope_scaling` into a deprecated property
    legacy_scaling = vars(config).get("rope_scaling") or {}
    for key, value in legacy_scaling.items():
        params.setdefault(key, value)
    if "type" in params:
        params.setdefault("rope_type", params.pop("type"))
    params.setdefault("rope_type", "default")
    params.setdefault("rope_theta", vars(config).get("rope_theta", 10000.0))
    partial = getattr(config, "partial_rotary_factor", None)
    if partial is not None:
        params.setdefault("partial_rotary_factor", partial)
    config.rope_parameters = params


def set_default_rope_theta(config: PretrainedConfig, default_theta: float) -> None:
    """Give ``config`` a ``rope_theta`` when its ``rope_parameters`` lack one."""
    if getattr(config, "rope_parameters", None) is None:
        config.rope_parameters = {"rope_type": "default"}
    config.rope_parameters.setdefault("rope_theta", default_theta)
