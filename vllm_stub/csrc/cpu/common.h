// Helpers of the CPU kernels: the argument check both ops.cpp and gemm.cpp
// use, a vectorizable dot and exp, a row loop that uses threads for big
// inputs, the rotation of one head that ops.cpp and attention.cpp share,
// and the SiLU-and-mul of one value that ops.cpp and gemm.cpp share.
#pragma once

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace vllm_stub_cpu {

inline void check_rows(const at::Tensor& x, const char* name) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == at::kFloat && x.stride(1) == 1,
              name, ": expected 2-D float32 rows with unit column stride");
}

// a . b summed in kLanes interleaved partial sums, so that the compiler can
// keep them in vector registers (one running sum would be a serial chain).
constexpr int64_t kLanes = 8;

inline float dot(const float* a, const float* b, int64_t n) {
  float partial[kLanes] = {};
  int64_t i = 0;
#if defined(__AVX2__)
  // the loop below, spelled out: built for AVX-512, GCC vectorized that one
  // 16 wide and shuffled the halves back into 8 sums (1.2-1.6x slower norms)
  __m256 sums = _mm256_setzero_ps();
  for (; i + kLanes <= n; i += kLanes)
    sums = _mm256_add_ps(sums, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  _mm256_storeu_ps(partial, sums);
#else
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t lane = 0; lane < kLanes; ++lane) partial[lane] += a[i + lane] * b[i + lane];
#endif
  // pairwise, not lane after lane: three dependent adds instead of seven
  for (int64_t width = kLanes / 2; width > 0; width /= 2)
    for (int64_t lane = 0; lane < width; ++lane) partial[lane] += partial[lane + width];
  float sum = partial[0];
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Runs body(row) for every row, split over threads in chunks of at least
// 8192 elements. A quarter of ATen's grain: the threads are awake from the
// GEMM before, and batch 32's norms and rotary (18-25K elements) ran 1.4x
// faster on two of them (measured in the engine on SmolLM2-135M's shape:
// 33 -> 20 us a norm, 37 -> 26 us a rotary); a batch of 8 or fewer still
// stays on one thread, and a prefill's thousands of rows use all of them.
template <typename Body>
void for_each_row(int64_t rows, int64_t row_width, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, row_width));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) body(row);
  });
}

// Each of `count` positions is a row of the rotary table cos_sin; the
// rotary op and the attention that rotates as it reads both check this.
inline void check_positions(const int64_t* positions, int64_t count,
                            const at::Tensor& cos_sin) {
  for (int64_t i = 0; i < count; ++i)
    TORCH_CHECK(positions[i] >= 0 && positions[i] < cos_sin.size(0),
                "rotary_embedding: position ", positions[i], " is outside the table");
}

// One head rotated as x * cos + swap(x) * sin over its first rotary_dim
// values (the rest copied), where cos and sin are a position's row of the
// rotary table (the sign inside sin) and swap exchanges the members of each
// rotated pair: halves for neox style, neighbours otherwise. The rotary
// kernel and the attention that rotates as it reads (attention.cpp) both
// call it, so the two give the same bits.
inline void rotate_head(const float* in, const float* cos, const float* sin,
                        int64_t rotary_dim, int64_t head_size, bool is_neox, float* out) {
  const int64_t half = rotary_dim / 2;
  // one loop per kind of partner, not a partner chosen per element: the
  // neox loops vectorize (measured: rotary 2x faster at batch 32)
  if (is_neox) {
    for (int64_t i = 0; i < half; ++i) out[i] = in[i] * cos[i] + in[i + half] * sin[i];
    for (int64_t i = half; i < rotary_dim; ++i)
      out[i] = in[i] * cos[i] + in[i - half] * sin[i];
  } else {
    for (int64_t i = 0; i < rotary_dim; i += 2) {
      out[i] = in[i] * cos[i] + in[i + 1] * sin[i];
      out[i + 1] = in[i + 1] * cos[i + 1] + in[i] * sin[i + 1];
    }
  }
  std::copy(in + rotary_dim, in + head_size, out + rotary_dim);
}

// exp(x) for float32 in a form the compiler can vectorize (std::exp is a
// library call per element): x = n ln2 + r, exp(r) by Cephes' degree-6
// polynomial, times 2^n built in the exponent bits. Within 1 ulp of exp
// over the clamped range (checked on every float in it).
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

// silu(gate) * up, with silu(g) = g / (1 + exp(-g)), as g * up / (1 + exp(-g)):
// exp first, then the product over 1 + exp. GCC 13 makes this form 3x faster
// in silu_and_mul's loop than silu(gate) * up or the same in one expression
// (measured), at a possible last-bit difference. The GEMM that applies it
// as it goes (gemm.cpp) calls it too: the same bits.
inline float silu_times(float gate, float up) {
  const float e = vector_exp(-gate);
  return (gate * up) / (1.0f + e);
}

}  // namespace vllm_stub_cpu
