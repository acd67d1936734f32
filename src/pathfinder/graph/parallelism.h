// graph/parallelism: how one training or serving job is split over chips — tensor (TP),
// pipeline (PP), data (DP), context (CP) and expert (EP) parallel degrees — and the rules
// a model imposes on them (TP divides the heads, EP divides the experts, …).
#pragma once

#include <string>
#include <vector>

#include "pathfinder/model/architecture.h"

namespace pf::graph {

struct Parallelism {
  int tp = 1;  // tensor parallel
  int pp = 1;  // pipeline parallel (stages)
  int dp = 1;  // data parallel (replicas)
  int cp = 1;  // context parallel (sequence split for attention)
  int ep = 1;  // expert parallel, carved out of dp·cp·tp as Megatron does
  bool sequence_parallel = false;  // TP with sequence-parallel norms/dropout

  int chips() const { return tp * pp * dp * cp; }
};

struct ParallelProblem {
  std::string key_path;  // relative to the parallelism section, e.g. "tp"
  std::string message;
};

// Checks the degrees against the model: TP divides attention heads and KV heads (or KV
// heads divide TP, as replicated KV), PP ≤ layers, EP divides experts and dp·cp·tp, ….
std::vector<ParallelProblem> Validate(const Parallelism& p, const model::Architecture& arch);

}  // namespace pf::graph
