"""``scaffold verify``: the tree's own engine against transformers."""

from __future__ import annotations

import json

import pytest

from scaffold.commands.new_model import main as new_model
from scaffold.commands.verify import main
from scaffold.errors import ScaffoldError
from scaffold.pydict import parse_source
from scaffold.registry import RegistryView
from scaffold.verify.images import TINY_VISION
from scaffold.verify.modes import verify_mode
from scaffold.verify.parity import LOGIT_TOLERANCE, TINY_CONFIG


@pytest.mark.slow
def test_llama_matches_transformers(embedded_tree, capsys):
    assert main(["LlamaForCausalLM", "--root", str(embedded_tree)]) == 0
    out = capsys.readouterr().out
    assert "greedy tokens equal     yes" in out
    assert "max |Δlogit| (prefill)" in out


@pytest.mark.slow
def test_a_perturbed_norm_in_a_generated_model_fails(embedded_tree, capsys):
    # mistral.py exists only in the copy: this also proves the tree's own
    # engine runs, not the installed one.
    argv = ["MistralForCausalLM", "--root", str(embedded_tree)]
    assert new_model(argv) == 0
    assert main(argv) == 0
    model = embedded_tree / "vllm_stub/model_executor/models/mistral.py"
    text = model.read_text()
    assert text.count("eps=config.rms_norm_eps") >= 2
    model.write_text(
        text.replace("eps=config.rms_norm_eps", "eps=config.rms_norm_eps + 1.0")
    )
    capsys.readouterr()
    assert main(argv) == 1
    out = capsys.readouterr().out
    diff = float(out.split("max |Δlogit| (prefill)")[1].split()[0])
    assert diff > LOGIT_TOLERANCE


@pytest.mark.slow
def test_config_json_for_an_alias(embedded_tree, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "llama", **TINY_CONFIG}))
    argv = ["XverseForCausalLM", "--config", str(config), "--root", str(embedded_tree)]
    assert main(argv) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out


def test_arch_transformers_lacks_exits_2_with_one_line(embedded_tree, capsys):
    alias = ["--alias-of", "llama:LlamaForCausalLM", "--models", "N"]
    assert new_model(["NopeForCausalLM", *alias, "--root", str(embedded_tree)]) == 0
    capsys.readouterr()
    assert main(["NopeForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "has no class NopeForCausalLM; pass --hf-class CLASS" in err[0]


def test_unregistered_architecture_exits_2(embedded_tree, capsys):
    assert main(["MistralForCausalLM", "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err
    assert "run `scaffold new-model MistralForCausalLM` first" in err


@pytest.mark.slow
def test_hf_class_names_the_reference_for_an_unknown_arch(embedded_tree, capsys):
    alias = ["--alias-of", "llama:LlamaForCausalLM", "--models", "N"]
    assert new_model(["NopeForCausalLM", *alias, "--root", str(embedded_tree)]) == 0
    argv = ["NopeForCausalLM", "--hf-class", "LlamaForCausalLM"]
    assert main([*argv, "--root", str(embedded_tree)]) == 0
    assert "greedy tokens equal     yes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hf-class", "NopeForCausalLM", "LlamaForCausalLM"], "no such model class"),
        ([], "give either ARCH or --all"),
        (["LlamaForCausalLM", "--all"], "give either ARCH or --all"),
    ],
)
def test_bad_reference_or_selection_exits_2(embedded_tree, capsys, argv, message):
    assert main([*argv, "--root", str(embedded_tree)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def _rows(out: str) -> dict[str, str]:
    """The result table's rows: name -> value (names padded to one width)."""
    rows = {}
    for line in out.splitlines():
        name, sep, value = line.partition("  ")
        if sep and not line.startswith("["):
            rows[name.strip()] = value.strip()
    return rows


@pytest.mark.slow
def test_llava_compares_greedy_tokens_with_a_random_image(embedded_tree, capsys):
    assert main(["LlavaForConditionalGeneration", "--root", str(embedded_tree)]) == 0
    out = capsys.readouterr().out
    assert "greedy tokens, the prompt with a random image" in out
    rows = _rows(out)
    assert rows["greedy tokens equal"] == "yes"
    assert float(rows["max |Δlogit| (prefill)"]) <= LOGIT_TOLERANCE


@pytest.mark.slow
def test_llava_config_json_with_another_feature_layer(embedded_tree, tmp_path, capsys):
    vision = {**TINY_VISION, "num_hidden_layers": 4}
    config = {
        "model_type": "llava",
        "text_config": {"model_type": "qwen2", **TINY_CONFIG},
        "vision_config": vision,
        "image_token_index": 3,
        "vision_feature_layer": 1,
        "vision_feature_select_strategy": "full",
        "projector_hidden_act": "silu",
    }
    path = tmp_path / "llava.json"
    path.write_text(json.dumps(config))
    argv = ["LlavaForConditionalGeneration", "--config", str(path)]
    assert main([*argv, "--root", str(embedded_tree)]) == 0
    assert _rows(capsys.readouterr().out)["greedy tokens equal"] == "yes"


def _add_pooling_models(tree) -> None:
    root = ["--root", str(tree)]
    embed = ["ZetaModel", "--kind", "embedding", "--models", "Zeta"]
    assert new_model([*embed, "--hf-example", "x/zeta", *root]) == 0
    classify = ["ZetaForSequenceClassification", "--kind", "cross-encoder"]
    classify += ["--module", "zeta_cls", "--models", "Zeta", "--hf-example", "x/z"]
    assert new_model([*classify, *root]) == 0


@pytest.mark.slow
def test_pooling_models_compare_pooled_vectors(embedded_tree, capsys):
    _add_pooling_models(embedded_tree)
    root = ["--root", str(embedded_tree)]
    cases = [
        ("ZetaModel", "LlamaForCausalLM", "embed (last token, L2-normalised)"),
        ("ZetaModel", "LlamaModel", "embed (last token, L2-normalised)"),
        (
            "ZetaForSequenceClassification",
            "LlamaForSequenceClassification",
            "classify (softmax probs)",
        ),
    ]
    for arch, hf_class, task in cases:
        capsys.readouterr()
        assert main([arch, "--hf-class", hf_class, *root]) == 0, hf_class
        out = capsys.readouterr().out
        assert "compared pooled vectors of 3 prompts" in out
        rows = _rows(out)
        assert rows["pooling task"] == task
        assert float(rows["min cosine"]) >= 0.9999
        assert float(rows["max |Δ|"]) <= 1e-4
        assert "greedy tokens equal" not in rows


@pytest.mark.slow
def test_a_pooling_class_in_the_text_dict_is_compared_pooled(embedded_tree, capsys):
    # is_pooling_model of the class decides where the registry's dict does not
    _add_pooling_models(embedded_tree)
    alias = ["FooModel", "--alias-of", "zeta:ZetaModel", "--models", "Foo"]
    assert new_model([*alias, "--root", str(embedded_tree)]) == 0
    argv = ["FooModel", "--hf-class", "LlamaForCausalLM"]
    capsys.readouterr()
    assert main([*argv, "--root", str(embedded_tree)]) == 0
    assert _rows(capsys.readouterr().out)["pooling task"].startswith("embed")


@pytest.mark.slow
def test_a_perturbed_pooling_model_fails(embedded_tree, capsys):
    _add_pooling_models(embedded_tree)
    model = embedded_tree / "vllm_stub/model_executor/models/zeta.py"
    text = model.read_text()
    model.write_text(
        text.replace("eps=config.rms_norm_eps", "eps=config.rms_norm_eps + 1.0")
    )
    capsys.readouterr()
    argv = ["ZetaModel", "--hf-class", "LlamaForCausalLM"]
    assert main([*argv, "--root", str(embedded_tree)]) == 1
    assert float(_rows(capsys.readouterr().out)["max |Δ|"]) > 1e-4


def test_a_classifier_against_a_causal_lm_exits_2_before_building(
    embedded_tree, capsys
):
    _add_pooling_models(embedded_tree)
    capsys.readouterr()
    argv = ["ZetaForSequenceClassification", "--hf-class", "LlamaForCausalLM"]
    assert main([*argv, "--root", str(embedded_tree)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before "[1/2] ..."
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and "*ForSequenceClassification" in err[0]


REGISTRY = """
_TEXT_GENERATION_MODELS = {"LlamaForCausalLM": ("llama", "LlamaForCausalLM")}
_EMBEDDING_MODELS = {"ZetaModel": ("zeta", "ZetaModel")}
_SEQUENCE_CLASSIFICATION_MODELS = {"ZetaForSeq": ("zeta", "ZetaForSeq")}
_REWARD_MODELS = {"ZetaForRewardModel": ("zeta", "ZetaForRewardModel")}
_MULTIMODAL_MODELS = {"LlavaForConditionalGeneration": ("llava", "Llava")}
"""


@pytest.mark.parametrize(
    ("arch", "reference", "mode"),
    [
        ("LlamaForCausalLM", "LlamaForCausalLM", "generate"),
        ("LlamaForCausalLM", "LlamaForSequenceClassification", "classify"),
        ("ZetaModel", "LlamaForCausalLM", "embed"),
        ("ZetaForSeq", "LlamaForSequenceClassification", "classify"),
        ("LlavaForConditionalGeneration", "LlavaForCausalLM", "multimodal"),
    ],
)
def test_the_mode_follows_the_kind(arch, reference, mode):
    view = RegistryView(parse_source(REGISTRY))
    assert verify_mode(view, arch, reference) == mode


def test_a_pooling_kind_verify_cannot_compare_is_bad_input():
    view = RegistryView(parse_source(REGISTRY))
    with pytest.raises(ScaffoldError, match="compares embed and classify pooling"):
        verify_mode(view, "ZetaForRewardModel", "ZetaForRewardModel")
