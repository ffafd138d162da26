// The GEMM's microkernel: one block of up to kBlock rows of x times one
// packed panel of kPanel output features, in the layout and order that
// gemm.cpp's header describes, prefetching a share of the next panel as it
// goes. gemm.cpp's ops drive it over panels and rows.
#pragma once

#include <algorithm>
#include <cstdint>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace vllm_stub_cpu {

constexpr int64_t kPanel = 16;  // output features per panel
constexpr int64_t kBlock = 6;   // rows of x per microkernel call
constexpr int64_t kDepth = 256; // inputs per chain of multiply-adds

// The lines of the next panel that one block of rows prefetches: `lines`
// lines from `line` on, one each `every` inputs (the number of blocks),
// into L2 or L1 (see kL2PrefetchFrom).
struct PanelPrefetch {
  const float* line;
  int64_t lines;
  int64_t every;
  bool into_l2;
  int64_t countdown = 1;

  // Called once per input of the block's pass.
  inline void step() {
    if (--countdown > 0 || lines == 0) return;
    countdown = every;
    if (into_l2)
      __builtin_prefetch(line, /*rw=*/0, /*locality=*/2);
    else
      __builtin_prefetch(line, /*rw=*/0, /*locality=*/3);
    line += kPanel;
    --lines;
  }
};

#if defined(__AVX2__) && defined(__FMA__)
// The sums live in named registers: GCC spills an array of __m256 to the
// stack on every iteration, which halves the kernel's speed.
#define VLLM_STUB_ROW(i)                                            \
  if constexpr (rows > i) {                                         \
    const __m256 xi = _mm256_broadcast_ss(x + i * x_stride + k);    \
    sum##i##a = _mm256_fmadd_ps(xi, low, sum##i##a);                \
    sum##i##b = _mm256_fmadd_ps(xi, high, sum##i##b);               \
  }

// Adds into sums[r][0..16) x row r (of `rows`) dotted with each column of
// the panel over `depth` inputs.
template <int64_t rows>
void add_block_sums(const float* x, int64_t x_stride, const float* panel, int64_t depth,
                    float (*sums)[kPanel], PanelPrefetch& prefetch) {
  __m256 sum0a = _mm256_setzero_ps(), sum0b = sum0a, sum1a = sum0a, sum1b = sum0a,
         sum2a = sum0a, sum2b = sum0a, sum3a = sum0a, sum3b = sum0a, sum4a = sum0a,
         sum4b = sum0a, sum5a = sum0a, sum5b = sum0a;
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 low = _mm256_loadu_ps(panel + k * kPanel);
    const __m256 high = _mm256_loadu_ps(panel + k * kPanel + 8);
    prefetch.step();
    VLLM_STUB_ROW(0) VLLM_STUB_ROW(1) VLLM_STUB_ROW(2)
    VLLM_STUB_ROW(3) VLLM_STUB_ROW(4) VLLM_STUB_ROW(5)
  }
  const __m256 all[kBlock][2] = {{sum0a, sum0b}, {sum1a, sum1b}, {sum2a, sum2b},
                                 {sum3a, sum3b}, {sum4a, sum4b}, {sum5a, sum5b}};
  for (int64_t r = 0; r < rows; ++r) {
    _mm256_storeu_ps(sums[r], _mm256_add_ps(_mm256_loadu_ps(sums[r]), all[r][0]));
    _mm256_storeu_ps(sums[r] + 8, _mm256_add_ps(_mm256_loadu_ps(sums[r] + 8), all[r][1]));
  }
}
#undef VLLM_STUB_ROW
#else
template <int64_t rows>
void add_block_sums(const float* x, int64_t x_stride, const float* panel, int64_t depth,
                    float (*sums)[kPanel], PanelPrefetch& /*prefetch*/) {
  for (int64_t r = 0; r < rows; ++r) {
    float block[kPanel] = {};
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t c = 0; c < kPanel; ++c) block[c] += x[r * x_stride + k] * panel[k * kPanel + c];
    for (int64_t c = 0; c < kPanel; ++c) sums[r][c] += block[c];
  }
}
#endif

// sums[r][0..16) = x row r (of `rows`) dotted with each column of the
// panel: one chain of multiply-adds per kDepth inputs, the chains added in
// order, which keeps rounding near a blocked GEMM's (one chain over a few
// thousand inputs loses several times more bits).
inline void block_sums(int64_t rows, const float* x, int64_t x_stride, const float* panel,
                int64_t inputs, float (*sums)[kPanel], PanelPrefetch& prefetch) {
  for (int64_t r = 0; r < rows; ++r) std::fill(sums[r], sums[r] + kPanel, 0.0f);
  for (int64_t k = 0; k < inputs; k += kDepth) {
    const int64_t depth = std::min(kDepth, inputs - k);
    const float* xk = x + k;
    const float* pk = panel + k * kPanel;
    switch (rows) {
      case 1: add_block_sums<1>(xk, x_stride, pk, depth, sums, prefetch); break;
      case 2: add_block_sums<2>(xk, x_stride, pk, depth, sums, prefetch); break;
      case 3: add_block_sums<3>(xk, x_stride, pk, depth, sums, prefetch); break;
      case 4: add_block_sums<4>(xk, x_stride, pk, depth, sums, prefetch); break;
      case 5: add_block_sums<5>(xk, x_stride, pk, depth, sums, prefetch); break;
      default: add_block_sums<6>(xk, x_stride, pk, depth, sums, prefetch);
    }
  }
}

}  // namespace vllm_stub_cpu
