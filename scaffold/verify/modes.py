"""Which comparison ``verify`` runs for an architecture, from its kind.

A text-generation model is compared by prefill logits and greedy tokens; a
multimodal one the same way, with a random image in the prompt; a pooling
model by its pooled vectors (``embed``: the normalised last hidden state of
the last token; ``classify``: class probabilities). No torch here: the mode
is decided, and bad input refused, before anything is built.
"""

from __future__ import annotations

from scaffold.errors import ScaffoldError
from scaffold.registry import POOLING_DOCS, RegistryView

GENERATE = "generate"
MULTIMODAL = "multimodal"
EMBED = "embed"
CLASSIFY = "classify"
POOLING_MODES = (EMBED, CLASSIFY)
MODES = (GENERATE, MULTIMODAL, *POOLING_MODES)


def verify_mode(view: RegistryView, arch: str, reference: str) -> str:
    """The comparison for ``arch`` (registered in ``view``).

    ``reference`` is the transformers class it is compared with: a
    ``*ForSequenceClassification`` there classifies, whatever dict ``arch``
    is in. A pooling kind's task is the stem of its docs page (vLLM's task
    name); ``verify`` compares ``embed`` and ``classify`` only.
    """
    names = set(view.kind_dicts_holding(arch))
    kinds = [kind for kind in view.kinds.values() if kind.registry_dict in names]
    if any(kind.name == MULTIMODAL for kind in kinds):
        return MULTIMODAL
    if reference.endswith("ForSequenceClassification"):
        return CLASSIFY
    # upstream also lists some causal LMs (Qwen2ForCausalLM, Phi3ForCausalLM)
    # as embedding models; registered for generation, they are compared so
    if any(kind.name == "text-generation" for kind in kinds):
        return GENERATE
    for kind in kinds:
        if kind.is_pooling:
            task = POOLING_DOCS[kind.name]
            if task not in POOLING_MODES:
                raise ScaffoldError(
                    f"{arch} is a {kind.name} model (task {task!r}): verify "
                    f"compares {' and '.join(POOLING_MODES)} pooling models only"
                )
            return task
    return GENERATE
