// Fused float32 CPU kernels for a decode step's layer ops, and its greedy
// argmax, registered as torch.ops.vllm_stub_cpu (the GEMM is in gemm.cpp,
// decode attention in attention.cpp).
//
// vLLM's CPU backend calls C++ kernels (csrc/cpu) for the same four jobs:
// RMSNorm with the fused residual add, SiLU-and-mul, rotary embedding and
// decode attention over the KV cache. Here they exist for one reason: on a
// few CPU threads a decode step's non-GEMM time is made of dozens of tiny
// tensor ops per layer, each costing microseconds of dispatch for
// nanoseconds of arithmetic. Each layer kernel does one layer's worth of such
// ops in one call; the argmax, last here, is the sampler's, and says what it
// buys. vllm_stub/_custom_ops.py builds these files on first use
// and falls back to the PyTorch forms in cpu_fast_paths.py and
// cpu_attention_paths.py when it cannot.
//
// Every kernel computes the same formula, in the same order of operations,
// as its PyTorch form; only sums (the norm's mean, attention's dot products)
// may round differently. Built with -ffp-contract=off so that no multiply-add
// is fused behind our back.

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <tuple>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "common.h"

namespace vllm_stub_cpu {
namespace {

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

// fused_add_rms_norm in place, as vLLM's op is: residual <- x + residual,
// x <- rms_norm(that). The same sum and norm, so the same bits, without two
// new tensors: a traced step's norms run right after a GEMM has streamed
// megabytes of weights through the caches, where each new output is
// allocated and written cold (compilation/fusion.py says what it buys).
void fused_add_rms_norm_(at::Tensor& x, at::Tensor& residual, const at::Tensor& weight,
                         double eps) {
  check_rows(x, "fused_add_rms_norm_");
  check_rows(residual, "fused_add_rms_norm_");
  const int64_t n = x.size(1);
  const float* w = weight.const_data_ptr<float>();
  for_each_row(x.size(0), n, [&](int64_t row) {
    float* normed = x.data_ptr<float>() + row * x.stride(0);
    float* sum = residual.data_ptr<float>() + row * residual.stride(0);
    for (int64_t i = 0; i < n; ++i) sum[i] = normed[i] + sum[i];
    rms_norm_row(sum, w, normed, n, eps);
  });
}

// silu(x[:, :d]) * x[:, d:], silu(g) = g / (1 + exp(-g)), as g * up / (1 + exp(-g)).
at::Tensor silu_and_mul(const at::Tensor& x) {
  check_rows(x, "silu_and_mul");
  const int64_t rows = x.size(0), d = x.size(1) / 2;
  auto out = at::empty({rows, d}, x.options());
  // rows split over threads from 3 rows on (measured at batch 8: 14-17 us
  // on one thread, 10-13 on two)
  for_each_row(rows, 2 * d, [&](int64_t row) {
    const float* gate = x.const_data_ptr<float>() + row * x.stride(0);
    const float* up = gate + d;
    float* o = out.data_ptr<float>() + row * d;
    for (int64_t i = 0; i < d; ++i) o[i] = silu_times(gate[i], up[i]);
  });
  return out;
}

// Each head of each row rotated by rotate_head (common.h), where cos_sin
// [max_pos, 2, rotary_dim] holds cos and the signed sin per position.
at::Tensor rotate_heads(const at::Tensor& x, const at::Tensor& positions,
                        const at::Tensor& cos_sin, int64_t head_size, bool is_neox) {
  check_rows(x, "rotary_embedding");
  const int64_t rows = x.size(0), width = x.size(1), rotary_dim = cos_sin.size(2);
  auto out = at::empty({rows, width}, x.options());
  const int64_t* pos = positions.const_data_ptr<int64_t>();
  const float* table = cos_sin.const_data_ptr<float>();
  check_positions(pos, rows, cos_sin);
  for_each_row(rows, width, [&](int64_t row) {
    const float* cos = table + pos[row] * 2 * rotary_dim;
    const float* in = x.const_data_ptr<float>() + row * x.stride(0);
    float* o = out.data_ptr<float>() + row * width;
    for (int64_t head = 0; head < width; head += head_size)
      rotate_head(in + head, cos, cos + rotary_dim, rotary_dim, head_size, is_neox, o + head);
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

// The index of the largest value of a row as torch.argmax gives it: the
// first maximum, or the first NaN where there is one (NaN counts as the
// largest). Two passes, each 8 values at a time: the maximum, then where it
// first occurs. torch's argmax compares value after value, 7x slower over a
// 49152-token vocabulary (measured).
int64_t row_argmax(const float* x, int64_t n) {
  float highest = x[0];
  bool nan = false;
  int64_t i = 0;
#if defined(__AVX2__)
  if (n >= 8) {
    __m256 highs = _mm256_loadu_ps(x), nans = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      nans = _mm256_or_ps(nans, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      highs = _mm256_max_ps(v, highs);  // a NaN v keeps highs: found by nans
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, highs);
    highest = *std::max_element(lanes, lanes + 8);
    nan = _mm256_movemask_ps(nans) != 0;
  }
#endif
  for (; i < n; ++i) {
    nan = nan || std::isnan(x[i]);
    highest = x[i] > highest ? x[i] : highest;
  }
  i = 0;
#if defined(__AVX2__)
  const __m256 target = _mm256_set1_ps(highest);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const int hits = _mm256_movemask_ps(nan ? _mm256_cmp_ps(v, v, _CMP_UNORD_Q)
                                            : _mm256_cmp_ps(v, target, _CMP_EQ_OQ));
    if (hits != 0) return i + __builtin_ctz(hits);
  }
#endif
  for (; i < n; ++i)
    if (nan ? std::isnan(x[i]) : x[i] == highest) break;
  return i;
}

at::Tensor argmax_rows(const at::Tensor& x) {
  check_rows(x, "argmax_rows");
  TORCH_CHECK(x.size(1) > 0, "argmax_rows: rows of no values have no argmax");
  auto out = at::empty({x.size(0)}, x.options().dtype(at::kLong));
  for_each_row(x.size(0), x.size(1), [&](int64_t row) {
    out.data_ptr<int64_t>()[row] =
        row_argmax(x.const_data_ptr<float>() + row * x.stride(0), x.size(1));
  });
  return out;
}

}  // namespace
}  // namespace vllm_stub_cpu

// Schemas here, kernels under the CPU key (TORCH_LIBRARY_IMPL below): an op
// defined together with its function is "composite" and cannot be given the
// fake (shape-only) form that tracing the decode step with torch.compile needs
// (compilation/decode_graph.py; the fakes are in _custom_ops.py).
TORCH_LIBRARY(vllm_stub_cpu, m) {
  m.def("rms_norm(Tensor x, Tensor weight, float eps) -> Tensor");
  m.def(
      "fused_add_rms_norm(Tensor x, Tensor residual, Tensor weight, float eps)"
      " -> (Tensor, Tensor)");
  m.def("silu_and_mul(Tensor x) -> Tensor");
  m.def(
      "fused_add_rms_norm_(Tensor(a!) x, Tensor(b!) residual, Tensor weight, float eps)"
      " -> ()");
  m.def(
      "rotary_embedding(Tensor positions, Tensor query, Tensor key, int head_size,"
      " Tensor cos_sin, bool is_neox) -> (Tensor, Tensor)");
  m.def("argmax_rows(Tensor x) -> Tensor");
}

TORCH_LIBRARY_IMPL(vllm_stub_cpu, CPU, m) {
  using namespace vllm_stub_cpu;
  m.impl("rms_norm", &rms_norm);
  m.impl("fused_add_rms_norm", &fused_add_rms_norm);
  m.impl("silu_and_mul", &silu_and_mul);
  m.impl("fused_add_rms_norm_", &fused_add_rms_norm_);
  m.impl("rotary_embedding", &rotary_embedding);
  m.impl("argmax_rows", &argmax_rows);
}
