"""``new-model --from``: the libcst family rename, and a clone that really runs."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.modelfile.clone import family_leftovers, family_prefix, rename_family

MODELS = "vllm_stub/model_executor/models"

RENAMES = [
    (  # definitions, calls, bases, defaults, annotations (string ones too)
        "class LlamaMLP(nn.Module):\n"
        "    pass\n"
        "\n"
        "\n"
        "class LlamaModel(LlamaMLP):\n"
        "    mlp: LlamaMLP\n"
        '    maybe: "LlamaMLP | None" = None\n'
        "\n"
        "    def make(self, cls: type[LlamaMLP] = LlamaMLP) -> LlamaMLP:\n"
        "        return cls()\n",
        "class MistralMLP(nn.Module):\n"
        "    pass\n"
        "\n"
        "\n"
        "class MistralModel(MistralMLP):\n"
        "    mlp: MistralMLP\n"
        '    maybe: "MistralMLP | None" = None\n'
        "\n"
        "    def make(self, cls: type[MistralMLP] = MistralMLP) -> MistralMLP:\n"
        "        return cls()\n",
    ),
    (  # attribute bases and decorators; the bare prefix and ``_`` count too
        "@register\nclass Llama(base.LlamaModel):\n    x = models.Llama_Old\n"
        "class LlamaModel: ...\nclass Llama_Old: ...\n",
        "@register\nclass Mistral(base.MistralModel):\n    x = models.Mistral_Old\n"
        "class MistralModel: ...\nclass Mistral_Old: ...\n",
    ),
    (  # comments and plain strings stay; so do names the file does not define
        "from x import LlamaConfig\n"
        "class LlamaModel:  # a LlamaModel\n"
        '    """LlamaModel docs."""\n'
        '    name = "LlamaModel"\n'
        "    config: LlamaConfig\n",
        "from x import LlamaConfig\n"
        "class MistralModel:  # a LlamaModel\n"
        '    """LlamaModel docs."""\n'
        '    name = "LlamaModel"\n'
        "    config: LlamaConfig\n",
    ),
]

NOOPS = [
    "class Llama2Model: ...\nclass Llamas: ...\nclass Other: ...\n",  # other words
    "def LlamaModel(): ...\n",  # not a class
    "class Outer:\n    class LlamaInner: ...\n",  # not top-level
]


@pytest.mark.parametrize(("before", "after"), RENAMES)
def test_rename_family(before, after):
    assert rename_family(before, "Llama", "Mistral").text == after
    # Twice: nothing named Llama* is left to rename.
    assert rename_family(after, "Llama", "Mistral").text == after


@pytest.mark.parametrize("source", NOOPS)
def test_rename_family_leaves_other_names_alone(source):
    assert rename_family(source, "Llama", "Mistral").text == source


@pytest.mark.parametrize(
    ("classes", "registered", "prefix"),
    [
        (["LlamaMLP", "LlamaModel", "LlamaForCausalLM"], ["LlamaForCausalLM"], "Llama"),
        (["LlamaMLP", "LlamaModel", "LlamaForCausalLM"], [], "Llama"),
        (["Qwen2MLP", "Qwen2Model", "Qwen2ForCausalLM"], [], "Qwen2"),
        (["MPTBlock", "MPTForCausalLM"], ["MPTForCausalLM"], "MPT"),
        (["Helper"], ["LlamaForCausalLM"], None),  # nothing carries the prefix
        ([], [], None),
    ],
)
def test_family_prefix(classes, registered, prefix):
    assert family_prefix(classes, registered) == prefix


def test_family_leftovers_are_comments_and_strings_only():
    source = (
        '"""Inference-only Llama.\n'  # 1
        "\n"
        'Second line names llama too."""\n'  # 3
        "llama_size = 1  # the LLAMA size\n"  # 4: the comment, not the name
        'prefix = f"llama.{llama_size}"\n'  # 5
        "other = 2\n"
    )
    assert family_leftovers(source, "Llama") == [
        (1, '"""Inference-only Llama.'),
        (3, 'Second line names llama too."""'),
        (4, "llama_size = 1  # the LLAMA size"),
        (5, 'prefix = f"llama.{llama_size}"'),
    ]


def parity_script(folder: Path) -> str:
    """Greedy tokens of a tiny random Mistral: transformers vs the tree's engine."""
    return f"""
import json, sys
import torch, transformers
from vllm_stub import LLM, SamplingParams

config = transformers.MistralConfig(
    vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, initializer_range=0.2,
)
torch.manual_seed(0)
model = transformers.MistralForCausalLM(config).eval()
model.save_pretrained({str(folder)!r})
model.generation_config.eos_token_id = None
prompt = [5, 17, 99, 3, 42, 7]
hf = model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=16)
params = SamplingParams(temperature=0, max_tokens=16, ignore_eos=True)
llm = LLM({str(folder)!r}, dtype="float32")
out = llm.generate({{"prompt_token_ids": prompt}}, params, use_tqdm=False)
print(json.dumps({{
    "hf": hf[0, len(prompt):].tolist(),
    "engine": list(out[0].outputs[0].token_ids),
    "clone_used": "vllm_stub.model_executor.models.mistral" in sys.modules,
}}))
"""


@pytest.mark.slow
def test_clone_llama_as_mistral_runs_like_transformers(
    embedded_tree, tmp_path, capsys, run
):
    argv = ["MistralForCausalLM", "--from", "llama", "--root", str(embedded_tree)]
    assert new_model(argv) == 0
    out = capsys.readouterr().out
    module = embedded_tree / MODELS / "mistral.py"
    classes = {
        node.name
        for node in ast.parse(module.read_text()).body
        if isinstance(node, ast.ClassDef)
    }
    assert {"MistralForCausalLM", "MistralModel", "MistralDecoderLayer"} <= classes
    assert not [name for name in classes if "Llama" in name]
    # The docstrings that still say Llama are listed for review, line and text.
    assert f"{MODELS}/mistral.py:1: still names Llama: " in out
    for tool in (["check"], ["format", "--check"]):
        subprocess.run(["ruff", *tool, str(module)], check=True, cwd=embedded_tree)

    result = run(
        ["python", "-c", parity_script(tmp_path / "ckpt")],
        cwd=tmp_path,
        pythonpath=[embedded_tree],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["clone_used"]
    assert report["engine"] == report["hf"]


def test_clone_in_the_vllm_fixture_registers_without_a_test(
    fixture_tree, take_snapshot, capsys
):
    argv = ["MistralForCausalLM", "--from", "qwen2", "--root", str(fixture_tree)]
    before = take_snapshot(fixture_tree)
    assert new_model(argv) == 0
    after = take_snapshot(fixture_tree)
    created = set(after) - set(before)
    assert created == {"vllm/model_executor/models/mistral.py"}  # no vllm test
    registry = after["vllm/model_executor/models/registry.py"].decode()
    assert '"MistralForCausalLM": ("mistral", "MistralForCausalLM"),' in registry
    capsys.readouterr()
    assert new_model(argv) == 2  # twice: refused, nothing changes
    assert take_snapshot(fixture_tree) == after
    assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "nope"], f"{MODELS}/nope.py: --from nope: no such model module"),
        (["--from", "../llama"], "--from ../llama: no such model module"),
        (["--from", "llama", "--class", "Other"], "gives no class Other"),
        (["--from", "llama", "--alias-of", "llama:LlamaModel"], "not allowed with"),
    ],
)
def test_bad_from_exits_2_and_writes_nothing(
    embedded_tree, take_snapshot, capsys, extra, message
):
    before = take_snapshot(embedded_tree)
    argv = ["MistralForCausalLM", *extra, "--root", str(embedded_tree)]
    assert new_model(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert message in err
    assert take_snapshot(embedded_tree) == before
