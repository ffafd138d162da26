// The attention layers' K/V caches, held by the kernels under one number per
// layer (bind_kv_cache), and the decode_attention ops, which take a layer's
// number and run attention.cpp's kernel on the cache bound to it.
//
// Why: a traced decode step (compilation/decode_graph.py) that passed each
// layer's two cache tensors to the kernel took them as graph inputs,
// and the cache is sized anew for each generate call, so their sizes were
// symbolic: dynamo then checked ~180 stride guards in Python and read 60
// sizes through wrappers before every step, on top of gathering the tensors.
// Named by a constant instead, the caches are not the graph's inputs at all,
// as in vLLM, whose attention op finds its layer's cache by the layer's name.
// The attention layer binds its cache when the runner sets it and unbinds it
// when the runner frees it or the layer is collected (attention.py).

#include <torch/library.h>

#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include "attention.h"

namespace vllm_stub_cpu {
namespace {

struct BoundCaches {
  std::mutex mutex;  // binding runs in Python's thread, lookups in TorchScript's
  std::unordered_map<int64_t, std::pair<at::Tensor, at::Tensor>> by_layer;
};

BoundCaches& bound_caches() {
  static BoundCaches caches;
  return caches;
}

// Both caches bind them to `layer` (replacing what it had); neither unbinds.
void bind_kv_cache(int64_t layer, const std::optional<at::Tensor>& key_cache,
                   const std::optional<at::Tensor>& value_cache) {
  TORCH_CHECK(key_cache.has_value() == value_cache.has_value(),
              "bind_kv_cache: give both caches to bind, neither to unbind");
  BoundCaches& caches = bound_caches();
  std::lock_guard<std::mutex> lock(caches.mutex);
  if (key_cache.has_value())
    caches.by_layer[layer] = {*key_cache, *value_cache};
  else
    caches.by_layer.erase(layer);
}

// The caches bound to `layer`: a reference each, so that an unbind
// meanwhile frees nothing.
std::pair<at::Tensor, at::Tensor> caches_of(int64_t layer) {
  BoundCaches& caches = bound_caches();
  std::lock_guard<std::mutex> lock(caches.mutex);
  auto found = caches.by_layer.find(layer);
  TORCH_CHECK(found != caches.by_layer.end(), "decode_attention: layer ", layer,
              " has no K/V cache bound");
  return found->second;
}

at::Tensor decode_attention_of_layer(const at::Tensor& query, const at::Tensor& key,
                                  const at::Tensor& value, int64_t layer,
                                  const at::Tensor& slots, const at::Tensor& context_lens,
                                  double scale, int64_t sliding_window) {
  auto [key_cache, value_cache] = caches_of(layer);
  return decode_attention(query, key, value, key_cache, value_cache, slots, context_lens,
                          scale, sliding_window);
}

// rotary_embedding's rotation of query and key, then decode_attention_of_layer,
// in one call: what compilation/fusion.py puts in a traced decode step in
// place of the two. Same rotation (rotate_head), same attention, same bits.
at::Tensor rotary_decode_attention(const at::Tensor& query, const at::Tensor& key,
                                   const at::Tensor& value, int64_t layer,
                                   const at::Tensor& slots, const at::Tensor& context_lens,
                                   double scale, int64_t sliding_window,
                                   const at::Tensor& positions, int64_t head_size,
                                   const at::Tensor& cos_sin, bool is_neox) {
  auto [key_cache, value_cache] = caches_of(layer);
  TORCH_CHECK(cos_sin.scalar_type() == at::kFloat && cos_sin.is_contiguous() &&
                  cos_sin.dim() == 3 && cos_sin.size(2) <= head_size &&
                  positions.scalar_type() == at::kLong && positions.is_contiguous() &&
                  positions.numel() == query.size(0) && head_size == key_cache.size(3),
              "rotary_decode_attention: expected a contiguous float32 table, int64 "
              "positions, one per sequence, and heads of the cache's size");
  const int64_t* position = positions.const_data_ptr<int64_t>();
  check_positions(position, positions.numel(), cos_sin);
  const Rotation rotation{position, cos_sin.const_data_ptr<float>(), cos_sin.size(2),
                          is_neox};
  return decode_attention(query, key, value, key_cache, value_cache, slots, context_lens,
                          scale, sliding_window, &rotation);
}

}  // namespace
}  // namespace vllm_stub_cpu

TORCH_LIBRARY_FRAGMENT(vllm_stub_cpu, m) {
  // with its function: unbinding passes no tensor to dispatch on, and
  // binding runs eagerly only, so it needs no fake form
  m.def("bind_kv_cache(int layer, Tensor? key_cache, Tensor? value_cache) -> ()",
        &vllm_stub_cpu::bind_kv_cache);
  // Conservative: it writes the bound cache, which its schema cannot name,
  // so TorchScript must neither drop nor reorder a call.
  m.def(torch::schema(
      "decode_attention(Tensor query, Tensor key, Tensor value, int layer,"
      " Tensor slots, Tensor context_lens, float scale, int sliding_window) -> Tensor",
      c10::AliasAnalysisKind::CONSERVATIVE));
  m.def(torch::schema(
      "rotary_decode_attention(Tensor query, Tensor key, Tensor value, int layer,"
      " Tensor slots, Tensor context_lens, float scale, int sliding_window,"
      " Tensor positions, int head_size, Tensor cos_sin, bool is_neox) -> Tensor",
      c10::AliasAnalysisKind::CONSERVATIVE));
}

TORCH_LIBRARY_IMPL(vllm_stub_cpu, CPU, m) {
  m.impl("decode_attention", &vllm_stub_cpu::decode_attention_of_layer);
  m.impl("rotary_decode_attention", &vllm_stub_cpu::rotary_decode_attention);
}
