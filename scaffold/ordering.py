"""The one ordering function: sort keys for architecture names and slot choice.

Every place that orders entries (insertion, ``check``, ``--fix``, docs rows)
goes through :func:`get_key` so that the three can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

SUFFIXES = [
    "ForConditionalGeneration",
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForProcessRewardModel",
    "ForRewardModel",
    "ForTextEncoding",
    "ForMaskedLM",
    "ForCausalLM",
    "LMHeadModel",
    "EmbeddingModel",
    "ChatModel",
    "RewardModel",
    "Model",
]

_TOKEN = re.compile(r"\d+|[^\d_]+")

SortKey = Callable[[str], Any]


def natural(text: str) -> tuple[tuple[int, str], ...]:
    """Case- and underscore-insensitive key; a digit run sorts before letters.

    Digit runs compare digit by digit, as version numbers are written in
    architecture names: ``DeepseekV32`` is 3.2 and comes before ``DeepseekV4``,
    ``KimiK25`` before ``KimiK3`` (upstream vLLM's order; comparing them as
    integers would put 32 after 4).
    """
    return tuple(
        (0, token) if token.isdigit() else (1, token)
        for token in _TOKEN.findall(text.casefold())
    )


def split_family(arch: str) -> tuple[str, str]:
    """Split ``arch`` into (stem, head suffix); ``("Foo", "")`` when no suffix fits."""
    for suffix in SUFFIXES:
        if arch.endswith(suffix) and arch != suffix:
            return arch[: -len(suffix)], suffix
    return arch, ""


def family_key(arch: str) -> tuple[Any, ...]:
    """DESIGN §4 ``family`` key: a base before its numbered variants, heads together.

    Names equal but for case or underscores (``ExaoneMoE``/``ExaoneMoe``,
    ``LLaMA``/``Llama``) get equal keys: either order is sorted, so neither
    is an ``order`` finding and ``--fix`` (a stable sort) leaves them be.
    """
    stem, suffix = split_family(arch)
    return (natural(stem), natural(suffix))


def casefold_key(arch: str) -> str:
    """The ``casefold`` key."""
    return arch.casefold()


def ascii_key(arch: str) -> str:
    """The ``ascii`` key: plain code-point order."""
    return arch


KEYS: dict[str, SortKey] = {
    "family": family_key,
    "casefold": casefold_key,
    "ascii": ascii_key,
}


def get_key(name: str = "family") -> SortKey:
    """Return the sort key called ``name`` (``family``, ``casefold`` or ``ascii``)."""
    try:
        return KEYS[name]
    except KeyError:
        raise ValueError(
            f"unknown key {name!r} (choose one of: {', '.join(KEYS)})"
        ) from None


def slot_costs(keys: Sequence[Any], new_key: Any) -> list[int]:
    """Out-of-order pairs the new key would create at each slot ``0..len(keys)``.

    Slot ``i`` puts the new entry before ``keys[i]``; its cost is the number of
    earlier keys greater than ``new_key`` plus later keys smaller than it.
    Computed in one pass: moving the slot right past ``keys[i]`` changes the cost
    by +1 if ``keys[i] > new_key`` and -1 if ``keys[i] < new_key``.
    """
    cost = sum(1 for key in keys if key < new_key)
    costs = [cost]
    for key in keys:
        if key > new_key:
            cost += 1
        elif key < new_key:
            cost -= 1
        costs.append(cost)
    return costs


def best_slot(keys: Sequence[Any], new_key: Any) -> int:
    """Slot with the fewest out-of-order pairs; ties go to the latest such slot.

    The latest slot keeps a new entry after equal keys and after a run of
    entries it sorts with, which is what a reviewer expects in a sorted list.
    """
    costs = slot_costs(keys, new_key)
    least = min(costs)
    return max(i for i, cost in enumerate(costs) if cost == least)


def out_of_order(keys: Sequence[Any]) -> list[int]:
    """Indices of entries whose key is smaller than the entry directly above."""
    return [i for i in range(1, len(keys)) if keys[i] < keys[i - 1]]
