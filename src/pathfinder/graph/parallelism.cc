// The rules a model imposes on its parallel split.
#include "pathfinder/graph/parallelism.h"

#include <fmt/core.h>

namespace pf::graph {

std::vector<ParallelProblem> Validate(const Parallelism& p, const model::Architecture& a) {
  std::vector<ParallelProblem> out;
  const std::string model = a.name.empty() ? "" : fmt::format(" (model {})", a.name);
  if (model::IsMla(a)) {
    // MLA: every head has its own (decompressed) K and V, so TP splits the heads.
    if (a.heads % p.tp != 0) out.push_back({"tp", fmt::format("tp = {} does not divide heads = {}{}", p.tp, a.heads, model)});
  } else {
    if (a.heads > 0 && a.heads % p.tp != 0) {
      out.push_back({"tp", fmt::format("tp = {} does not divide heads = {}{}", p.tp, a.heads, model)});
    } else if (a.kv_heads > 0 && a.kv_heads % p.tp != 0 && p.tp % a.kv_heads != 0) {
      // Megatron replicates KV heads when tp > kv_heads, which needs tp to be a multiple.
      out.push_back({"tp", fmt::format("tp = {} and kv_heads = {}{}: neither divides the other, so KV heads cannot be "
                                       "split or replicated evenly",
                                       p.tp, a.kv_heads, model)});
    }
  }
  if (a.ffn_hidden > 0 && a.ffn_hidden % p.tp != 0) {
    out.push_back({"tp", fmt::format("tp = {} does not divide ffn_hidden = {}{}", p.tp, a.ffn_hidden, model)});
  }
  if (a.layers > 0 && p.pp > a.layers) {
    out.push_back({"pp", fmt::format("pp = {} is more pipeline stages than the {} layers{}", p.pp, a.layers, model)});
  }
  if (model::IsMoe(a)) {
    if (a.moe.num_experts % p.ep != 0) {
      out.push_back({"ep", fmt::format("ep = {} does not divide num_experts = {}{}", p.ep, a.moe.num_experts, model)});
    }
    const long carve = long(p.dp) * p.cp * p.tp;
    if (carve % p.ep != 0) {
      out.push_back({"ep", fmt::format("ep = {} does not divide dp·cp·tp = {} (expert parallelism is carved out of them)",
                                       p.ep, carve)});
    }
  } else if (p.ep != 1) {
    out.push_back({"ep", fmt::format("ep = {} but the model{} has no experts; use ep: 1", p.ep, model)});
  }
  if (p.sequence_parallel && p.tp == 1) {
    out.push_back({"sequence_parallel", "sequence parallelism needs tp > 1"});
  }
  return out;
}

}  // namespace pf::graph
