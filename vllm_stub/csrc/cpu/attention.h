// decode_attention, the kernel of attention.cpp, for kv_cache_table.cpp to call.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "common.h"

namespace vllm_stub_cpu {

// One token per sequence: write its key/value at position context_len - 1 of
// its cache slot, then attend over that sequence's own context (the last
// sliding_window positions of it when sliding_window > 0). Query heads share
// key/value heads in groups (GQA). softmax(q.k * scale) . v per head, with
// the maximum subtracted before exp as SDPA does.
//
// With a rotation, query and key come unrotated and each sequence's are
// rotated at its position (rotate_head, common.h) as they are read: the
// query heads into a buffer, the key into its cache row.
struct Rotation {
  const int64_t* positions;  // one per sequence, checked against the table
  const float* cos_sin;      // [max_pos, 2, rotary_dim], contiguous
  int64_t rotary_dim;
  bool is_neox;

  // One head of sequence b's query or key, rotated into out.
  void rotate(const float* in, int64_t b, int64_t head_size, float* out) const {
    const float* cos = cos_sin + positions[b] * 2 * rotary_dim;
    rotate_head(in, cos, cos + rotary_dim, rotary_dim, head_size, is_neox, out);
  }
};

at::Tensor decode_attention(const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, at::Tensor& key_cache,
                            at::Tensor& value_cache, const at::Tensor& slots,
                            const at::Tensor& context_lens, double scale,
                            int64_t sliding_window, const Rotation* rotation = nullptr);

}  // namespace vllm_stub_cpu
