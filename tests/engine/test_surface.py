"""vLLM's import surface for model code, and the torch-free registry import."""

from __future__ import annotations

import subprocess
import sys

import torch
from torch import nn

from vllm_stub.compilation.decorators import support_torch_compile
from vllm_stub.distributed import get_pp_group, get_tensor_model_parallel_world_size
from vllm_stub.model_executor.layers.layernorm import RMSNorm
from vllm_stub.model_executor.layers.linear import (
    MergedColumnParallelLinear,
    QKVParallelLinear,
)


def test_registry_import_does_not_import_torch() -> None:
    code = (
        "import sys, vllm_stub, vllm_stub.model_executor.models.registry\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


def test_support_torch_compile_works_bare_and_with_options() -> None:
    class Bare(nn.Module):
        pass

    class WithOptions(nn.Module):
        pass

    assert support_torch_compile(Bare) is Bare
    assert support_torch_compile(shape_invariants=None)(WithOptions) is WithOptions


def test_single_rank_parallel_state() -> None:
    assert get_tensor_model_parallel_world_size() == 1
    assert get_pp_group().is_first_rank and get_pp_group().is_last_rank


def test_fused_linears_load_shards_into_their_rows() -> None:
    qkv = QKVParallelLinear(8, 2, total_num_heads=4, total_num_kv_heads=2, bias=False)
    for shard_id, rows in (("q", 8), ("k", 4), ("v", 4)):
        qkv.weight.weight_loader(qkv.weight, torch.full((rows, 8), 1.0), shard_id)
    assert qkv.weight.shape == (16, 8)
    gate_up = MergedColumnParallelLinear(8, [3, 3], bias=False)
    gate_up.weight.weight_loader(gate_up.weight, torch.zeros(3, 8), 0)
    gate_up.weight.weight_loader(gate_up.weight, torch.ones(3, 8), 1)
    assert gate_up.weight[:3].sum() == 0 and gate_up.weight[3:].sum() == 24


def test_rms_norm_fuses_the_residual_add() -> None:
    norm = RMSNorm(4, eps=1e-6)
    x, residual = torch.randn(3, 4), torch.randn(3, 4)
    out, new_residual = norm(x, residual)
    torch.testing.assert_close(new_residual, x + residual)
    torch.testing.assert_close(out, norm(x + residual))
