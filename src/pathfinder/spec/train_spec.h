// spec/train_spec: the `train:` section of a scenario — sequence and batch sizes,
// precision, activation recompute, ZeRO stage / FSDP, overlap options, pipeline schedule,
// rank layout and tokens to train — loaded into train::TrainSettings through one field
// table (which also drives `explain` and the docs).
//
//   train:
//     seq_len: 2048
//     global_batch: 2048        # sequences per optimizer step
//     micro_batch: 1
//     precision: fp8
//     recompute: selective
//     zero_stage: 1
//     schedule: interleaved
//     virtual_stages: 4
//     tokens: 300e9 tokens
#pragma once

#include <optional>
#include <string>

#include "pathfinder/spec/schema.h"
#include "pathfinder/train/settings.h"

namespace pf::spec {

const Schema<train::TrainSettings>& TrainSchema();

// Loads a `train:` section; nullopt when anything is wrong (all problems in ctx.diag).
std::optional<train::TrainSettings> LoadTrainSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path);

}  // namespace pf::spec
