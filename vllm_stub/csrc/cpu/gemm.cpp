// few_rows_gemm: x @ weight.T for decode's few rows, registered into
// torch.ops.vllm_stub_cpu beside the layer kernels of ops.cpp.
//
// A decode step's GEMMs multiply a handful of rows by every weight of the
// model, so they are bound by streaming the weights from memory. MKL's GEMM
// at these shapes runs well below that rate on CPU; this one reads each
// weight row once and uses it for every row of x while it is in L1. With
// AVX2 and FMA it runs blocks of 8 rows in vector registers (its sums are
// fused multiply-adds, in its own order, as any GEMM's are); elsewhere it
// falls back to the portable dot product.

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <optional>
#include <vector>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "common.h"

namespace vllm_stub_cpu {
namespace {

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

}  // namespace
}  // namespace vllm_stub_cpu

TORCH_LIBRARY_FRAGMENT(vllm_stub_cpu, m) {
  m.def("few_rows_gemm(Tensor x, Tensor weight, Tensor? bias) -> Tensor",
        &vllm_stub_cpu::few_rows_gemm);
}
