"""The packed-weight GEMM: ``F.linear``'s values, whatever the rows' batch.

A float32 linear layer's weight is packed at load time for the C++ kernel
(``cpu_fast_paths.pack_weight_``, in place); these check the
product against ``F.linear`` and what loading leaves in the model.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vllm_stub import LLM
from vllm_stub.model_executor.layers import cpu_fast_paths
from vllm_stub.model_executor.layers.linear import LinearBase, RowParallelLinear
from vllm_stub.model_executor.layers.utils import unquantized_gemm
from vllm_stub.model_executor.layers.vocab_parallel_embedding import ParallelLMHead
from vllm_stub.model_executor.model_loader.loader import (
    _process_weights_after_loading,
)


def _packed_linear(x, weight, bias=None):
    packed = cpu_fast_paths.pack_weight_(weight.clone())  # packs in place
    # the kernels must build here (see the ``kernel_path`` fixture)
    assert packed is not None, "a float32 weight packs once the kernels build"
    return cpu_fast_paths.packed_gemm(x, packed, weight.shape[0], bias)


# rows: none, one, a block of 6 and its neighbours, decode sizes, and 50 rows
# of 1536 inputs, past the 42 that fill one chunk; outputs: whole panels of
# 16, a last partial panel (40 = 2 * 16 + 8), fewer than one panel (5)
@pytest.mark.parametrize("rows", [0, 1, 5, 6, 7, 32, 50])
@pytest.mark.parametrize("shape", [(96, 64), (40, 100), (5, 1536)])
@pytest.mark.parametrize("with_bias", [False, True])
def test_packed_gemm_is_linear(
    rows: int, shape: tuple[int, int], with_bias: bool
) -> None:
    torch.manual_seed(rows)
    weight, x = torch.randn(shape), torch.randn(rows, shape[1])
    bias = torch.randn(shape[0]) if with_bias else None
    # another kernel sums in another order: equal up to rounding, which for
    # sums of 1536 unit products reaches 1e-4 (how close: the next test)
    torch.testing.assert_close(
        _packed_linear(x, weight, bias), F.linear(x, weight, bias), atol=1e-4, rtol=0
    )


@pytest.mark.parametrize("inputs", [576, 1536, 8192])
def test_rounding_error_stays_near_mkls(inputs: int) -> None:
    """Long dot products are summed in blocks, not one chain of thousands."""
    torch.manual_seed(0)
    weight, x = torch.randn(96, inputs), torch.randn(8, inputs)
    exact = F.linear(x.double(), weight.double())
    error = (_packed_linear(x, weight) - exact).abs().max()
    mkl_error = (F.linear(x, weight) - exact).abs().max()
    assert error <= 2 * mkl_error


@pytest.mark.parametrize("batch", [2, 6, 13, 50])
def test_a_row_gets_the_same_bits_in_any_batch(batch: int) -> None:
    """Each output is one chain of multiply-adds, whichever rows share the call.

    So a sequence's logits do not depend on what else is being decoded.
    """
    torch.manual_seed(0)
    weight, rows = torch.randn(72, 1536), torch.randn(batch, 1536)
    together = _packed_linear(rows, weight)
    alone = torch.cat([_packed_linear(row[None], weight) for row in rows])
    assert torch.equal(together, alone)


def test_leading_dimensions_and_strided_rows_are_kept() -> None:
    torch.manual_seed(0)
    weight = torch.randn(48, 64)
    images = torch.randn(2, 3, 64)  # a vision tower's [batch, patches, hidden]
    wide = torch.randn(4, 100)[:, 20:84]  # rows of a wider buffer
    columns = torch.randn(64, 4).t()  # rows with a column stride
    for x in (images, wide, columns):
        torch.testing.assert_close(_packed_linear(x, weight), F.linear(x, weight))


def test_whole_panels_pack_in_their_own_storage() -> None:
    """So loading never holds a layer (the LM head: 113 MB) twice."""
    weight = torch.randn(48, 40)
    plain = weight.clone()
    packed = cpu_fast_paths.pack_weight_(weight)
    assert packed.data_ptr() == weight.data_ptr()
    # panel p, input k, lane c is weight row 16p + c, column k
    assert torch.equal(packed, plain.view(3, 16, 40).transpose(1, 2))


def test_rows_short_of_a_panel_pack_into_a_padded_copy() -> None:
    weight = torch.randn(20, 8)
    plain = weight.clone()
    packed = cpu_fast_paths.pack_weight_(weight)
    assert torch.equal(weight, plain)  # untouched: the copy was packed
    assert torch.equal(packed[0], plain[:16].t())
    assert torch.equal(packed[1, :, :4], plain[16:].t())
    assert not packed[1, :, 4:].any()


def test_only_float32_matrices_pack_and_only_with_the_kernels(kernel_path) -> None:
    matrix = torch.randn(32, 16)
    assert (cpu_fast_paths.pack_weight_(matrix) is not None) == (
        kernel_path == "kernels"
    )
    assert cpu_fast_paths.pack_weight_(matrix.bfloat16()) is None
    assert cpu_fast_paths.pack_weight_(torch.randn(2, 32, 16)) is None


def test_loading_packs_each_weight_once_and_frees_the_plain_copies(
    make_checkpoint, kernel_path: str
) -> None:
    folder, hf_model = make_checkpoint(tie_word_embeddings=True)
    model = LLM(str(folder)).model
    packed = kernel_path == "kernels"
    # packed: no second copy of the model in RAM; the tied embedding looks
    # its tokens up in the LM head's packed copy
    embedding = model.model.embed_tokens
    for layer in [m for m in model.modules() if isinstance(m, LinearBase)] + [
        model.lm_head,
        embedding,
    ]:
        assert (layer.weight.numel() == 0) == packed, layer
    assert (embedding.packed_weight is not None) == packed
    ids = torch.tensor([0, 1, 15, 16, 17, 100, 255, 17])
    hidden, features = torch.randn(3, 64), torch.randn(3, 128)
    with torch.inference_mode():
        torch.testing.assert_close(
            embedding(ids), hf_model.model.embed_tokens(ids), rtol=0, atol=0
        )
        # the packed layers still compute the checkpoint's projections
        down, _ = model.model.layers[0].mlp.down_proj(features)
        expected = hf_model.model.layers[0].mlp.down_proj(features)
        torch.testing.assert_close(down, expected)
        torch.testing.assert_close(
            model.compute_logits(hidden), hf_model.lm_head(hidden)
        )


def test_a_weight_tied_to_another_kind_of_layer_stays_unpacked() -> None:
    """Packing in place would scramble the other layer's view of the weight."""
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.embed = torch.nn.Embedding(32, 16)  # a model's own, tied by hand
    model.lm_head = ParallelLMHead(32, 16)
    model.lm_head.weight = model.embed.weight
    model.proj = RowParallelLinear(16, 16, bias=False)
    torch.nn.init.normal_(model.proj.weight)
    plain, proj = model.embed.weight.detach().clone(), model.proj.weight.clone()
    _process_weights_after_loading(model)
    assert torch.equal(model.embed.weight, plain)
    assert model.lm_head.weight is model.embed.weight
    assert model.proj.weight.numel() == 0  # not shared: packed as usual
    x = torch.randn(3, 16)
    with torch.inference_mode():
        torch.testing.assert_close(unquantized_gemm(model.lm_head, x), x @ plain.T)
        torch.testing.assert_close(model.proj(x)[0], x @ proj.T)
