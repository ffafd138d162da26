"""Output text and stop strings, with vLLM 0.33's rules.

A request stops when its decoded output contains a ``stop`` string that ends
in the text of the newest token (a string completed within the first
``min_tokens`` tokens is never looked for again). The stop string and whatever
follows it are cut from the text, or kept up to the string's end with
``include_stop_str_in_output``; the token ids keep every generated token. A
sequence ended by EOS or a ``stop_token_ids`` token leaves that token out of
its text (unless ``include_stop_str_in_output``).

Requests with stop strings are decoded after every step (the whole output,
so that the text always equals a plain ``decode``); the others only once, when
they finish.
"""

from __future__ import annotations

import sys

from transformers import PreTrainedTokenizerBase

from vllm_stub.engine.request import Request


def find_stop_string(
    text: str, new_char_count: int, stop: list[str], include_in_output: bool
) -> tuple[str, int] | None:
    """The stop string that ends in the last ``new_char_count`` characters.

    Returns ``(stop_string, truncate_to)`` where ``truncate_to`` is the length
    to cut ``text`` to (-1: keep it all), or ``None``. When several match, the
    one that completes first wins, ties going to the earlier in ``stop``.
    """
    if new_char_count <= 0:
        return None
    best: tuple[str, int] | None = None
    best_end = sys.maxsize
    for stop_str in stop:
        # only a match that ends among the new characters is new
        start = max(len(text) - new_char_count - len(stop_str) + 1, 0)
        index = text.find(stop_str, start)
        if index != -1 and index + len(stop_str) < best_end:
            best, best_end = (stop_str, index), index + len(stop_str)
    if best is None:
        return None
    stop_str, index = best
    if not include_in_output:
        return stop_str, index
    return stop_str, -1 if best_end >= len(text) else best_end


class Detokenizer:
    """Decodes requests' outputs and ends those that generate a stop string."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase | None) -> None:
        self.tokenizer = tokenizer

    def _decode(self, request: Request) -> str:
        token_ids = request.output_token_ids
        token_stopped = request.finish_reason == "stop" and not isinstance(
            request.stop_reason, str
        )
        if token_stopped and not request.params.include_stop_str_in_output:
            token_ids = token_ids[:-1]
        return self.tokenizer.decode(token_ids, skip_special_tokens=True)

    def check_stop_strings(self, request: Request) -> None:
        """After a token was appended: finish ``request`` on a stop string."""
        params = request.params
        if not params.stop:
            return
        text = self._decode(request)
        new_char_count = len(text) - len(request.output_text)
        request.output_text = text
        if len(request.output_token_ids) <= params.min_tokens:
            return
        found = find_stop_string(
            text, new_char_count, params.stop, params.include_stop_str_in_output
        )
        if found is not None:
            stop_str, truncate_to = found
            request.finish_reason, request.stop_reason = "stop", stop_str
            if truncate_to != -1:
                request.output_text = text[:truncate_to]

    def output_text(self, request: Request) -> str:
        """The text of a finished request ("" without a tokenizer)."""
        if self.tokenizer is None:
            return ""
        if request.params.stop:
            return request.output_text
        return self._decode(request)
