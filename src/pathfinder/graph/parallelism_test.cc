// Parallel split rules against a model.
#include "pathfinder/graph/parallelism.h"

#include <gtest/gtest.h>

namespace pf::graph {
namespace {

model::Architecture Llama70B() {
  model::Architecture a;
  a.name = "llama-3-70b";
  a.hidden = 8192;
  a.layers = 80;
  a.heads = 64;
  a.kv_heads = 8;
  a.head_dim = 128;
  a.ffn_hidden = 28672;
  a.vocab = 128256;
  return a;
}

TEST(Parallelism, TpMustDivideHeads) {
  auto p = Validate(Parallelism{.tp = 12}, Llama70B());
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p[0].key_path, "tp");
  EXPECT_EQ(p[0].message, "tp = 12 does not divide heads = 64 (model llama-3-70b)");
}

TEST(Parallelism, TpAboveKvHeadsIsAllowedWhenAMultiple) { EXPECT_TRUE(Validate(Parallelism{.tp = 16}, Llama70B()).empty()); }

TEST(Parallelism, PipelineCannotHaveMoreStagesThanLayers) {
  auto p = Validate(Parallelism{.pp = 81}, Llama70B());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].key_path, "pp");
}

TEST(Parallelism, ExpertParallelNeedsExperts) {
  auto p = Validate(Parallelism{.dp = 8, .ep = 8}, Llama70B());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].key_path, "ep");
}

TEST(Parallelism, ExpertParallelMustDivideExpertsAndTheDataParallelRanks) {
  model::Architecture a = Llama70B();
  a.moe.num_experts = 8;
  a.moe.top_k = 2;
  EXPECT_TRUE(Validate(Parallelism{.dp = 8, .ep = 8}, a).empty());
  EXPECT_EQ(Validate(Parallelism{.dp = 4, .ep = 16}, a).size(), 2u);
}

}  // namespace
}  // namespace pf::graph
