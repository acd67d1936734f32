// `pathfinder model <preset or config.json>`: a model's parameter counts, FLOPs per token,
// weight and KV-cache bytes.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/spec/model_spec.h"

namespace pf::cli {

void AddModelCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("model", "Parameter counts, FLOPs per token, weight and KV-cache bytes of a model");
  struct Opts {
    std::string what;
    long seq = 4096;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("model", o->what, "a model preset (llama-3-70b, …) or a Hugging Face config.json")->required();
  cmd->add_option("--seq", o->seq, "sequence length for FLOPs per token and KV cache")->check(CLI::Range(1L, 100000000L));
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto arch = spec::LoadModelByName(o->what, diag, nullptr);
    *ctx.err << diag.Render();
    if (!arch) {
      ctx.exit_code = 2;
      return;
    }
    const auto c = model::Count(*arch);
    const Flops fwd = model::ForwardFlopsPerToken(*arch, o->seq);
    const Flops train = model::TrainingFlopsPerToken(*arch, o->seq);
    if (o->json) {
      nlohmann::json j = {{"name", arch->name},
                          {"total_params", c.total_params},
                          {"active_params", c.active_params},
                          {"embedding_params", c.embedding_params},
                          {"non_embedding_params", c.non_embedding_params},
                          {"active_non_embedding_params", c.active_non_embedding_params},
                          {"seq_len", o->seq},
                          {"forward_flops_per_token", fwd.value()},
                          {"training_flops_per_token", train.value()},
                          {"weight_bytes", {{"bf16", model::WeightBytes(*arch, DType::kBf16).value()},
                                            {"fp8", model::WeightBytes(*arch, DType::kFp8).value()},
                                            {"fp4", model::WeightBytes(*arch, DType::kFp4).value()}}},
                          {"kv_cache_bytes_per_token_bf16", model::KvCacheBytesPerToken(*arch, DType::kBf16, o->seq).value()}};
      *ctx.out << j.dump(2) << "\n";
      return;
    }
    TextTable t({"quantity", "value"});
    t.AlignRight({1});
    auto b = [](double v) { return FormatNumber(v / 1e9, 5) + " B"; };
    t.Row({"total parameters", b(c.total_params)});
    t.Row({"active parameters per token", b(c.active_params)});
    t.Row({"embedding parameters", b(c.embedding_params)});
    t.Row({"active non-embedding (N_active)", b(c.active_non_embedding_params)});
    t.Row({fmt::format("forward FLOPs/token (seq {})", o->seq), ToString(fwd)});
    t.Row({fmt::format("training FLOPs/token (seq {})", o->seq), ToString(train)});
    t.Row({"weights bf16", ToString(model::WeightBytes(*arch, DType::kBf16))});
    t.Row({"weights fp8", ToString(model::WeightBytes(*arch, DType::kFp8))});
    t.Row({fmt::format("KV cache per token bf16 (ctx {})", o->seq), ToString(model::KvCacheBytesPerToken(*arch, DType::kBf16, o->seq))});
    *ctx.out << fmt::format("model {}\n", arch->name) << t.Render();
    *ctx.out << "training FLOPs/token = 6·N_active + 12·layers·d_attn·seq (DESIGN.md; no causal halving)\n";
  });
}

}  // namespace pf::cli
