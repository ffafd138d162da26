// decode_attention: one new token per sequence against its KV cache. It is
// registered in kv_cache_table.cpp, which finds the layer's cache.
//
// A decode step's attention is small dot products: at batch 32 with 64
// cached positions, 288 (sequence, head) pairs of 64 dot products of 64
// floats each way. Written as one dot after another, each dot ends in a
// horizontal sum of its vector, which cost as much as the multiplies; the
// AVX2 forms below take 8 positions at once for q . k and keep the whole
// output row in registers for the weighted sum of v. That halves the
// kernel's time on a cache it has read before (measured: 233 -> 117 us per
// layer at batch 32, 81 -> 39 at batch 8); in the engine, where the cache
// comes from memory, it saves a third (272 -> 182 us at batch 32). They add
// in exactly the order of the plain loops, so each position's score and each
// output are the same bits on either form.

#include <ATen/ops/empty.h>

#include <algorithm>
#include <vector>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "attention.h"
#include "common.h"

namespace vllm_stub_cpu {
namespace {

// Lines of the next (sequence, key/value head) block's cache rows that a
// task prefetches while it reads its own: `lines` 64-byte lines from
// `line` on, spread over its positions (see decode_attention). Into L2, not
// L1: a block's keys and values (32 KiB at 64 positions) fill L1 already,
// and the next block's arriving there evicted the current one's before the
// group's other heads read it again. Measured over 30 layers' caches read
// from memory: 1.5-1.8x faster at batch 32 with 33-95 cached positions
// (~225 -> ~125 us a layer at 64) and at batch 8; prefetches into L1 (as
// before) or past the caches (non-temporal) were not.
struct Prefetch {
  const char* line = nullptr;
  int64_t lines = 0;

  // Called once per position read: prefetches this position's share.
  inline void step(int64_t per_position) {
    for (int64_t i = 0; i < per_position && lines > 0; ++i, --lines, line += 64)
      __builtin_prefetch(line, /*rw=*/0, /*locality=*/2);  // L2
  }
};

#if defined(__AVX2__)
// Eight positions' sums of q . k, each an 8-lane vector of partial sums,
// folded as dot() folds its lanes (halves, then pairs, then neighbours) and
// returned as one vector, position j in lane j.
__m256 fold_eight(__m256 s0, __m256 s1, __m256 s2, __m256 s3, __m256 s4, __m256 s5,
                  __m256 s6, __m256 s7) {
  auto halves = [](__m256 a, __m256 b) {  // [a0+a4 .. a3+a7, b0+b4 .. b3+b7]
    return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20),
                         _mm256_permute2f128_ps(a, b, 0x31));
  };
  auto pairs = [](__m256 ab, __m256 cd) {  // per source: [x0+x2, x1+x3]
    return _mm256_add_ps(_mm256_shuffle_ps(ab, cd, 0x44), _mm256_shuffle_ps(ab, cd, 0xEE));
  };
  const __m256 low = pairs(halves(s0, s1), halves(s2, s3));
  const __m256 high = pairs(halves(s4, s5), halves(s6, s7));
  // lanes now hold sums of positions 0 2 4 6 1 3 5 7
  const __m256 sums =
      _mm256_add_ps(_mm256_shuffle_ps(low, high, 0x88), _mm256_shuffle_ps(low, high, 0xDD));
  return _mm256_permutevar8x32_ps(sums, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

#define VLLM_STUB_POSITION(j) \
  s##j = _mm256_add_ps(s##j, _mm256_mul_ps(qi, _mm256_loadu_ps(k + j * dim + i)));
#endif

// scores[p] = (q . keys[p]) * scale for p < count, keys being rows of dim.
void scaled_scores(const float* q, const float* keys, int64_t count, int64_t dim,
                   float scale, float* scores, Prefetch& prefetch) {
  const int64_t per_position = (prefetch.lines + count - 1) / count;
  int64_t p = 0;
#if defined(__AVX2__)
  static_assert(kLanes == 8, "fold_eight folds as dot() does over 8 lanes");
  if (dim % kLanes == 0) {
    for (; p + 8 <= count; p += 8) {
      const float* k = keys + p * dim;
      prefetch.step(8 * per_position);
      // named, not an array: see gemm.cpp on GCC spilling arrays of __m256
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0,
             s6 = s0, s7 = s0;
      for (int64_t i = 0; i < dim; i += kLanes) {
        const __m256 qi = _mm256_loadu_ps(q + i);
        VLLM_STUB_POSITION(0) VLLM_STUB_POSITION(1) VLLM_STUB_POSITION(2)
        VLLM_STUB_POSITION(3) VLLM_STUB_POSITION(4) VLLM_STUB_POSITION(5)
        VLLM_STUB_POSITION(6) VLLM_STUB_POSITION(7)
      }
      const __m256 sums = fold_eight(s0, s1, s2, s3, s4, s5, s6, s7);
      _mm256_storeu_ps(scores + p, _mm256_mul_ps(sums, _mm256_set1_ps(scale)));
    }
  }
#endif
  for (; p < count; ++p) {
    prefetch.step(per_position);
    scores[p] = dot(q, keys + p * dim, dim) * scale;
  }
}
#undef VLLM_STUB_POSITION

#if defined(__AVX2__)
// out[i .. i + 8 * vectors) of weighted_sum, the sums held in registers
// over all positions (an array here: 8 sums and a broadcast leave GCC
// registers to spare, and it keeps them there; measured as fast as named).
template <int vectors>
void weighted_sum_columns(const float* weights, const float* values, int64_t count,
                          int64_t dim, int64_t i, float* out, Prefetch& prefetch) {
  const int64_t per_position = (prefetch.lines + count - 1) / count;
  __m256 sums[vectors];
  for (int j = 0; j < vectors; ++j) sums[j] = _mm256_setzero_ps();
  for (int64_t p = 0; p < count; ++p) {
    prefetch.step(per_position);
    const __m256 w = _mm256_set1_ps(weights[p]);
    const float* v = values + p * dim + i;
#pragma GCC unroll 8
    for (int j = 0; j < vectors; ++j)
      sums[j] = _mm256_add_ps(sums[j], _mm256_mul_ps(w, _mm256_loadu_ps(v + 8 * j)));
  }
  for (int j = 0; j < vectors; ++j) _mm256_storeu_ps(out + i + 8 * j, sums[j]);
}
#endif

// out[i] = sum over p < count of weights[p] * values[p][i], added in order
// of p, values being rows of dim.
void weighted_sum(const float* weights, const float* values, int64_t count, int64_t dim,
                  float* out, Prefetch& prefetch) {
  int64_t i = 0;
#if defined(__AVX2__)
  for (; i + 64 <= dim; i += 64)
    weighted_sum_columns<8>(weights, values, count, dim, i, out, prefetch);
  for (; i + 8 <= dim; i += 8)
    weighted_sum_columns<1>(weights, values, count, dim, i, out, prefetch);
#endif
  std::fill(out + i, out + dim, 0.0f);
  for (int64_t p = 0; p < count; ++p)
    for (int64_t j = i; j < dim; ++j) out[j] += weights[p] * values[p * dim + j];
}

}  // namespace

// Declared in attention.h, which says what it computes.
at::Tensor decode_attention(const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, at::Tensor& key_cache,
                            at::Tensor& value_cache, const at::Tensor& slots,
                            const at::Tensor& context_lens, double scale,
                            int64_t sliding_window) {
  check_rows(query, "decode_attention");
  check_rows(key, "decode_attention");
  check_rows(value, "decode_attention");
  TORCH_CHECK(key_cache.is_contiguous() && value_cache.is_contiguous() &&
                  key_cache.scalar_type() == at::kFloat &&
                  slots.scalar_type() == at::kLong && slots.is_contiguous() &&
                  context_lens.scalar_type() == at::kLong && context_lens.is_contiguous(),
              "decode_attention: expected contiguous float32 caches, int64 slots and lengths");
  const int64_t batch = query.size(0), kv_heads = key_cache.size(1);
  const int64_t max_len = key_cache.size(2), dim = key_cache.size(3);
  const int64_t heads = query.size(1) / dim, group = heads / kv_heads;
  const int64_t* slot = slots.const_data_ptr<int64_t>();
  const int64_t* lens = context_lens.const_data_ptr<int64_t>();
  auto cache_row = [&](float* base, int64_t b, int64_t kv, int64_t position) {
    return base + ((slot[b] * kv_heads + kv) * max_len + position) * dim;
  };
  float* kc = key_cache.data_ptr<float>();
  float* vc = value_cache.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b) {
    TORCH_CHECK(lens[b] >= 1 && lens[b] <= max_len && slot[b] >= 0 &&
                    slot[b] < key_cache.size(0),
                "decode_attention: context length or slot outside the cache");
    for (int64_t kv = 0; kv < kv_heads; ++kv) {
      const float* k = key.const_data_ptr<float>() + b * key.stride(0) + kv * dim;
      const float* v = value.const_data_ptr<float>() + b * value.stride(0) + kv * dim;
      std::copy(k, k + dim, cache_row(kc, b, kv, lens[b] - 1));
      std::copy(v, v + dim, cache_row(vc, b, kv, lens[b] - 1));
    }
  }
  // a sequence's first position attended to: the window's, if it has one
  auto first_position = [&](int64_t b) {
    return sliding_window > 0 ? std::max<int64_t>(0, lens[b] - sliding_window) : 0;
  };
  auto out = at::empty({batch, heads * dim}, query.options());
  int64_t longest = 1;
  for (int64_t b = 0; b < batch; ++b) longest = std::max(longest, lens[b]);
  // Split over (sequence, head) once a chunk holds ~16K multiply-adds: the
  // threads are awake from the GEMM before, and at batch 8 with 64 cached
  // positions two chunks take 61 us where one takes 95 (measured).
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / (longest * dim));
  at::parallel_for(0, batch * heads, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(longest);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / heads, h = task % heads, kv = h / group;
      const int64_t start = first_position(b), count = lens[b] - start;
      const float* q = query.const_data_ptr<float>() + b * query.stride(0) + h * dim;
      float* w = weights.data();
      // The rows come from memory (a step reads every layer's cache once),
      // and each (sequence, key/value head) block's rows are a stream of
      // their own that the hardware prefetcher only takes up after a few
      // misses, at every page. So the group of heads that reads a block
      // also prefetches the next block of this thread's range, each head
      // a share of its keys' lines while it scores and of its values'
      // while it sums. Measured over 30 layers' caches, alternating with the
      // kernel before: 7-9% faster at batch 32 with 64 cached positions
      // when it prefetched into L1, and ~1.8x once into L2 (see Prefetch).
      // Only loads are added: the arithmetic and its order are untouched.
      Prefetch next_keys, next_values;
      const int64_t next_task = (task / group + 1) * group;  // the next block's first head
      if (next_task < end) {
        const int64_t nb = next_task / heads, nkv = next_task % heads / group;
        const int64_t nstart = first_position(nb);
        const int64_t lines = ((lens[nb] - nstart) * dim * 4 + 63) / 64;
        const int64_t share = (lines + group - 1) / group;
        const int64_t from = std::min(lines, h % group * share);
        const int64_t mine = std::min(share, lines - from);
        const int64_t skip = from * 64;  // bytes
        next_keys = {reinterpret_cast<const char*>(cache_row(kc, nb, nkv, nstart)) + skip, mine};
        next_values = {reinterpret_cast<const char*>(cache_row(vc, nb, nkv, nstart)) + skip, mine};
      }
      scaled_scores(q, cache_row(kc, b, kv, start), count, dim, float(scale), w, next_keys);
      const float highest = *std::max_element(w, w + count);
      // exps in a loop of their own, which vectorizes; the sum is serial
      for (int64_t p = 0; p < count; ++p) w[p] = vector_exp(w[p] - highest);
      float total = 0.0f;
      for (int64_t p = 0; p < count; ++p) total += w[p];
      float* o = out.data_ptr<float>() + b * heads * dim + h * dim;
      weighted_sum(w, cache_row(vc, b, kv, start), count, dim, o, next_values);
      for (int64_t i = 0; i < dim; ++i) o[i] /= total;
    }
  });
  return out;
}

}  // namespace vllm_stub_cpu
