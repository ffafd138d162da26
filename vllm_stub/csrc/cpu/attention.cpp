// decode_attention: one new token per sequence against its KV cache. It is
// registered in kv_cache_table.cpp, which finds the layer's cache.
//
// A decode step's attention is small dot products: at batch 8 with 64 cached
// positions, 72 (sequence, head) pairs of 64 dot products of 64 floats each
// way. The query heads that share a key/value head (GQA) take one pass over
// its rows together: four positions at a time for q . k, whole rows for the
// weighted sum of v, with fused multiply-adds, so each row is loaded once
// for up to three heads instead of once per head. Measured on a cache read
// just before (one call from Python): 28.9 -> 21.3 us at batch 8 with 64
// positions; batch 32 (77 us) did not move: its cache outgrows L2. From
// memory, in a 30-layer loop, ~46 us at batch 8 either way: there the read
// of the cache sets the pace (its time grows with the bytes read, ~26 GB/s).
// Dot products and totals run in 8 lanes that fold() adds up; the forms
// without AVX2 add in the same order (std::fma): the same bits on either.

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
// pass prefetches while it reads its own: `lines` 64-byte lines from `line`
// on, spread over its positions. Into L2, not L1, which the block being read
// fills already (prefetched into L1, the next block evicted it): 1.5-1.8x
// faster over 30 layers' caches read from memory at batch 8 and 32.
struct Prefetch {
  const char* line = nullptr;
  int64_t lines = 0;

  // Called once per position read: prefetches this position's share.
  inline void step(int64_t per_position) {
    for (int64_t i = 0; i < per_position && lines > 0; ++i, --lines, line += 64)
      __builtin_prefetch(line, /*rw=*/0, /*locality=*/2);  // L2
  }
};

constexpr int kHeadsPerPass = 3;  // query heads that share one read of a row

// lanes[0] + ... + lanes[7], pairwise: halves, then pairs, then neighbours.
inline float fold(float* lanes) {
  for (int64_t width = kLanes / 2; width > 0; width /= 2)
    for (int64_t lane = 0; lane < width; ++lane) lanes[lane] += lanes[lane + width];
  return lanes[0];
}

// q . k, one fused multiply-add per lane, the lanes folded, then the tail.
float fused_dot(const float* q, const float* k, int64_t dim) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= dim; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane)
      lanes[lane] = std::fma(q[i + lane], k[i + lane], lanes[lane]);
  float sum = fold(lanes);
  for (; i < dim; ++i) sum = std::fma(q[i], k[i], sum);
  return sum;
}

// x[0] + ... + x[n - 1], in lanes as fused_dot adds: not one serial chain.
float lane_sum(const float* x, int64_t n) {
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane) lanes[lane] += x[i + lane];
  float sum = fold(lanes);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

#if defined(__AVX2__) && defined(__FMA__)
// Four positions' 8-lane sums, each folded as fold() folds, position j
// in element j.
inline void fold_four(__m256 s0, __m256 s1, __m256 s2, __m256 s3, float* out) {
  auto halves = [](__m256 a, __m256 b) {  // [a0+a4 .. a3+a7, b0+b4 .. b3+b7]
    return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20),
                         _mm256_permute2f128_ps(a, b, 0x31));
  };
  const __m256 ab = halves(s0, s1), cd = halves(s2, s3);
  // per source: [x0+x2, x1+x3], in the order s0 s2 | s1 s3
  const __m256 pairs =
      _mm256_add_ps(_mm256_shuffle_ps(ab, cd, 0x44), _mm256_shuffle_ps(ab, cd, 0xEE));
  const __m256 sums = _mm256_hadd_ps(pairs, pairs);  // s0 s2 s0 s2 | s1 s3 s1 s3
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sums);
  out[0] = lanes[0], out[1] = lanes[4], out[2] = lanes[1], out[3] = lanes[5];
}

// scores[h][p] = q[h] . keys[p] for `heads` query heads, four positions at
// a time: each key row is loaded once for all of them.
template <int heads>
int64_t scores_by_four(const float* const* q, const float* keys, int64_t count,
                       int64_t dim, float* const* scores, Prefetch& prefetch,
                       int64_t per_position) {
  int64_t p = 0;
  for (; p + 4 <= count; p += 4) {
    prefetch.step(4 * per_position);
    const float* k = keys + p * dim;
    __m256 sums[heads][4];
    for (int h = 0; h < heads; ++h)
      for (int j = 0; j < 4; ++j) sums[h][j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < dim; i += kLanes) {
      __m256 qi[heads];
      for (int h = 0; h < heads; ++h) qi[h] = _mm256_loadu_ps(q[h] + i);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const __m256 kj = _mm256_loadu_ps(k + j * dim + i);
        for (int h = 0; h < heads; ++h) sums[h][j] = _mm256_fmadd_ps(qi[h], kj, sums[h][j]);
      }
    }
    for (int h = 0; h < heads; ++h)
      fold_four(sums[h][0], sums[h][1], sums[h][2], sums[h][3], scores[h] + p);
  }
  return p;
}

// out[h][i .. i + 8 * vectors) += sum over p of weights[h][p] * values[p]
// for `heads` heads: each value vector is loaded once for all of them.
template <int heads, int vectors>
void weighted_columns(const float* const* weights, const float* values, int64_t count,
                      int64_t dim, int64_t i, float* const* out, Prefetch& prefetch,
                      int64_t per_position) {
  __m256 sums[heads][vectors];
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < vectors; ++j) sums[h][j] = _mm256_setzero_ps();
  for (int64_t p = 0; p < count; ++p) {
    prefetch.step(per_position);
    __m256 w[heads];
    for (int h = 0; h < heads; ++h) w[h] = _mm256_set1_ps(weights[h][p]);
    const float* v = values + p * dim + i;
#pragma GCC unroll 4
    for (int j = 0; j < vectors; ++j) {
      const __m256 vj = _mm256_loadu_ps(v + 8 * j);
      for (int h = 0; h < heads; ++h) sums[h][j] = _mm256_fmadd_ps(w[h], vj, sums[h][j]);
    }
  }
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < vectors; ++j) _mm256_storeu_ps(out[h] + i + 8 * j, sums[h][j]);
}
#endif

// The scores, softmax and weighted sum of `heads` (1 to kHeadsPerPass)
// query heads against one sequence's rows of one key/value head. The
// prefetches take the next block's key lines while scoring and its value
// lines while summing.
template <int heads>
void attend(const float* const* q, const float* keys, const float* values, int64_t count,
            int64_t dim, float scale, float* const* w, float* const* out,
            Prefetch& next_keys, Prefetch& next_values) {
  int64_t p = 0;
  const int64_t keys_each = (next_keys.lines + count - 1) / count;
  const int64_t values_each = (next_values.lines + count - 1) / count;
#if defined(__AVX2__) && defined(__FMA__)
  if (dim % kLanes == 0) p = scores_by_four<heads>(q, keys, count, dim, w, next_keys, keys_each);
#endif
  for (; p < count; ++p) {
    next_keys.step(keys_each);
    for (int h = 0; h < heads; ++h) w[h][p] = fused_dot(q[h], keys + p * dim, dim);
  }
  float totals[heads];
  for (int h = 0; h < heads; ++h) {
    for (p = 0; p < count; ++p) w[h][p] *= scale;
    const float highest = *std::max_element(w[h], w[h] + count);
    // exps in a loop of their own, which vectorizes
    for (p = 0; p < count; ++p) w[h][p] = vector_exp(w[h][p] - highest);
    totals[h] = lane_sum(w[h], count);
  }
  int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; i + 32 <= dim; i += 32)
    weighted_columns<heads, 4>(w, values, count, dim, i, out, next_values, values_each);
  for (; i + 8 <= dim; i += 8)
    weighted_columns<heads, 1>(w, values, count, dim, i, out, next_values, values_each);
#endif
  for (int h = 0; h < heads; ++h) {
    std::fill(out[h] + i, out[h] + dim, 0.0f);
    for (p = 0; p < count; ++p)
      for (int64_t j = i; j < dim; ++j)
        out[h][j] = std::fma(w[h][p], values[p * dim + j], out[h][j]);
    for (int64_t j = 0; j < dim; ++j) out[h][j] /= totals[h];
  }
}

}  // namespace

// Declared in attention.h, which says what it computes.
at::Tensor decode_attention(const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, at::Tensor& key_cache,
                            at::Tensor& value_cache, const at::Tensor& slots,
                            const at::Tensor& context_lens, double scale,
                            int64_t sliding_window, const Rotation* rotation) {
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
  for (int64_t b = 0; b < batch; ++b)
    TORCH_CHECK(lens[b] >= 1 && lens[b] <= max_len && slot[b] >= 0 &&
                    slot[b] < key_cache.size(0),
                "decode_attention: context length or slot outside the cache");
  // a sequence's first position attended to: the window's, if it has one
  auto first_position = [&](int64_t b) {
    return sliding_window > 0 ? std::max<int64_t>(0, lens[b] - sliding_window) : 0;
  };
  auto out = at::empty({batch, heads * dim}, query.options());
  int64_t longest = 1;
  for (int64_t b = 0; b < batch; ++b) longest = std::max(longest, lens[b]);
  // Split over (sequence, key/value head) blocks once a chunk holds ~16K
  // multiply-adds: the threads are awake from the GEMM before, and at batch
  // 8 with 64 cached positions two chunks take 61 us where one takes 95
  // (measured).
  const int64_t grain =
      std::max<int64_t>(1, (int64_t(1) << 14) / (longest * dim * group));
  const int64_t passes = (group + kHeadsPerPass - 1) / kHeadsPerPass;
  at::parallel_for(0, batch * kv_heads, grain, [&](int64_t begin, int64_t end) {
    std::vector<float> weights(kHeadsPerPass * longest), rotated_queries(kHeadsPerPass * dim);
    for (int64_t block = begin; block < end; ++block) {
      const int64_t b = block / kv_heads, kv = block % kv_heads;
      const int64_t start = first_position(b), count = lens[b] - start;
      // the new token's rows, written by the thread that reads the block:
      // a serial loop over all blocks first kept the others waiting
      const float* new_key = key.const_data_ptr<float>() + b * key.stride(0) + kv * dim;
      const float* new_value = value.const_data_ptr<float>() + b * value.stride(0) + kv * dim;
      if (rotation)
        rotation->rotate(new_key, b, dim, cache_row(kc, b, kv, lens[b] - 1));
      else
        std::copy(new_key, new_key + dim, cache_row(kc, b, kv, lens[b] - 1));
      std::copy(new_value, new_value + dim, cache_row(vc, b, kv, lens[b] - 1));
      // The rows come from memory (a step reads every layer's cache once),
      // and the hardware prefetcher takes up each block's stream only after
      // a few misses, at every page. So each pass over a block prefetches
      // its share of this thread's next block: keys while it scores, values
      // while it sums (~1.8x at batch 32, 64 positions; see Prefetch).
      int64_t next_lines = 0, next_start = 0;
      if (block + 1 < end) {
        next_start = first_position((block + 1) / kv_heads);
        next_lines = ((lens[(block + 1) / kv_heads] - next_start) * dim * 4 + 63) / 64;
      }
      const int64_t share = (next_lines + passes - 1) / passes;
      for (int64_t first = 0, pass = 0; first < group; first += kHeadsPerPass, ++pass) {
        const int64_t from = std::min(next_lines, pass * share);
        const int64_t mine = std::min(share, next_lines - from);
        auto next = [&](float* base) {
          if (mine == 0) return Prefetch{};
          const auto* row = reinterpret_cast<const char*>(
              cache_row(base, (block + 1) / kv_heads, (block + 1) % kv_heads, next_start));
          return Prefetch{row + from * 64, mine};
        };
        Prefetch next_keys = next(kc), next_values = next(vc);
        const float* q[kHeadsPerPass];
        float* o[kHeadsPerPass];
        float* w[kHeadsPerPass];
        const int64_t heads_now = std::min<int64_t>(kHeadsPerPass, group - first);
        for (int64_t i = 0; i < heads_now; ++i) {
          const int64_t h = kv * group + first + i;
          q[i] = query.const_data_ptr<float>() + b * query.stride(0) + h * dim;
          if (rotation) {
            float* rotated = rotated_queries.data() + i * dim;
            rotation->rotate(q[i], b, dim, rotated);
            q[i] = rotated;
          }
          o[i] = out.data_ptr<float>() + (b * heads + h) * dim;
          w[i] = weights.data() + i * longest;
        }
        const float* keys = cache_row(kc, b, kv, start);
        const float* values = cache_row(vc, b, kv, start);
        const float scaled = float(scale);
        switch (heads_now) {
          case 1: attend<1>(q, keys, values, count, dim, scaled, w, o, next_keys, next_values); break;
          case 2: attend<2>(q, keys, values, count, dim, scaled, w, o, next_keys, next_values); break;
          default: attend<3>(q, keys, values, count, dim, scaled, w, o, next_keys, next_values);
        }
      }
    }
  });
  return out;
}

}  // namespace vllm_stub_cpu
