"""Token embedding and LM head (one vocabulary shard, no padding)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vllm_stub.model_executor.layers import cpu_fast_paths
from vllm_stub.model_executor.model_loader.weight_utils import check_shape
from vllm_stub.model_executor.utils import set_weight_attrs


class VocabParallelEmbedding(nn.Module):
    """``weight[input_ids]`` with a ``weight_loader`` that checks the shape."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        params_dtype: torch.dtype | None = None,
        org_num_embeddings: int | None = None,
        padding_size: int | None = None,
        quant_config: Any = None,
        prefix: str = "",
    ) -> None:
        super().__init__()
        if quant_config is not None:
            raise NotImplementedError("vllm_stub does not support quantization")
        self.num_embeddings = num_embeddings
        self.org_vocab_size = org_num_embeddings or num_embeddings
        self.embedding_dim = embedding_dim
        self.prefix = prefix
        dtype = params_dtype or torch.get_default_dtype()
        self.weight = nn.Parameter(
            torch.empty(num_embeddings, embedding_dim, dtype=dtype),
            requires_grad=False,
        )
        set_weight_attrs(self.weight, {"weight_loader": self.weight_loader})
        self.packed_weight: torch.Tensor | None = None

    def weight_loader(self, param: nn.Parameter, loaded_weight: torch.Tensor) -> None:
        """Copy the checkpoint's embedding matrix."""
        check_shape(param, loaded_weight, f"{self.prefix or 'embedding'} weight")
        param.data.copy_(loaded_weight)

    def look_up_in(self, packed: torch.Tensor) -> None:
        """Look tokens up in ``packed`` and free the plain weight.

        ``packed`` is the tied LM head's packed copy of this weight
        (``cpu_fast_paths.packed_rows``), so the model holds it once.
        """
        self.packed_weight = packed
        self.weight = nn.Parameter(
            torch.empty(0, dtype=self.weight.dtype), requires_grad=False
        )

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        if self.packed_weight is not None:
            return cpu_fast_paths.packed_rows(self.packed_weight, input_ids)
        return F.embedding(input_ids, self.weight)


class ParallelLMHead(VocabParallelEmbedding):
    """The output projection; its weight can be tied to the input embedding."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        bias: bool = False,
        params_dtype: torch.dtype | None = None,
        org_num_embeddings: int | None = None,
        padding_size: int | None = None,
        quant_config: Any = None,
        prefix: str = "",
    ) -> None:
        super().__init__(
            num_embeddings,
            embedding_dim,
            params_dtype=params_dtype,
            org_num_embeddings=org_num_embeddings,
            quant_config=quant_config,
            prefix=prefix,
        )
        if bias:
            self.bias = nn.Parameter(
                torch.empty(num_embeddings, dtype=self.weight.dtype),
                requires_grad=False,
            )
            set_weight_attrs(self.bias, {"weight_loader": self.weight_loader})
        else:
            self.register_parameter("bias", None)

    def tie_weights(self, embed_tokens: VocabParallelEmbedding) -> ParallelLMHead:
        """Share ``embed_tokens``'s weight (``tie_word_embeddings``)."""
        self.weight = embed_tokens.weight
        return self

    def forward(self, input_: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("LMHead's weights should be used in the sampler.")
