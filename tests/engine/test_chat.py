"""``LLM.chat`` renders the tokenizer's chat template as vLLM does; tokenizer and
config options of ``LLM``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from vllm_stub import LLM, SamplingParams

ROLES = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")
TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} "
    "<|end|> {% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
CONVERSATION = [
    {"role": "system", "content": "w9 w8"},
    {"role": "user", "content": "w30 w17 w99"},
]
GREEDY = SamplingParams(temperature=0, max_tokens=6, ignore_eos=True)


def _chat_tokenizer(chat_template: str | None) -> PreTrainedTokenizerFast:
    """A word-level tokenizer that prepends ``<s>`` unless told not to."""
    specials = ["<unk>", "<s>", "</s>", *ROLES]
    vocab = {word: i for i, word in enumerate(specials)}
    vocab |= {f"w{i}": i for i in range(len(specials), 256)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        chat_template=chat_template,
    )


@pytest.fixture(scope="module")
def chat_llm(make_checkpoint, tmp_path_factory) -> tuple[LLM, PreTrainedTokenizerFast]:
    folder, _ = make_checkpoint(num_hidden_layers=1)
    tokenizer_folder = tmp_path_factory.mktemp("tokenizer")
    _chat_tokenizer(TEMPLATE).save_pretrained(tokenizer_folder)
    llm = LLM(str(folder), tokenizer=str(tokenizer_folder))
    return llm, PreTrainedTokenizerFast.from_pretrained(tokenizer_folder)


def test_chat_uses_the_prompt_apply_chat_template_makes(chat_llm) -> None:
    llm, tokenizer = chat_llm
    output = llm.chat(CONVERSATION, GREEDY, use_tqdm=False)[0]
    expected = tokenizer.apply_chat_template(
        CONVERSATION, add_generation_prompt=True, tokenize=True, return_dict=False
    )
    # the template writes <s>; tokenizing its text must not add another
    assert output.prompt_token_ids == expected and expected.count(1) == 1
    assert output.prompt == tokenizer.apply_chat_template(
        CONVERSATION, add_generation_prompt=True, tokenize=False
    )
    assert output.prompt.endswith("<|assistant|>")
    by_ids = llm.generate({"prompt_token_ids": expected}, GREEDY, use_tqdm=False)
    assert output.outputs[0].token_ids == by_ids[0].outputs[0].token_ids


def test_chat_takes_several_conversations_and_text_parts(chat_llm) -> None:
    llm, tokenizer = chat_llm
    parts = [{"role": "user", "content": [{"type": "text", "text": "w40"}] * 2}]
    outputs = llm.chat(
        [CONVERSATION, parts], GREEDY, use_tqdm=False, add_generation_prompt=False
    )
    as_string = [{"role": "user", "content": "w40\nw40"}]
    for output, conversation in zip(outputs, [CONVERSATION, as_string], strict=True):
        assert output.prompt_token_ids == tokenizer.apply_chat_template(
            conversation, tokenize=True, return_dict=False
        )
        assert not output.prompt.endswith("<|assistant|>")


def test_chat_template_argument_overrides_the_tokenizers(chat_llm) -> None:
    llm, _ = chat_llm
    template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    output = llm.chat(CONVERSATION, GREEDY, use_tqdm=False, chat_template=template)
    assert output[0].prompt == "w9 w8 w30 w17 w99 "
    assert output[0].prompt_token_ids == [9, 8, 30, 17, 99]


def test_chat_errors_name_the_problem(chat_llm, make_checkpoint, tmp_path) -> None:
    llm, _ = chat_llm
    with pytest.raises(ValueError, match="continue_final_message cannot be used"):
        llm.chat(CONVERSATION, continue_final_message=True)
    folder, _ = make_checkpoint(num_hidden_layers=1)
    _chat_tokenizer(None).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="no chat template"):
        LLM(str(folder), tokenizer=str(tmp_path)).chat(CONVERSATION)
    with pytest.raises(ValueError, match="has no tokenizer"):
        LLM(str(folder)).get_tokenizer()
    with pytest.raises(FileNotFoundError, match="has no tokenizer files"):
        LLM(str(folder), tokenizer=str(tmp_path / "missing"))


def test_trust_remote_code_loads_the_folders_config_class(
    make_checkpoint, tmp_path: Path
) -> None:
    folder, _ = make_checkpoint(num_hidden_layers=1)
    remote = tmp_path / "remote"
    remote.mkdir()
    for path in folder.iterdir():
        (remote / path.name).write_bytes(path.read_bytes())
    (remote / "configuration_tiny.py").write_text(
        "from transformers import LlamaConfig\n\n\n"
        "class TinyConfig(LlamaConfig):\n"
        '    model_type = "tiny-remote"\n'
    )
    config = json.loads((remote / "config.json").read_text())
    config |= {
        "model_type": "tiny-remote",
        "auto_map": {"AutoConfig": "configuration_tiny.TinyConfig"},
    }
    (remote / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="trust_remote_code"):
        LLM(str(remote))
    llm = LLM(str(remote), trust_remote_code=True)
    assert type(llm.vllm_config.model_config.hf_config).__name__ == "TinyConfig"
    prompt = {"prompt_token_ids": [5, 6, 7]}
    assert (
        llm.generate(prompt, GREEDY, use_tqdm=False)[0].outputs[0].token_ids
        == LLM(str(folder))
        .generate(prompt, GREEDY, use_tqdm=False)[0]
        .outputs[0]
        .token_ids
    )
