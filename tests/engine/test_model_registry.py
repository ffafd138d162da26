"""ModelRegistry: vLLM's register/resolve semantics (DESIGN §7)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from torch import nn

from vllm_stub.model_executor.models.registry import ModelRegistry, _ModelRegistry


class TinyModel(nn.Module):
    pass


@pytest.fixture
def registry() -> _ModelRegistry:
    return _ModelRegistry({})


@pytest.fixture
def module_on_path(tmp_path, monkeypatch):
    """Write a module into a folder on sys.path; yields a writer."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        monkeypatch.delitem(sys.modules, name, raising=False)
        return name

    return write


def test_register_class_and_resolve(registry):
    registry.register_model("TinyForCausalLM", TinyModel)
    assert "TinyForCausalLM" in registry.get_supported_archs()
    assert registry.resolve_model_cls(["TinyForCausalLM"]) == (
        TinyModel,
        "TinyForCausalLM",
    )


def test_string_entry_is_lazy_until_resolved(registry, module_on_path):
    name = module_on_path(
        "lazy_tiny_model",
        """
        from torch import nn
        class Tiny(nn.Module):
            pass
        """,
    )
    registry.register_model("LazyTiny", f"{name}:Tiny")
    assert name not in sys.modules
    cls, arch = registry.resolve_model_cls("LazyTiny")
    assert name in sys.modules
    assert (cls.__name__, arch) == ("Tiny", "LazyTiny")


def test_resolve_tries_architectures_in_order(registry):
    class Other(nn.Module):
        pass

    registry.register_model("B", Other)
    registry.register_model("A", TinyModel)
    assert registry.resolve_model_cls(["Unknown", "A", "B"]) == (TinyModel, "A")


@pytest.mark.parametrize("arch", [None, 3, b"Tiny", ["Tiny"]])
def test_non_string_arch_is_a_type_error(registry, arch):
    with pytest.raises(TypeError, match=r"`model_arch` should be a string.*") as err:
        registry.register_model(arch, TinyModel)
    assert repr(arch) in str(err.value)


@pytest.mark.parametrize("model_cls", [object, 42, TinyModel(), int])
def test_non_module_class_is_a_type_error(registry, model_cls):
    with pytest.raises(TypeError, match="should be a string or PyTorch model class"):
        registry.register_model("Tiny", model_cls)


@pytest.mark.parametrize("value", ["pkg.mod", "a:b:c", ":Cls", "pkg.mod:", ""])
def test_malformed_string_is_a_value_error(registry, value):
    with pytest.raises(ValueError, match="<module>:<class>") as err:
        registry.register_model("Tiny", value)
    assert repr(value) in str(err.value)


def test_existing_arch_warns_then_overwrites(registry, caplog):
    class Replacement(nn.Module):
        pass

    registry.register_model("Tiny", TinyModel)
    with caplog.at_level(logging.WARNING):
        registry.register_model("Tiny", Replacement)
    assert "Tiny is already registered" in caplog.text
    assert registry.resolve_model_cls(["Tiny"])[0] is Replacement


def test_failed_import_names_module_and_error(registry, module_on_path):
    name = module_on_path("broken_tiny_model", "raise ImportError('no flash attn')\n")
    registry.register_model("Broken", f"{name}:Tiny")
    with pytest.raises(ValueError, match="failed to be inspected") as err:
        registry.resolve_model_cls(["Broken"])
    assert name in str(err.value)
    assert "no flash attn" in str(err.value)


def test_missing_class_in_module_fails_inspection(registry, module_on_path):
    name = module_on_path("classless_tiny_model", "X = 1\n")
    registry.register_model("Classless", f"{name}:Tiny")
    with pytest.raises(ValueError, match="failed to be inspected.*Tiny"):
        registry.resolve_model_cls(["Classless"])


def test_unknown_arch_lists_supported_and_suggests(registry):
    registry.register_model("LlamaForCausalLM", TinyModel)
    with pytest.raises(ValueError) as err:
        registry.resolve_model_cls(["LlamaForCausalLm"])
    message = str(err.value)
    assert "are not supported for now" in message
    assert "Supported architectures: ['LlamaForCausalLM']" in message
    assert "Did you mean 'LlamaForCausalLM'?" in message


def test_empty_architecture_list(registry):
    with pytest.raises(ValueError, match="No model architectures"):
        registry.resolve_model_cls([])


def test_embedded_registry_is_lazy_and_complete():
    archs = set(ModelRegistry.get_supported_archs())
    assert {"LlamaForCausalLM", "Qwen2ForCausalLM", "LLaMAForCausalLM"} <= archs
    assert "MistralForCausalLM" not in archs  # the tour adds it


def test_importing_the_registry_imports_no_model_and_no_torch():
    code = (
        "import sys\n"
        "from vllm_stub.model_executor.models import ModelRegistry\n"
        "assert ModelRegistry.get_supported_archs()\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m == 'torch' or m.endswith(('.llama', '.qwen2'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
