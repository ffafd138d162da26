// decode_attention, the kernel of attention.cpp, for kv_cache_table.cpp to call.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace vllm_stub_cpu {

// One token per sequence: write its key/value at position context_len - 1 of
// its cache slot, then attend over that sequence's own context (the last
// sliding_window positions of it when sliding_window > 0). Query heads share
// key/value heads in groups (GQA). softmax(q.k * scale) . v per head, with
// the maximum subtracted before exp as SDPA does.
at::Tensor decode_attention(const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, at::Tensor& key_cache,
                            at::Tensor& value_cache, const at::Tensor& slots,
                            const at::Tensor& context_lens, double scale,
                            int64_t sliding_window);

}  // namespace vllm_stub_cpu
