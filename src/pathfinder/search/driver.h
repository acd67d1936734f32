// search/driver: evaluates a list of points on every rank and thread and hands the results,
// batch by batch in ascending point index, to a sink on the root (the CLI's sink writes
// them to the results store in one transaction per batch, so a kill loses at most the
// batch in flight and `--resume` re-evaluates exactly that).
//
// The split is fixed by the point indices alone — batch b holds pending[b·B·R, (b+1)·B·R),
// and rank r takes every R-th of them — so the rows written do not depend on the number of
// ranks or threads, only on the points.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "pathfinder/core/result.h"
#include "pathfinder/search/distributed.h"
#include "pathfinder/search/objective.h"
#include "pathfinder/search/pool.h"
#include "pathfinder/search/progress.h"

namespace pf::search {

// Evaluates the point with this index; called concurrently from the pool's threads.
using EvaluateFn = std::function<Evaluation(size_t index)>;
// Root only: one batch, ascending indices. An error stops every rank.
using SinkFn = std::function<Result<bool>(const std::vector<size_t>& indices, const std::vector<Evaluation>& evaluations)>;

struct DriverOptions {
  size_t batch_per_rank = 0;  // points per rank per batch; 0 = 32 × threads
  Progress* progress = nullptr;  // root only; may be null
};

// `pending` (ascending point indices still to evaluate) is read on the root and broadcast.
// Returns the number of points this run evaluated (all ranks), or the sink's error.
Result<size_t> RunDistributed(const std::vector<size_t>& pending, const EvaluateFn& evaluate, const SinkFn& sink, Comm& comm,
                              ThreadPool& pool, const DriverOptions& options = {});

// Bytes of evaluations and back (for the gather; same-architecture ranks).
std::string Serialize(const std::vector<size_t>& indices, const std::vector<Evaluation>& evaluations);
void Deserialize(const std::string& bytes, std::vector<size_t>* indices, std::vector<Evaluation>* evaluations);

}  // namespace pf::search
