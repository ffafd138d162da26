"""Hypothesis strategies for registries, shared by the property tests.

The generator writes registries with every layout the editors must survive:
section headers, comments above entries, trailing comments, exploded values,
splats, blank lines, floating comments, ``off``/``on`` regions, footers, and
a last entry without its trailing comma.
"""

from __future__ import annotations

from hypothesis import strategies as st

STEMS = ["Aya", "Gemma", "Gemma2", "Gemma3n", "GPT2", "GptOss", "Llama", "MPT", "Mpt"]
STEMS += ["Qwen2", "Qwen2_5_VL", "Qwen3", "Olmoe", "OPT", "LongArchitectureName"]
SUFFIXES = ["ForCausalLM", "Model", "ForConditionalGeneration", "LMHeadModel", ""]
ARCHS = sorted({stem + suffix for stem in STEMS for suffix in SUFFIXES})
HEADERS = ["Decoder-only", "Encoder-decoder", "Multimodal"]
NAME = "_MODELS"


def entry_lines(key: str, draw: st.DrawFn) -> list[str]:
    """One entry: maybe comments above, one-line or exploded, maybe a trailing note."""
    above = [f"    # about {key} {n}\n" for n in range(draw(st.integers(0, 2)))]
    trailing = draw(st.sampled_from(["", "  # noqa: E501", "  # AquilaChat2"]))
    if draw(st.booleans()):
        return [*above, f'    "{key}": ("mod", "{key}"),{trailing}\n']
    value = ['        "mod",\n', f'        "{key}",\n', f"    ),{trailing}\n"]
    return [*above, f'    "{key}": (\n', *value]


@st.composite
def registries(
    draw: st.DrawFn, name: str = NAME, *, comma_less: bool = True, max_size: int = 12
) -> str:
    """A module holding the dict ``name`` with a random layout.

    With ``comma_less``, the last entry may lack its trailing comma.
    """
    keys = draw(st.lists(st.sampled_from(ARCHS), unique=True, max_size=max_size))
    body: list[str] = []
    frozen = False
    for key in keys:
        barrier = draw(st.sampled_from(["", "", "", "header", "splat", "off", "gap"]))
        if barrier == "header":
            body.append(f"    # [{draw(st.sampled_from(HEADERS))}]\n")
        elif barrier == "splat":
            splat = draw(
                st.sampled_from(["**OTHER,", "**{k: v for k, v in OTHER.items()},"])
            )
            body.append(f"    {splat}\n")
        elif barrier == "off":
            body.append(f"    # scaffold: {'on' if frozen else 'off'}\n")
            frozen = not frozen
        elif barrier == "gap":
            body += draw(st.sampled_from([["\n"], ["    # floating\n", "\n"]]))
        body += entry_lines(key, draw)
    if keys and comma_less and draw(st.booleans()):
        body[-1] = body[-1].replace("),", ")", 1)  # its value's closing line
    if frozen:
        body.append("    # scaffold: on\n")
    body += [
        f'    # "Old{n}": ("old", "Old"),\n' for n in range(draw(st.integers(0, 2)))
    ]
    if not body:  # ruff writes an empty dict as `{}`; `{\n}` is not round-tripped
        return f'"""Doc."""\n\nOTHER = {{}}\n{name} = {{}}\n'
    return f'"""Doc."""\n\nOTHER = {{}}\n{name} = {{\n{"".join(body)}}}\nTAIL = 1\n'
