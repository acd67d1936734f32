// The `train:` section's field table and its cross-field rules.
#include "pathfinder/spec/train_spec.h"

#include <fmt/core.h>

#include <memory>
#include <set>

#include "pathfinder/core/strings.h"

namespace pf::spec {

namespace {

// Every ops::AttentionKernel by its name.
std::vector<std::pair<std::string, ops::AttentionKernel>> AttentionKernelChoices() {
  std::vector<std::pair<std::string, ops::AttentionKernel>> out;
  for (ops::AttentionKernel k : ops::kAllAttentionKernels) out.emplace_back(ops::Name(k), k);
  return out;
}

}  // namespace

const Schema<train::TrainSettings>& TrainSchema() {
  using T = train::TrainSettings;
  static const auto s = [] {
    auto t = std::make_shared<Schema<T>>("train");
    t->Integer("seq_len", &T::seq_len, "tokens per training sequence", 1, 1L << 24)
        .Default("2048")
        .Integer("global_batch", &T::global_batch, "sequences per optimizer step (0 = dp × micro_batch)", 0, 1L << 30)
        .Default("0")
        .Integer("micro_batch", &T::micro_batch, "sequences per micro-batch per data-parallel replica", 1, 1L << 20)
        .Default("1")
        .Choice("precision", &T::precision,
                "matmul precision of the linear layers: bf16, fp16, fp8 (Transformer Engine), int8 (AQT as MaxText "
                "and PAX train: every operand of the forward and both backward GEMMs quantized per channel with a "
                "scale from its own abs-max)",
                std::vector<std::pair<std::string, DType>>{
                    {"bf16", DType::kBf16}, {"fp16", DType::kFp16}, {"fp8", DType::kFp8}, {"int8", DType::kInt8}})
        .Default("bf16")
        .Choice("recompute", &T::recompute, "activation recompute (Korthikanti et al. 2022)",
                std::vector<std::pair<std::string, graph::Recompute>>{{"none", graph::Recompute::kNone},
                                                                      {"selective", graph::Recompute::kSelective},
                                                                      {"full", graph::Recompute::kFull}})
        .Default("none")
        .Integer("recompute_layers", &T::recompute_layers,
                 "with recompute: full, the layers of each model chunk (each pipeline stage without interleaving) "
                 "recomputed, its first ones; the others store their activations (Megatron recompute_method block + "
                 "recompute_num_layers, NeMo activations_checkpoint_num_layers); 0 = every layer",
                 0, 100000)
        .Default("0")
        .TextList("recompute_modules", &T::recompute_module_names,
                  "what recompute: selective re-runs in backward instead of storing (Megatron-Core recompute_modules): "
                  "any of core_attn (the attention core), moe_act (the routed experts' activation), layernorm (the "
                  "norms), mla_up_proj (MLA up-projections and rotary), mlp (the dense MLP), moe (the whole MoE "
                  "layer, all-to-alls included), shared_experts; and mlp_fc1 (the dense MLP's first linear and "
                  "activation: MaxText's save_dot_except_mlpwi); needs recompute: selective")
        .Default("[core_attn]")
        .Integer("zero_stage", &T::zero_stage,
                 "ZeRO stage: 0 none, 1 optimizer states, 2 + gradients, 3 + weights (FSDP)", 0, 3)
        .Default("1")
        .Integer("shard_group", &T::shard_group,
                 "hybrid sharding: the data-parallel ranks one copy of the ZeRO-sharded state spans (PyTorch FSDP "
                 "HYBRID_SHARD, MaxText's fsdp axis beside its data axis); the dp / shard_group copies all-reduce "
                 "their gradient shards (0 = all of dp)",
                 0, 1L << 30)
        .Default("0")
        .Choice("grad_dtype", &T::grad_dtype, "gradient buffers and their reduction",
                std::vector<std::pair<std::string, DType>>{{"bf16", DType::kBf16}, {"fp32", DType::kFp32}})
        .Default("bf16")
        .Flag("autocast_fp32_params", &T::autocast_fp32_params,
              "PyTorch automatic mixed precision over fp32 parameters (torch.autocast): each micro-batch's forward "
              "casts every matmul weight to 16 bits and its backward casts every weight gradient to fp32 into .grad")
        .Default("false")
        .Flag("compiled", &T::compiled,
              "torch.compile: elementwise work fused into its neighbours — the backward's sum of each block input's "
              "two gradients rides in the norm backward instead of an add kernel of its own; false = eager autograd "
              "(Megatron, NeMo, plain PyTorch)")
        .Default("false")
        .Integer("logit_metrics", &T::logit_metrics,
                 "metrics computed on every micro-batch's logits beside the loss, each an fp32 cross-entropy under "
                 "autocast (a cast and a log-softmax over the logits): Composer's train metrics on llm-foundry's "
                 "models are 2",
                 0, 16)
        .Default("0")
        .Integer("expert_gemm_streams", &T::expert_gemm_streams,
                 "how MoE expert GEMMs run: 0 = one grouped kernel over the local experts (CUTLASS grouped GEMM, "
                 "torch._grouped_mm); n = one GEMM per local expert, round-robin on n concurrent streams, each round "
                 "its own launch — Transformer Engine's GroupedLinear (Megatron-Core TEGroupedMLP) uses 4",
                 0, 1024)
        .Default("0")
        .Flag("overlap_dp_comm", &T::overlap_dp_comm, "DP gradient reduction bucketed behind backward")
        .Default("true")
        .Integer("collective_ctas", &T::collective_ctas,
                 "CTAs (NCCL channels) an overlapped data-parallel or FSDP collective runs on; on GPUs they slow the "
                 "compute beside them (measured on an H100), and that cost counts as the collective's exposed time",
                 1, 1024)
        .Default("32")
        .Flag("overlap_tp_comm", &T::overlap_tp_comm,
              "TP collectives overlapped with the adjacent GEMMs as Transformer Engine's userbuffers do (needs "
              "sequence parallelism)")
        .Default("false")
        .Text("ub_cfg", &T::ub_cfg,
              "Transformer Engine ub_cfg overrides, space-separated: qkv_dgrad, qkv_wgrad, fc1_dgrad, fc1_wgrad "
              "=bulk:SMS; proj_fprop, fc2_fprop =pipeline:SMS or =ring_exchange (empty = TE's defaults)")
        .Default("")
        .Flag("overlap_pp_comm", &T::overlap_pp_comm,
              "pipeline send/recv overlapped with compute (Megatron overlap_p2p_comm); the fill and drain still wait "
              "for each hop")
        .Default("false")
        .Choice("schedule", &T::schedule, "pipeline schedule",
                std::vector<std::pair<std::string, train::Schedule>>{{"1f1b", train::Schedule::k1F1B},
                                                                     {"interleaved", train::Schedule::kInterleaved}})
        .Default("1f1b")
        .Integer("virtual_stages", &T::virtual_stages, "model chunks per pipeline stage (interleaved)", 1, 1024)
        .Default("1")
        .Text("layout", &T::layout, "rank order, innermost first, e.g. tp,cp,ep,dp,pp")
        .Default("tp,cp,ep,dp,pp")
        .Number("tokens", &T::tokens_to_train, "tokens to train, for time and chip-hours (0 = not asked)", 0, 1e18,
                "tokens")
        .Default("0 tokens")
        .Number("moe_imbalance", &T::moe_imbalance, "tokens of the busiest local expert / the mean", 1, 64)
        .Default("1")
        .Flag("flash_attention", &T::flash_attention, "fused attention (no s×s scores stored)")
        .Default("true")
        .Choice("attention_kernel", &T::attention_kernel,
                "fused-attention kernel: best (the best published kernel for the chip), or an older one a run used — "
                "flash-attention-2, flash-attention-1, flash-attention-1-triton (measured on A100- and H100-class "
                "chips only, data/calibration)",
                AttentionKernelChoices())
        .Default("best")
        .Flag("attention_layout_copies", &T::attention_layout_copies,
              "the fused-attention kernel wants another layout than the framework's: q, k, v and the output are "
              "copied around it, forward and backward (Transformer Engine's flash-attn backend under Megatron's "
              "[s, b, h, d]; llm-foundry's flash-attn 2 varlen gather and scatter)")
        .Default("false")
        .Flag("dropout", &T::dropout, "dropout after attention and MLP (GPT-3 era)")
        .Default("false")
        .Integer("offload_layers", &T::offload_layers,
                 "activation offloading (Megatron-Core cpu_offloading_num_layers): layers per pipeline stage whose "
                 "stored activations go to host memory over the chip's host_link after their forward and come back "
                 "before their backward; what outlasts a pass is exposed",
                 0, 100000)
        .Default("0")
        .Integer("first_stage_layers", &T::first_stage_layers, "layers on the first pipeline stage (0 = even split)", 0,
                 100000)
        .Default("0")
        .Integer("last_stage_layers", &T::last_stage_layers, "layers on the last pipeline stage (0 = even split)", 0,
                 100000)
        .Default("0")
        .Number("allocator_overhead", &T::allocator_overhead,
                "allocator fragmentation as a fraction of allocated memory", 0, 1)
        .Default("0.05")
        .Number("dp_bucket_params", &T::dp_bucket_params,
                "parameters per data-parallel bucket: each bucket's gradient reduction and parameter all-gather is "
                "its own collective call (0 = Megatron-Core's default, max(40 M, 1 M x dp); Apex "
                "DistributedFusedAdam: bucket_cap_mb MiB / bytes of the gradient sync dtype)",
                0, 1e12)
        .Default("0")
        .Flag("fp8_current_scaling", &T::fp8_current_scaling,
              "fp8 recipe: per-tensor current scaling (Transformer Engine Float8CurrentScaling) — the scale comes "
              "from the amax of the tensor being cast, so an amax pass reads each operand before its cast; "
              "false = delayed scaling (scale from the amax history); ignored unless precision: fp8")
        .Default("false")
        .Flag("fp8_activation_input", &T::fp8_activation_input,
              "the MLP activation keeps its input for the backward as an fp8 copy (Megatron-Core "
              "activation_func_fp8_input_store): a byte an element of the fc1 output in memory instead of two, "
              "one cast kernel each way per MLP")
        .Default("false")
        .Flag("fsdp_gather_per_weight", &T::fsdp_gather_per_weight,
              "with zero_stage 3, each weight is gathered just before its own matmul (XLA's SPMD partitioner: JAX, "
              "MaxText), so only the largest weight of a layer and the next are held gathered; false = a block "
              "at a time with the next prefetched (PyTorch FSDP units, DeepSpeed ZeRO-3)")
        .Flag("pytorch_fsdp", &T::pytorch_fsdp,
              "with zero_stage 2 or 3, the sharding is PyTorch FSDP's (FullyShardedDataParallel, as llm-foundry "
              "runs it): every micro-batch, each unit's unsharded gradient is cast to grad_dtype when that differs "
              "from the compute dtype and divided in place by the pre-divide factor before its reduce-scatter — two "
              "HBM passes over the gradients that Megatron-style distributed optimizers do not make")
        .Default("false")
        .Flag("fp8_params", &T::fp8_params,
              "the weights are stored in fp8 (Transformer Engine fp8_model_init; Megatron-LM --fp8-param-gather, "
              "NeMo fp8_params): 1 byte per parameter in memory, the distributed optimizer's and FSDP's weight "
              "all-gathers move fp8, the optimizer writes fp8 weights; LoRA adapters stay 16-bit; needs "
              "precision: fp8")
        .Default("false")
        .Integer("mtp_layers", &T::mtp_layers,
                 "multi-token prediction modules (DeepSeek-V3; Megatron-Core mtp_num_layers): each runs one more "
                 "layer of the last layer's kind and the output head and loss again, on the last pipeline stage",
                 0, 16)
        .Default("0")
        .Integer("lora_rank", &T::lora_rank,
                 "LoRA fine-tuning: adapter rank r; base weights frozen (no weight gradients, no optimizer states), "
                 "adapters x·A·B trained (0 = every weight trains)",
                 0, 1L << 16)
        .Default("0")
        .TextList("lora_targets", &T::lora_targets,
                  "linears that get LoRA adapters: any of qkv, proj (attention output), fc1, fc2 (MLP)")
        .Default("[qkv, proj]")
        .Number("lora_dropout", &T::lora_dropout,
                "LoRA: dropout probability on each adapter's input (NeMo adapter_dropout, position pre; the MLPerf "
                "llama2_70b_lora configs use 0.1): > 0 adds a dropout kernel forward and backward per adapter",
                0, 1)
        .Default("0")
        .Flag("lora_gathered_input", &T::lora_gathered_input,
              "LoRA under TP with sequence parallelism: a column-parallel adapter (qkv, fc1) reads its base's "
              "gathered norm output (Transformer Engine >= 1.5, NeMo with tp_comm_overlap_disable_qkv); false: it "
              "all-gathers its own input and reduce-scatters that gradient")
        .Default("true")
        .Flag("lora_all_to_all", &T::lora_all_to_all,
              "LoRA under TP with sequence parallelism: a row-parallel adapter (proj, fc2) returns its output to the "
              "sequence shard by all-to-all (NeMo a2a_experimental); false: by all-gathers forward and backward")
        .Default("false")
        .TextList("forward_only_quant", &T::forward_only_quant,
                  "linears quantized in the forward GEMM only, their dgrad and wgrad in bf16 and their output "
                  "gradient never cast (MaxText's tff_quant: [proj, fc1, fc2]): any of qkv, proj, fc1, fc2; needs a "
                  "quantized precision (fp8, int8 or fp4)")
        .Default("[]");
    return std::shared_ptr<const Schema<T>>(t);
  }();
  return *s;
}

std::optional<train::TrainSettings> LoadTrainSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path) {
  const int before = ctx.diag->error_count();
  train::TrainSettings s;
  TrainSchema().Load(node, s, ctx, key_path);
  if (ctx.diag->error_count() == before) {
    if (s.schedule == train::Schedule::k1F1B && s.virtual_stages > 1) {
      const YAML::Node at = node["virtual_stages"] ? node["virtual_stages"] : node;
      ctx.Error(at, JoinPath(key_path, "virtual_stages"), "virtual_stages > 1 needs schedule: interleaved");
    }
    if (s.global_batch > 0 && s.global_batch % s.micro_batch != 0) {
      const YAML::Node at = node["global_batch"] ? node["global_batch"] : node;
      ctx.Error(at, JoinPath(key_path, "global_batch"),
                fmt::format("global_batch = {} is not a multiple of micro_batch = {}", s.global_batch, s.micro_batch));
    }
    if (s.recompute_layers > 0 && s.recompute != graph::Recompute::kFull) {
      ctx.Error(
          node["recompute_layers"], JoinPath(key_path, "recompute_layers"),
          fmt::format("recompute_layers counts fully recomputed layers, which needs recompute: full (not {}); set "
                      "recompute: full or drop recompute_layers",
                      graph::Name(s.recompute)));
    }
    if (s.fp8_params && s.precision != DType::kFp8) {
      ctx.Error(node["fp8_params"], JoinPath(key_path, "fp8_params"),
                fmt::format("fp8_params stores the weights in fp8, which needs precision: fp8 (not {}); set precision: "
                            "fp8 or drop fp8_params",
                            pf::Name(s.precision)));
    }
    {
      std::string bad;
      if (!train::ParseTpOverlap(s.ub_cfg, &s.tp_overlap, &bad)) {
        ctx.Error(node["ub_cfg"] ? node["ub_cfg"] : node, JoinPath(key_path, "ub_cfg"), bad);
      } else if (!s.ub_cfg.empty() && !s.overlap_tp_comm) {
        ctx.Error(node["ub_cfg"], JoinPath(key_path, "ub_cfg"), "ub_cfg needs overlap_tp_comm: true");
      }
    }
    {
      std::string bad;
      const YAML::Node at = node["recompute_modules"] ? node["recompute_modules"] : node;
      if (!graph::ParseRecomputeModules(s.recompute_module_names, &s.recompute_modules, &bad)) {
        ctx.Error(at, JoinPath(key_path, "recompute_modules"),
                  fmt::format("'{}' is unknown or repeated; write a list of core_attn, moe_act, layernorm, "
                              "mla_up_proj, mlp, moe, shared_experts, mlp_fc1",
                              bad));
      } else if (node["recompute_modules"] && s.recompute != graph::Recompute::kSelective) {
        ctx.Error(at, JoinPath(key_path, "recompute_modules"),
                  fmt::format("recompute_modules says what selective recompute re-runs, but recompute is {}; set "
                              "recompute: selective or drop recompute_modules",
                              graph::Name(s.recompute)));
      }
    }
    {
      graph::Lora lora;
      std::string bad;
      const YAML::Node at = node["lora_targets"] ? node["lora_targets"] : node;
      if (!graph::ParseLoraTargets(s.lora_targets, &lora, &bad)) {
        ctx.Error(at, JoinPath(key_path, "lora_targets"),
                  fmt::format("'{}' is unknown or repeated; write a list of qkv, proj, fc1, fc2", bad));
      } else if (s.lora_rank > 0 && s.lora_targets.empty()) {
        ctx.Error(at, JoinPath(key_path, "lora_targets"), "lora_rank > 0 needs at least one of qkv, proj, fc1, fc2 in lora_targets");
      }
    }
    if (node["attention_layout_copies"] && s.attention_layout_copies && !s.flash_attention) {
      ctx.Error(node["attention_layout_copies"], JoinPath(key_path, "attention_layout_copies"),
                "attention_layout_copies are the copies around a fused-attention kernel, but flash_attention is false; "
                "drop attention_layout_copies or set flash_attention: true");
    }
    if (node["lora_dropout"] && s.lora_dropout > 0 && s.lora_rank == 0) {
      ctx.Error(node["lora_dropout"], JoinPath(key_path, "lora_dropout"),
                "lora_dropout drops out the LoRA adapters' inputs, but lora_rank is 0 (no adapters); set lora_rank or "
                "drop lora_dropout");
    }
    if (node["pytorch_fsdp"] && s.pytorch_fsdp && s.zero_stage < 2) {
      ctx.Error(node["pytorch_fsdp"], JoinPath(key_path, "pytorch_fsdp"),
                fmt::format("PyTorch FSDP's gradient preparation needs zero_stage 2 or 3 (sharded gradients), not {}; "
                            "set zero_stage or drop pytorch_fsdp",
                            s.zero_stage));
    }
    if (node["forward_only_quant"]) {
      graph::ForwardOnlyQuant q;
      std::string bad;
      const YAML::Node at = node["forward_only_quant"];
      if (!graph::ParseForwardOnlyQuant(s.forward_only_quant, &q, &bad)) {
        ctx.Error(at, JoinPath(key_path, "forward_only_quant"),
                  fmt::format("'{}' is unknown or repeated; write a list of qkv, proj, fc1, fc2", bad));
      } else if (q.any() && BytesPerElement(s.precision) >= 2) {
        ctx.Error(at, JoinPath(key_path, "forward_only_quant"),
                  fmt::format("names linears quantized in the forward only, which needs a quantized precision (fp8, "
                              "int8 or fp4; not {}); set the precision or drop forward_only_quant",
                              pf::Name(s.precision)));
      }
    }
    // The layout names each of tp, cp, ep, dp, pp at most once (missing ones go outermost).
    std::set<std::string> seen;
    std::vector<std::string> names;
    for (size_t b = 0;;) {
      const size_t e = s.layout.find(',', b);
      names.push_back(s.layout.substr(b, e == std::string::npos ? std::string::npos : e - b));
      if (e == std::string::npos) break;
      b = e + 1;
    }
    for (const std::string& raw : names) {
      const std::string d = Trim(raw);
      static const std::set<std::string> kDims = {"tp", "cp", "ep", "dp", "pp"};
      if (!kDims.count(d) || !seen.insert(d).second) {
        const YAML::Node at = node["layout"] ? node["layout"] : node;
        ctx.Error(at, JoinPath(key_path, "layout"),
                  fmt::format("layout '{}': '{}' is unknown or repeated; write an order of tp, cp, ep, dp, pp", s.layout, d));
        break;
      }
    }
  }
  if (ctx.diag->error_count() != before) return std::nullopt;
  return s;
}

}  // namespace pf::spec
