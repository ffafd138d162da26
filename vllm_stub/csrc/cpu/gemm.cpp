// pack_weight_ and packed_gemm: x @ weight.T over a weight laid out once, at
// load time, for this GEMM; registered into torch.ops.vllm_stub_cpu beside
// the layer kernels of ops.cpp.
//
// The packed weight is [out / 16, in, 16] (out padded to whole panels by
// the caller): panels of 16 output features, each stored input by input, so
// one step of the inner loop loads 16 weights contiguously. The microkernel
// keeps a block of up to 6 rows of x times a panel (12 vector registers of
// sums) in registers: per input it loads two vectors of the panel,
// broadcasts one value of each x row and issues 12 fused multiply-adds, so
// arithmetic, not loads, sets its pace at every batch size. MKL and oneDNN
// reach that rate only for large batches, and MKL repacks the weight on
// every call. Each output is summed the same way whichever rows share the
// call, so a sequence's result does not depend on its batch.
//
// A panel is multiplied once per block of rows (two blocks at batch 8, six
// at batch 32), and only the first block's pass reads it from memory: the
// others find it in cache, and left alone the memory would sit idle while
// they run. So each block also prefetches its share of the next panel, one
// line every few inputs, and the weight streams at an even pace under all
// of them (measured on a decode step's 121 GEMMs: 23-27% faster at batch 8,
// 17% at 32 and at a prefill's 1024 rows, 4% at 1). The arithmetic is
// untouched: the same sums in the same order.

#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <algorithm>
#include <optional>
#include <vector>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "common.h"

namespace vllm_stub_cpu {
namespace {

constexpr int64_t kPanel = 16;  // output features per panel
constexpr int64_t kBlock = 6;   // rows of x per microkernel call
constexpr int64_t kDepth = 256; // inputs per chain of multiply-adds
// Rows of x per pass over the weight: their inputs (256 KiB) stay in L2
// while every panel is multiplied by them.
constexpr int64_t kChunkBytes = 256 * 1024;
// Multiply-adds per thread task, below which threads cost more than they save.
constexpr int64_t kGrain = 1 << 16;

// Rows from which the next panel is prefetched into L2 rather than L1, and
// up to which. A panel (36-96 KiB) is bigger than L1 (32 KiB here), so one
// arriving there a panel ahead evicts lines the kernel still reads. Measured
// on a decode step's 121 GEMMs, streaming, into L2 against into L1, across
// runs: 1.3-1.9x faster at 6-13 rows, 1.0-1.4x at 4, 1.14-1.19x at 16, even
// at 20-24; but 5-8% slower at 1-3 rows, whose one block waits on its
// multiply-adds' latency and takes each line straight from L1, and 2% slower
// at 32-64, which are compute-bound.
constexpr int64_t kL2PrefetchFrom = 4, kL2PrefetchBelow = 24;

// The lines of the next panel that one block of rows prefetches: `lines`
// lines from `line` on, one each `every` inputs (the number of blocks),
// into L2 or L1 (see kL2PrefetchFrom).
struct Prefetch {
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
                    float (*sums)[kPanel], Prefetch& prefetch) {
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
                    float (*sums)[kPanel], Prefetch& /*prefetch*/) {
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
void block_sums(int64_t rows, const float* x, int64_t x_stride, const float* panel,
                int64_t inputs, float (*sums)[kPanel], Prefetch& prefetch) {
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

// Packs a [out, in] weight (out a multiple of 16) in place into the layout
// [out / 16, in, 16]. Rows 16p..16p+15 of the plain layout and panel p of
// the packed one are the same bytes, so each panel is transposed through a
// buffer of its own size: the model is never held twice while it packs.
void pack_weight_(at::Tensor& weight) {
  TORCH_CHECK(weight.dim() == 2 && weight.scalar_type() == at::kFloat &&
                  weight.is_contiguous() && weight.size(0) % kPanel == 0,
              "pack_weight_: expected a contiguous float32 [out, in] weight, out a "
              "multiple of ", kPanel);
  const int64_t inputs = weight.size(1), panels = weight.size(0) / kPanel;
  float* data = weight.data_ptr<float>();
  at::parallel_for(0, panels, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> rows(kPanel * inputs);
    for (int64_t p = begin; p < end; ++p) {
      float* panel = data + p * kPanel * inputs;
      std::copy(panel, panel + kPanel * inputs, rows.data());
      for (int64_t c = 0; c < kPanel; ++c)
        for (int64_t k = 0; k < inputs; ++k) panel[k * kPanel + c] = rows[c * inputs + k];
    }
  });
}

// out = x @ weight.T (+ bias), with packed = weight after pack_weight_,
// viewed as [panels, in, 16], and `outputs` = weight.size(0). Threads split
// the panels of each chunk of rows.
at::Tensor packed_gemm(const at::Tensor& x, const at::Tensor& packed, int64_t outputs,
                       const std::optional<at::Tensor>& bias) {
  check_rows(x, "packed_gemm");
  const int64_t rows = x.size(0), inputs = x.size(1);
  TORCH_CHECK(packed.dim() == 3 && packed.is_contiguous() && packed.size(1) == inputs &&
                  packed.size(2) == kPanel && packed.size(0) * kPanel >= outputs,
              "packed_gemm: the packed weight does not match x's ", inputs, " inputs");
  TORCH_CHECK(!bias.has_value() || (bias->is_contiguous() && bias->numel() == outputs &&
                                    bias->scalar_type() == at::kFloat),
              "packed_gemm: expected a contiguous float32 bias of ", outputs, " values");
  auto out = at::empty({rows, outputs}, x.options());
  const float* xs = x.const_data_ptr<float>();
  const float* ws = packed.const_data_ptr<float>();
  const float* b = bias.has_value() ? bias->const_data_ptr<float>() : nullptr;
  float* o = out.data_ptr<float>();
  const int64_t x_stride = x.stride(0), panels = packed.size(0);
  const int64_t width = std::max<int64_t>(1, inputs);  // no division by zero
  const int64_t chunk = std::max(kBlock, kChunkBytes / (width * 4) / kBlock * kBlock);
  for (int64_t first = 0; first < rows; first += chunk) {
    const int64_t last = std::min(rows, first + chunk);
    const int64_t grain = std::max<int64_t>(1, kGrain / (width * kPanel * (last - first)));
    const bool into_l2 = last - first >= kL2PrefetchFrom && last - first < kL2PrefetchBelow;
    at::parallel_for(0, panels, grain, [&](int64_t begin, int64_t end) {
      float sums[kBlock][kPanel];
      for (int64_t p = begin; p < end; ++p) {
        const int64_t columns = std::min(kPanel, outputs - p * kPanel);
        // blocks of near-equal size: 32 rows as 6+6+5+5+5+5, not 6*5+2. A
        // block of 1-3 rows waits on its multiply-adds' latency and costs
        // almost what a full one does (measured: 7-12% faster at 8-32 rows).
        const int64_t count = last - first, blocks = (count + kBlock - 1) / kBlock;
        // this thread's next panel, one line per input, in equal shares per block
        const float* next = p + 1 < end ? ws + (p + 1) * inputs * kPanel : nullptr;
        const int64_t next_lines = next ? inputs : 0;
        const int64_t share = (next_lines + blocks - 1) / blocks;
        for (int64_t block = 0, row = first; block < blocks; ++block) {
          const int64_t size = count / blocks + (block < count % blocks ? 1 : 0);
          const int64_t skip = std::min(block * share, next_lines);
          Prefetch prefetch{next ? next + skip * kPanel : nullptr,
                            std::min(share, next_lines - skip), blocks, into_l2};
          block_sums(size, xs + row * x_stride, x_stride, ws + p * inputs * kPanel, inputs,
                     sums, prefetch);
          for (int64_t r = 0; r < size; ++r)
            for (int64_t c = 0; c < columns; ++c)
              o[(row + r) * outputs + p * kPanel + c] =
                  b ? sums[r][c] + b[p * kPanel + c] : sums[r][c];
          row += size;
        }
      }
    });
  }
  return out;
}

}  // namespace
}  // namespace vllm_stub_cpu

TORCH_LIBRARY_FRAGMENT(vllm_stub_cpu, m) {
  m.def("pack_weight_(Tensor(a!) weight) -> ()");
  m.def("packed_gemm(Tensor x, Tensor packed, int outputs, Tensor? bias) -> Tensor");
}

TORCH_LIBRARY_IMPL(vllm_stub_cpu, CPU, m) {
  m.impl("pack_weight_", &vllm_stub_cpu::pack_weight_);
  m.impl("packed_gemm", &vllm_stub_cpu::packed_gemm);
}
