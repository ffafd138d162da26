// Fused float32 CPU kernels for a decode step, registered as torch.ops.vllm_stub_cpu.
//
// vLLM's CPU backend calls C++ kernels (csrc/cpu) for the same four jobs:
// RMSNorm with the fused residual add, SiLU-and-mul, rotary embedding and
// decode attention over the KV cache. Here they exist for one reason: on a
// few CPU threads a decode step's non-GEMM time is made of dozens of tiny
// tensor ops per layer, each costing microseconds of dispatch for
// nanoseconds of arithmetic. Each kernel below does one layer's worth of such
// ops in one call. vllm_stub/_custom_ops.py builds this file on first use
// and falls back to the PyTorch forms in cpu_fast_paths.py when it cannot.
//
// Every kernel computes the same formula, in the same order of operations,
// as its PyTorch form; only sums (the norm's mean, attention's dot products)
// may round differently. Built with -ffp-contract=off so that no multiply-add
// is fused behind our back.

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/util/Exception.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <tuple>
#include <vector>

namespace {

void check_rows(const at::Tensor& x, const char* name) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == at::kFloat && x.stride(1) == 1,
              name, ": expected 2-D float32 rows with unit column stride");
}

// a . b summed in kLanes interleaved partial sums, so that the compiler can
// keep them in vector registers (one running sum would be a serial chain).
constexpr int64_t kLanes = 8;

float dot(const float* a, const float* b, int64_t n) {
  float partial[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane) partial[lane] += a[i + lane] * b[i + lane];
  // pairwise, not lane after lane: three dependent adds instead of seven
  for (int64_t width = kLanes / 2; width > 0; width /= 2)
    for (int64_t lane = 0; lane < width; ++lane) partial[lane] += partial[lane + width];
  float sum = partial[0];
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Runs body(row) for every row, split over threads when the rows hold more
// than ATen's grain of elements (so decode's few rows stay on one thread,
// and a prefill's thousands use all of them).
template <typename Body>
void for_each_row(int64_t rows, int64_t row_width, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, row_width));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) body(row);
  });
}

// exp(x) for float32 in a form the compiler can vectorize (std::exp is a
// library call per element): x = n ln2 + r, exp(r) by Cephes' degree-6
// polynomial, times 2^n built in the exponent bits. Within 2 ulp of
// std::exp over the clamped range, as PyTorch's own vectorized exp is.
inline float vector_exp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = (p * r) * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// Dot products of one weight row with `count` (at most kBlock) rows of x,
// into sums[0..count). The weight row is loaded once per step and used for
// every x row, so the arithmetic, not the loads, sets the pace.
constexpr int64_t kBlock = 8;
// Weight rows per tile: 32 rows of up to a few thousand inputs fit in L2.
constexpr int64_t kTile = 32;

#if defined(__AVX2__) && defined(__FMA__)
template <int64_t count>
void dot_rows(const float* const* xs, const float* w, int64_t n, float* sums) {
  __m256 acc[count];
  for (int64_t r = 0; r < count; ++r) acc[r] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 wv = _mm256_loadu_ps(w + i);
    for (int64_t r = 0; r < count; ++r)
      acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(xs[r] + i), wv, acc[r]);
  }
  for (int64_t r = 0; r < count; ++r) {
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc[r]), _mm256_extractf128_ps(acc[r], 1));
    half = _mm_hadd_ps(half, half);
    float sum = _mm_cvtss_f32(_mm_hadd_ps(half, half));
    for (int64_t k = i; k < n; ++k) sum += xs[r][k] * w[k];
    sums[r] = sum;
  }
}

void dot_block(const float* const* xs, int64_t count, const float* w, int64_t n, float* sums) {
  switch (count) {
    case 1: return dot_rows<1>(xs, w, n, sums);
    case 2: return dot_rows<2>(xs, w, n, sums);
    case 3: return dot_rows<3>(xs, w, n, sums);
    case 4: return dot_rows<4>(xs, w, n, sums);
    case 5: return dot_rows<5>(xs, w, n, sums);
    case 6: return dot_rows<6>(xs, w, n, sums);
    case 7: return dot_rows<7>(xs, w, n, sums);
    default: return dot_rows<8>(xs, w, n, sums);
  }
}
#else
void dot_block(const float* const* xs, int64_t count, const float* w, int64_t n, float* sums) {
  for (int64_t r = 0; r < count; ++r) sums[r] = dot(xs[r], w, n);
}
#endif

// out = x @ weight.T (+ bias) for a few rows of x (decode): each weight row
// is read from memory once and dotted with the rows of x, kBlock at a time,
// while it sits in L1; threads split the weight's rows. MKL's GEMM at these
// shapes computes well below the rate at which memory delivers the weight.
at::Tensor few_rows_gemm(const at::Tensor& x, const at::Tensor& weight,
                         const std::optional<at::Tensor>& bias) {
  check_rows(x, "few_rows_gemm");
  TORCH_CHECK(weight.dim() == 2 && weight.is_contiguous() &&
                  weight.scalar_type() == at::kFloat && weight.size(1) == x.size(1),
              "few_rows_gemm: expected a contiguous float32 [out, in] weight");
  const int64_t rows = x.size(0), inputs = x.size(1), outputs = weight.size(0);
  auto out = at::empty({rows, outputs}, x.options());
  const float* w = weight.const_data_ptr<float>();
  const float* b = bias.has_value() ? bias->const_data_ptr<float>() : nullptr;
  float* o = out.data_ptr<float>();
  std::vector<const float*> xs(rows);
  for (int64_t row = 0; row < rows; ++row) xs[row] = x.const_data_ptr<float>() + row * x.stride(0);
  at::parallel_for(0, outputs, kTile, [&](int64_t begin, int64_t end) {
    float sums[kBlock];
    // A tile of weight rows comes from memory once, for the first block of
    // x rows, and from L2 for the others; each block stays in L1 meanwhile.
    for (int64_t tile = begin; tile < end; tile += kTile)
      for (int64_t first = 0; first < rows; first += kBlock) {
        const int64_t count = std::min(kBlock, rows - first);
        for (int64_t j = tile; j < std::min(end, tile + kTile); ++j) {
          dot_block(xs.data() + first, count, w + j * inputs, inputs, sums);
          for (int64_t r = 0; r < count; ++r)
            o[(first + r) * outputs + j] = b ? sums[r] + b[j] : sums[r];
        }
      }
  });
  return out;
}

// out = (x * rsqrt(mean(x^2) + eps)) * weight, one row.
void rms_norm_row(const float* x, const float* weight, float* out, int64_t n,
                  double eps) {
  const float variance = dot(x, x, n) / float(n);
  const float scale = 1.0f / std::sqrt(variance + float(eps));
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  check_rows(x, "rms_norm");
  auto out = at::empty({x.size(0), x.size(1)}, x.options());
  const int64_t n = x.size(1);
  const float* w = weight.const_data_ptr<float>();
  for_each_row(x.size(0), n, [&](int64_t row) {
    rms_norm_row(x.const_data_ptr<float>() + row * x.stride(0), w,
                 out.data_ptr<float>() + row * n, n, eps);
  });
  return out;
}

// (rms_norm(x + residual), x + residual): the pre-norm layer's fused step.
std::tuple<at::Tensor, at::Tensor> fused_add_rms_norm(const at::Tensor& x,
                                                      const at::Tensor& residual,
                                                      const at::Tensor& weight,
                                                      double eps) {
  check_rows(x, "fused_add_rms_norm");
  check_rows(residual, "fused_add_rms_norm");
  const int64_t rows = x.size(0), n = x.size(1);
  auto out = at::empty({rows, n}, x.options());
  auto sum = at::empty({rows, n}, x.options());
  const float* w = weight.const_data_ptr<float>();
  for_each_row(rows, n, [&](int64_t row) {
    const float* a = x.const_data_ptr<float>() + row * x.stride(0);
    const float* b = residual.const_data_ptr<float>() + row * residual.stride(0);
    float* s = sum.data_ptr<float>() + row * n;
    for (int64_t i = 0; i < n; ++i) s[i] = a[i] + b[i];
    rms_norm_row(s, w, out.data_ptr<float>() + row * n, n, eps);
  });
  return {out, sum};
}

// silu(x[:, :d]) * x[:, d:], silu(g) = g / (1 + exp(-g)), as g * up / (1 + exp(-g)).
at::Tensor silu_and_mul(const at::Tensor& x) {
  check_rows(x, "silu_and_mul");
  const int64_t rows = x.size(0), d = x.size(1) / 2;
  auto out = at::empty({rows, d}, x.options());
  for_each_row(rows, 2 * d, [&](int64_t row) {
    const float* gate = x.const_data_ptr<float>() + row * x.stride(0);
    const float* up = gate + d;
    float* o = out.data_ptr<float>() + row * d;
    // exp first, then gate * up over 1 + exp: GCC 13 makes this form 3x
    // faster than silu(gate) * up or the same in one expression (measured),
    // at a possible last-bit difference
    for (int64_t i = 0; i < d; ++i) {
      const float e = vector_exp(-gate[i]);
      o[i] = (gate[i] * up[i]) / (1.0f + e);
    }
  });
  return out;
}

// Each head of each row rotated as x * cos + swap(x) * sin, where cos_sin
// [max_pos, 2, rotary_dim] holds cos and the signed sin per position, and
// swap exchanges the members of each rotated pair (halves for neox style,
// neighbours otherwise). Dimensions past rotary_dim are copied.
at::Tensor rotate_heads(const at::Tensor& x, const at::Tensor& positions,
                        const at::Tensor& cos_sin, int64_t head_size, bool is_neox) {
  check_rows(x, "rotary_embedding");
  const int64_t rows = x.size(0), width = x.size(1);
  const int64_t rotary_dim = cos_sin.size(2), half = rotary_dim / 2;
  auto out = at::empty({rows, width}, x.options());
  const int64_t* pos = positions.const_data_ptr<int64_t>();
  const float* table = cos_sin.const_data_ptr<float>();
  for (int64_t row = 0; row < rows; ++row)
    TORCH_CHECK(pos[row] >= 0 && pos[row] < cos_sin.size(0),
                "rotary_embedding: position ", pos[row], " is outside the table");
  for_each_row(rows, width, [&](int64_t row) {
    const float* cos = table + pos[row] * 2 * rotary_dim;
    const float* sin = cos + rotary_dim;
    for (int64_t head = 0; head < width; head += head_size) {
      const float* in = x.const_data_ptr<float>() + row * x.stride(0) + head;
      float* o = out.data_ptr<float>() + row * width + head;
      for (int64_t i = 0; i < rotary_dim; ++i) {
        const int64_t partner = is_neox ? (i < half ? i + half : i - half) : (i ^ 1);
        o[i] = in[i] * cos[i] + in[partner] * sin[i];
      }
      std::copy(in + rotary_dim, in + head_size, o + rotary_dim);
    }
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor> rotary_embedding(const at::Tensor& positions,
                                                    const at::Tensor& query,
                                                    const at::Tensor& key,
                                                    int64_t head_size,
                                                    const at::Tensor& cos_sin,
                                                    bool is_neox) {
  TORCH_CHECK(cos_sin.scalar_type() == at::kFloat && cos_sin.is_contiguous() &&
                  positions.scalar_type() == at::kLong && positions.is_contiguous(),
              "rotary_embedding: expected a contiguous float32 table, int64 positions");
  return {rotate_heads(query, positions, cos_sin, head_size, is_neox),
          rotate_heads(key, positions, cos_sin, head_size, is_neox)};
}

// One token per sequence: write its key/value at position context_len - 1 of
// its cache slot, then attend over that sequence's own context (the last
// sliding_window positions of it when sliding_window > 0). Query heads share
// key/value heads in groups (GQA). softmax(q.k * scale) . v per head, with
// the maximum subtracted before exp as SDPA does.
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
      const int64_t stop = lens[b];
      const int64_t start = sliding_window > 0 ? std::max<int64_t>(0, stop - sliding_window) : 0;
      const float* q = query.const_data_ptr<float>() + b * query.stride(0) + h * dim;
      float* w = weights.data();
      const int64_t count = stop - start;
      for (int64_t p = 0; p < count; ++p)
        w[p] = dot(q, cache_row(kc, b, kv, start + p), dim) * float(scale);
      const float highest = *std::max_element(w, w + count);
      // exps in a loop of their own, which vectorizes; the sum is serial
      for (int64_t p = 0; p < count; ++p) w[p] = vector_exp(w[p] - highest);
      float total = 0.0f;
      for (int64_t p = 0; p < count; ++p) total += w[p];
      float* o = out.data_ptr<float>() + b * heads * dim + h * dim;
      std::fill(o, o + dim, 0.0f);
      for (int64_t p = 0; p < count; ++p) {
        const float* v = cache_row(vc, b, kv, start + p);
        for (int64_t i = 0; i < dim; ++i) o[i] += w[p] * v[i];
      }
      for (int64_t i = 0; i < dim; ++i) o[i] /= total;
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY(vllm_stub_cpu, m) {
  m.def("few_rows_gemm(Tensor x, Tensor weight, Tensor? bias) -> Tensor", &few_rows_gemm);
  m.def("rms_norm(Tensor x, Tensor weight, float eps) -> Tensor", &rms_norm);
  m.def(
      "fused_add_rms_norm(Tensor x, Tensor residual, Tensor weight, float eps)"
      " -> (Tensor, Tensor)",
      &fused_add_rms_norm);
  m.def("silu_and_mul(Tensor x) -> Tensor", &silu_and_mul);
  m.def(
      "rotary_embedding(Tensor positions, Tensor query, Tensor key, int head_size,"
      " Tensor cos_sin, bool is_neox) -> (Tensor, Tensor)",
      &rotary_embedding);
  m.def(
      "decode_attention(Tensor query, Tensor key, Tensor value,"
      " Tensor(a!) key_cache, Tensor(b!) value_cache, Tensor slots,"
      " Tensor context_lens, float scale, int sliding_window) -> Tensor",
      &decode_attention);
}
