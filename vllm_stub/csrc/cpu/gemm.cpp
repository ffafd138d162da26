// pack_weight_ and packed_gemm: x @ weight.T over a weight laid out once, at
// load time, for this GEMM; registered into torch.ops.vllm_stub_cpu beside
// the layer kernels of ops.cpp. packed_gemm_silu_and_mul is the same GEMM
// with the MLP's SiLU-and-mul applied as its outputs are stored. The
// microkernel is in panel_kernel.h.
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

#include "common.h"
#include "panel_kernel.h"

namespace vllm_stub_cpu {
namespace {

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

// Checks x, the packed weight and the bias of a packed GEMM with `outputs`
// features (see packed_gemm).
void check_gemm(const at::Tensor& x, const at::Tensor& packed, int64_t outputs,
                const std::optional<at::Tensor>& bias, const char* name) {
  check_rows(x, name);
  TORCH_CHECK(packed.dim() == 3 && packed.is_contiguous() && packed.size(1) == x.size(1) &&
                  packed.size(2) == kPanel && packed.size(0) * kPanel >= outputs,
              name, ": the packed weight does not match x's ", x.size(1), " inputs");
  TORCH_CHECK(!bias.has_value() || (bias->is_contiguous() && bias->numel() == outputs &&
                                    bias->scalar_type() == at::kFloat),
              name, ": expected a contiguous float32 bias of ", outputs, " values");
}

// x times every panel of `packed`, chunk of rows by chunk: threads split the
// chunk's `units`, each `per_unit` panels that one thread multiplies in a
// row, the k-th being panel_of(unit, k). Each block of rows' sums go to
// store(unit, k, row, rows, sums, kept), where `kept` is the thread's
// kPanel floats per row of the chunk, from this block's first row, for a
// unit's store to keep values between its panels.
template <typename PanelOf, typename Store>
void multiply_panels(const at::Tensor& x, const at::Tensor& packed, int64_t units,
                     int64_t per_unit, const PanelOf& panel_of, const Store& store) {
  const int64_t rows = x.size(0), inputs = x.size(1), x_stride = x.stride(0);
  const float* xs = x.const_data_ptr<float>();
  const float* ws = packed.const_data_ptr<float>();
  const int64_t width = std::max<int64_t>(1, inputs);  // no division by zero
  const int64_t chunk = std::max(kBlock, kChunkBytes / (width * 4) / kBlock * kBlock);
  for (int64_t first = 0; first < rows; first += chunk) {
    const int64_t last = std::min(rows, first + chunk), count = last - first;
    const int64_t grain =
        std::max<int64_t>(1, kGrain / (width * kPanel * count * per_unit));
    const bool into_l2 = count >= kL2PrefetchFrom && count < kL2PrefetchBelow;
    // blocks of near-equal size: 32 rows as 6+6+5+5+5+5, not 6*5+2. A block
    // of 1-3 rows waits on its multiply-adds' latency and costs almost what
    // a full one does (measured: 7-12% faster at 8-32 rows).
    const int64_t blocks = (count + kBlock - 1) / kBlock;
    at::parallel_for(0, units, grain, [&](int64_t begin, int64_t end) {
      float sums[kBlock][kPanel];
      std::vector<float> kept(per_unit > 1 ? count * kPanel : 0);
      for (int64_t unit = begin; unit < end; ++unit) {
        for (int64_t k = 0; k < per_unit; ++k) {
          // this thread's next panel, one line per input, in equal shares per block
          const float* next = nullptr;
          if (k + 1 < per_unit)
            next = ws + panel_of(unit, k + 1) * inputs * kPanel;
          else if (unit + 1 < end)
            next = ws + panel_of(unit + 1, 0) * inputs * kPanel;
          const int64_t next_lines = next ? inputs : 0;
          const int64_t share = (next_lines + blocks - 1) / blocks;
          const float* panel = ws + panel_of(unit, k) * inputs * kPanel;
          for (int64_t block = 0, row = first; block < blocks; ++block) {
            const int64_t size = count / blocks + (block < count % blocks ? 1 : 0);
            const int64_t skip = std::min(block * share, next_lines);
            PanelPrefetch prefetch{next ? next + skip * kPanel : nullptr,
                                   std::min(share, next_lines - skip), blocks, into_l2};
            block_sums(size, xs + row * x_stride, x_stride, panel, inputs, sums, prefetch);
            store(unit, k, row, size, sums, kept.data() + (row - first) * kPanel);
            row += size;
          }
        }
      }
    });
  }
}

// out = x @ weight.T (+ bias), with packed = weight after pack_weight_,
// viewed as [panels, in, 16], and `outputs` = weight.size(0). Threads split
// the panels of each chunk of rows.
at::Tensor packed_gemm(const at::Tensor& x, const at::Tensor& packed, int64_t outputs,
                       const std::optional<at::Tensor>& bias) {
  check_gemm(x, packed, outputs, bias, "packed_gemm");
  auto out = at::empty({x.size(0), outputs}, x.options());
  const float* b = bias.has_value() ? bias->const_data_ptr<float>() : nullptr;
  float* o = out.data_ptr<float>();
  auto panel_of = [](int64_t unit, int64_t) { return unit; };
  auto store = [&](int64_t p, int64_t, int64_t row, int64_t size,
                   const float (*sums)[kPanel], float*) {
    const int64_t columns = std::min(kPanel, outputs - p * kPanel);
    for (int64_t r = 0; r < size; ++r)
      for (int64_t c = 0; c < columns; ++c)
        o[(row + r) * outputs + p * kPanel + c] =
            b ? sums[r][c] + b[p * kPanel + c] : sums[r][c];
  };
  multiply_panels(x, packed, packed.size(0), 1, panel_of, store);
  return out;
}

// silu_and_mul(packed_gemm(x, packed, outputs, bias)) without the GEMM's
// output: each thread multiplies a gate panel, keeps its sums, multiplies
// the matching up panel and writes silu(gate) * up (common.h's silu_times,
// which silu_and_mul calls), so the values are the two ops' bits. Needs the
// up half to start on a panel: outputs / 2 a multiple of 16. Buys the SiLU
// op's call, its read of the gate and up rows and their write, right after
// the GEMM streamed its weight: 21 us a layer at batch 8, alone (fusion.py).
at::Tensor packed_gemm_silu_and_mul(const at::Tensor& x, const at::Tensor& packed,
                                    int64_t outputs, const std::optional<at::Tensor>& bias) {
  check_gemm(x, packed, outputs, bias, "packed_gemm_silu_and_mul");
  const int64_t half = outputs / 2, pairs = half / kPanel;
  TORCH_CHECK(outputs % (2 * kPanel) == 0,
              "packed_gemm_silu_and_mul: expected gate and up halves of whole panels, got ",
              outputs, " outputs");
  auto out = at::empty({x.size(0), half}, x.options());
  float* o = out.data_ptr<float>();
  if (x.size(0) < kL2PrefetchFrom) {
    // 1-3 rows: the GEMM, then the SiLU over its rows, as the two ops run.
    // Applied per panel pair, the SiLU cost 4-5 us more a layer at 1-2 rows
    // (measured on the MLP's 576 -> 3072 weight from memory), and the two
    // steps leave only the op call to save.
    const auto both = packed_gemm(x, packed, outputs, bias);
    for (int64_t row = 0; row < x.size(0); ++row) {
      const float* gate = both.const_data_ptr<float>() + row * outputs;
      for (int64_t i = 0; i < half; ++i)
        o[row * half + i] = silu_times(gate[i], gate[half + i]);
    }
    return out;
  }
  const float* b = bias.has_value() ? bias->const_data_ptr<float>() : nullptr;
  auto panel_of = [&](int64_t pair, int64_t k) { return pair + k * pairs; };
  // the gate panel's sums are kept till the up panel's arrive; then each row
  // is 16 branch-free silu_times calls, which vectorize as silu_and_mul's do
  auto store = [&](int64_t pair, int64_t k, int64_t row, int64_t size,
                   const float (*sums)[kPanel], float* gates) {
    const int64_t column = pair * kPanel;
    for (int64_t r = 0; r < size; ++r) {
      float* gate = gates + r * kPanel;
      if (k == 0) {
        for (int64_t c = 0; c < kPanel; ++c)
          gate[c] = b ? sums[r][c] + b[column + c] : sums[r][c];
        continue;
      }
      float up[kPanel];
      for (int64_t c = 0; c < kPanel; ++c)
        up[c] = b ? sums[r][c] + b[half + column + c] : sums[r][c];
      float* o_row = o + (row + r) * half + column;
      for (int64_t c = 0; c < kPanel; ++c) o_row[c] = silu_times(gate[c], up[c]);
    }
  };
  multiply_panels(x, packed, pairs, 2, panel_of, store);
  return out;
}

}  // namespace
}  // namespace vllm_stub_cpu

TORCH_LIBRARY_FRAGMENT(vllm_stub_cpu, m) {
  m.def("pack_weight_(Tensor(a!) weight) -> ()");
  m.def("packed_gemm(Tensor x, Tensor packed, int outputs, Tensor? bias) -> Tensor");
  m.def(
      "packed_gemm_silu_and_mul(Tensor x, Tensor packed, int outputs, Tensor? bias)"
      " -> Tensor");
}

TORCH_LIBRARY_IMPL(vllm_stub_cpu, CPU, m) {
  m.impl("pack_weight_", &vllm_stub_cpu::pack_weight_);
  m.impl("packed_gemm", &vllm_stub_cpu::packed_gemm);
  m.impl("packed_gemm_silu_and_mul", &vllm_stub_cpu::packed_gemm_silu_and_mul);
}
