"""Linear layers with vLLM's names, signatures and ``weight_loader`` contract.

Parallel sizes are 1, so "column" and "row" parallel layers are plain linears;
the fused ones (``QKVParallelLinear``, ``MergedColumnParallelLinear``) keep
vLLM's shard-aware loaders so model files load separate checkpoint tensors
(``q_proj``, ``k_proj``...) into one fused weight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from vllm_stub.model_executor.layers.utils import unquantized_gemm
from vllm_stub.model_executor.model_loader.weight_utils import check_shape
from vllm_stub.model_executor.utils import set_weight_attrs


class LinearBase(nn.Module):
    """``y = x W^T + b``; ``forward`` returns ``(y, bias or None)`` like vLLM.

    Keyword options that only matter with tensor parallelism (``gather_output``,
    ``reduce_results``, ``disable_tp``...) are accepted and ignored.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        bias: bool = True,
        skip_bias_add: bool = False,
        params_dtype: torch.dtype | None = None,
        quant_config: Any = None,
        prefix: str = "",
        *,
        return_bias: bool = True,
        **_parallel_options: Any,
    ) -> None:
        super().__init__()
        if quant_config is not None:
            raise NotImplementedError("vllm_stub does not support quantization")
        self.input_size = input_size
        self.output_size = output_size
        self.skip_bias_add = skip_bias_add
        self.return_bias = return_bias
        self.prefix = prefix
        dtype = params_dtype or torch.get_default_dtype()
        self.weight = nn.Parameter(
            torch.empty(output_size, input_size, dtype=dtype), requires_grad=False
        )
        set_weight_attrs(self.weight, {"weight_loader": self.weight_loader})
        if bias:
            self.bias = nn.Parameter(
                torch.empty(output_size, dtype=dtype), requires_grad=False
            )
            set_weight_attrs(self.bias, {"weight_loader": self.weight_loader})
        else:
            self.register_parameter("bias", None)

    def weight_loader(self, param: nn.Parameter, loaded_weight: torch.Tensor) -> None:
        """Copy a whole checkpoint tensor into ``param``."""
        check_shape(param, loaded_weight, f"{self.prefix or 'linear'} parameter")
        param.data.copy_(loaded_weight)

    def forward(
        self, x: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, nn.Parameter | None]:
        bias = None if self.skip_bias_add else self.bias
        # contiguous like F.linear's (the CPU GEMM may return a transposed
        # view), as model code may view it with merged dims; asked first, so
        # that a traced decode step, whose packed GEMMs return contiguous
        # rows, has no contiguous() call per linear layer (120 a step)
        output = unquantized_gemm(self, x, bias)
        if not output.is_contiguous():
            output = output.contiguous()
        if not self.return_bias:
            return output
        return output, (self.bias if self.skip_bias_add else None)


class ReplicatedLinear(LinearBase):
    """A linear layer replicated on every rank."""


class ColumnParallelLinear(LinearBase):
    """A linear layer split along its output dimension (one shard here)."""


class RowParallelLinear(LinearBase):
    """A linear layer split along its input dimension (one shard here)."""


class _FusedLinear(LinearBase):
    """A linear whose output rows are several checkpoint tensors stacked.

    ``shards`` maps a shard id to its ``(offset, size)`` in the output rows.
    """

    def __init__(
        self,
        input_size: int,
        shards: dict[Any, tuple[int, int]],
        **kwargs: Any,
    ) -> None:
        self.shards = shards
        output_size = sum(size for _, size in shards.values())
        super().__init__(input_size, output_size, **kwargs)

    def weight_loader(
        self,
        param: nn.Parameter,
        loaded_weight: torch.Tensor,
        loaded_shard_id: Any = None,
    ) -> None:
        """Copy one shard (``loaded_shard_id``) or, with ``None``, the fused tensor."""
        if loaded_shard_id is None:
            super().weight_loader(param, loaded_weight)
            return
        if loaded_shard_id not in self.shards:
            raise ValueError(
                f"{self.prefix}: unknown shard id {loaded_shard_id!r}; "
                f"expected one of {list(self.shards)}"
            )
        offset, size = self.shards[loaded_shard_id]
        target = param.data.narrow(0, offset, size)
        check_shape(target, loaded_weight, f"{self.prefix} shard {loaded_shard_id!r}")
        target.copy_(loaded_weight)

    def load_weights(
        self, weights: Iterable[tuple[str, torch.Tensor]]
    ) -> Iterator[str]:
        """Load ``(name, tensor)`` pairs, each tensor tagged with its ``shard_id``.

        vLLM 0.33's ``WeightsMapper(orig_to_new_stacked=...)`` renames
        ``q_proj.weight`` to ``weight`` here and sets ``tensor.shard_id``
        (``None``: the whole fused tensor); yields the names it loaded.
        """
        for name, loaded_weight in weights:
            param = getattr(self, name, None)
            if param is None and name == "bias":
                continue  # a checkpoint bias for a layer built without one
            if not isinstance(param, nn.Parameter):
                raise ValueError(f"{self.prefix} has no parameter {name!r}")
            self.weight_loader(
                param, loaded_weight, getattr(loaded_weight, "shard_id", None)
            )
            yield name


class MergedColumnParallelLinear(_FusedLinear):
    """Several column-parallel outputs fused (e.g. gate and up); shards 0, 1, ..."""

    def __init__(
        self,
        input_size: int,
        output_sizes: list[int],
        bias: bool = True,
        gather_output: bool = False,
        skip_bias_add: bool = False,
        params_dtype: torch.dtype | None = None,
        quant_config: Any = None,
        prefix: str = "",
        **kwargs: Any,
    ) -> None:
        self.output_sizes = output_sizes
        offsets = [sum(output_sizes[:i]) for i in range(len(output_sizes))]
        shards = {i: (offsets[i], size) for i, size in enumerate(output_sizes)}
        super().__init__(
            input_size,
            shards,
            bias=bias,
            skip_bias_add=skip_bias_add,
            params_dtype=params_dtype,
            quant_config=quant_config,
            prefix=prefix,
            **kwargs,
        )


class QKVParallelLinear(_FusedLinear):
    """The fused query/key/value projection; shards ``"q"``, ``"k"``, ``"v"``."""

    def __init__(
        self,
        hidden_size: int,
        head_size: int,
        total_num_heads: int,
        total_num_kv_heads: int | None = None,
        bias: bool = True,
        skip_bias_add: bool = False,
        params_dtype: torch.dtype | None = None,
        quant_config: Any = None,
        prefix: str = "",
        *,
        v_head_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.hidden_size = hidden_size
        self.head_size = head_size
        self.v_head_size = v_head_size or head_size
        self.total_num_heads = total_num_heads
        self.total_num_kv_heads = total_num_kv_heads or total_num_heads
        q_size = total_num_heads * head_size
        k_size = self.total_num_kv_heads * head_size
        v_size = self.total_num_kv_heads * self.v_head_size
        shards = {
            "q": (0, q_size),
            "k": (q_size, k_size),
            "v": (q_size + k_size, v_size),
        }
        super().__init__(
            hidden_size,
            shards,
            bias=bias,
            skip_bias_add=skip_bias_add,
            params_dtype=params_dtype,
            quant_config=quant_config,
            prefix=prefix,
            **kwargs,
        )
