"""Chat conversations to prompts, rendered by the tokenizer's chat template.

As vLLM's ``LLM.chat``: the conversation is rendered to text with the
template (the one passed in, else the tokenizer's), then that text is
tokenized without adding special tokens, since the template writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import PreTrainedTokenizerBase

Conversation = list[dict[str, Any]]


def conversations(
    messages: Conversation | Sequence[Conversation],
) -> list[Conversation]:
    """One conversation (a list of message dicts) or several, as a list of them."""
    if messages and all(isinstance(m, dict) for m in messages):
        return [list(messages)]
    return [list(conversation) for conversation in messages]


def _text_content(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with OpenAI-style content parts joined into one string."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    texts = [part["text"] for part in content if part.get("type") == "text"]
    if len(texts) != len(content):
        raise ValueError("only text content parts are supported in chat messages")
    return {**message, "content": "\n".join(texts)}


def render_chat(
    tokenizer: PreTrainedTokenizerBase,
    conversation: Conversation,
    *,
    chat_template: str | None = None,
    add_generation_prompt: bool = True,
    continue_final_message: bool = False,
    tools: list[dict[str, Any]] | None = None,
    chat_template_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"prompt": text, "prompt_token_ids": ids}`` for one conversation."""
    if add_generation_prompt and continue_final_message:
        raise ValueError(
            "continue_final_message cannot be used with add_generation_prompt; "
            "pass add_generation_prompt=False"
        )
    if chat_template is None and tokenizer.chat_template is None:
        raise ValueError(
            "the tokenizer has no chat template (and transformers no longer "
            "supplies a default one); pass chat_template=..."
        )
    text = tokenizer.apply_chat_template(
        [_text_content(message) for message in conversation],
        tools=tools,
        chat_template=chat_template,
        add_generation_prompt=add_generation_prompt,
        continue_final_message=continue_final_message,
        tokenize=False,
        **(chat_template_kwargs or {}),
    )
    token_ids = tokenizer.encode(text, add_special_tokens=False)
    return {"prompt": text, "prompt_token_ids": token_ids}
