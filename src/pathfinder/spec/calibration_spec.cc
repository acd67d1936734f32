// The calibration field table and loader.
#include "pathfinder/spec/calibration_spec.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>

#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

using ops::CalibrationSpec;

// The dtypes a file may name, in file order.
constexpr DType kCalibratedTypes[] = {DType::kFp64, DType::kFp32, DType::kTf32, DType::kBf16,
                                      DType::kFp16, DType::kFp8,  DType::kInt8, DType::kFp4};

std::shared_ptr<Schema<ops::PerDType<FlopsPerSec>>> BuildMatmulSchema() {
  auto s = std::make_shared<Schema<ops::PerDType<FlopsPerSec>>>("matmul");
  for (DType t : kCalibratedTypes) {
    s->QuantityField<FlopsPerSec>(std::string(Name(t)), [t](ops::PerDType<FlopsPerSec>& v) -> FlopsPerSec& { return v[t]; },
                                  fmt::format("best achievable dense {} matmul FLOP/s, measured", Name(t)),
                                  Bounds<FlopsPerSec>::Positive());
  }
  return s;
}

std::shared_ptr<Schema<ops::PerDType<double>>> BuildFractionSchema() {
  auto s = std::make_shared<Schema<ops::PerDType<double>>>("matmul_fraction");
  for (DType t : kCalibratedTypes) {
    s->NumberField(std::string(Name(t)), [t](ops::PerDType<double>& v) -> double& { return v[t]; },
                   fmt::format("achievable / dense peak for {} matmuls", Name(t)), 0.01, 1.0);
  }
  return s;
}

// One named attention kernel's rates (ops::AttentionKernelSpec).
std::shared_ptr<Schema<ops::AttentionKernelSpec>> BuildKernelSchema() {
  using K = ops::AttentionKernelSpec;
  auto s = std::make_shared<Schema<K>>("attention kernel");
  s->Quantity("forward", &K::forward, "measured forward FLOP/s (chip files)", Bounds<FlopsPerSec>::Positive())
      .Quantity("backward", &K::backward, "measured backward FLOP/s (chip files)", Bounds<FlopsPerSec>::Positive())
      .Quantity("forward_backward", &K::forward_backward,
                "measured forward + backward FLOP/s (3.5 × forward FLOPs / total time) when the passes are not "
                "given apart (chip files)",
                Bounds<FlopsPerSec>::Positive())
      .Number("forward_share", &K::forward_share, "forward rate / bf16 matmul ceiling (family files)", 0.01, 1.0)
      .Number("backward_share", &K::backward_share, "backward rate / bf16 matmul ceiling (family files)", 0.01, 1.0)
      .Number("forward_backward_share", &K::forward_backward_share,
              "forward + backward rate / bf16 matmul ceiling (family files)", 0.01, 1.0)
      .Number("block_overhead", &K::block_overhead,
              "fixed work of one query block in 128-key block iterations, fitted to the rates at 2k-8k tokens", 0, 16)
      .Number("causal_factor", &K::causal_factor,
              "causal rate at 16k tokens / the rate the mask's geometry alone gives (1 = geometry only)", 0.3, 1.5);
  return s;
}

std::shared_ptr<Schema<std::array<ops::AttentionKernelSpec, ops::kAllAttentionKernels.size()>>> BuildKernelsSchema() {
  using A = std::array<ops::AttentionKernelSpec, ops::kAllAttentionKernels.size()>;
  auto s = std::make_shared<Schema<A>>("attention_kernels");
  const std::shared_ptr<const Schema<ops::AttentionKernelSpec>> sub = BuildKernelSchema();
  for (ops::AttentionKernel k : ops::kAllAttentionKernels) {
    if (k == ops::AttentionKernel::kBest) continue;  // the best kernel: attention_forward / _backward
    s->NestedField<ops::AttentionKernelSpec>(
        std::string(ops::Name(k)), [k](A& a) -> ops::AttentionKernelSpec& { return a[static_cast<size_t>(k)]; }, sub,
        fmt::format("rates of the {} kernel", ops::Name(k)));
  }
  return s;
}

std::shared_ptr<Schema<CalibrationSpec>> BuildSchema() {
  auto s = std::make_shared<Schema<CalibrationSpec>>("calibration");
  s->Text("name", &CalibrationSpec::name, "chip preset name or architecture family (the file name without .yaml)")
      .Required()
      .Choice("applies", &CalibrationSpec::applies, "whether the file describes one chip or a family",
              std::vector<std::pair<std::string, std::string>>{{"chip", "chip"}, {"family", "family"}})
      .Required()
      .Nested("matmul", &CalibrationSpec::matmul,
              std::shared_ptr<const Schema<ops::PerDType<FlopsPerSec>>>(BuildMatmulSchema()),
              "measured best achievable matmul FLOP/s per dtype")
      .Nested("matmul_fraction", &CalibrationSpec::matmul_fraction,
              std::shared_ptr<const Schema<ops::PerDType<double>>>(BuildFractionSchema()),
              "achievable fraction of the dense peak per dtype (family defaults)")
      .Quantity("hbm_bandwidth", &CalibrationSpec::hbm_bandwidth, "measured achievable HBM bandwidth (stream triad)",
                Bounds<BytesPerSec>::Positive())
      .Number("hbm_fraction", &CalibrationSpec::hbm_fraction, "achievable fraction of the vendor HBM bandwidth", 0.01,
              1.0)
      .Quantity("kernel_overhead", &CalibrationSpec::kernel_overhead, "fixed cost per kernel (launch, fill, drain)",
                Bounds<Seconds>::NonNegative())
      .Quantity("attention_forward", &CalibrationSpec::attention_forward,
                "measured best fused-attention forward FLOP/s (bf16, FlashAttention-style)",
                Bounds<FlopsPerSec>::Positive())
      .Quantity("attention_backward", &CalibrationSpec::attention_backward,
                "measured best fused-attention backward FLOP/s (bf16)", Bounds<FlopsPerSec>::Positive())
      .Number("attention_forward_share", &CalibrationSpec::attention_forward_share,
              "fused-attention forward rate as a share of the bf16 matmul ceiling (family defaults)", 0.01, 1.0)
      .Number("attention_backward_share", &CalibrationSpec::attention_backward_share,
              "fused-attention backward rate as a share of the bf16 matmul ceiling (family defaults)", 0.01, 1.0)
      .Nested("attention_kernels", &CalibrationSpec::attention_kernels,
              std::shared_ptr<const Schema<std::array<ops::AttentionKernelSpec, ops::kAllAttentionKernels.size()>>>(
                  BuildKernelsSchema()),
              "older fused-attention kernels measured on this chip or family (flash-attention-2, flash-attention-1, "
              "flash-attention-1-triton)")
      .Text("notes", &CalibrationSpec::notes, "how the numbers were derived");
  return s;
}

std::optional<CalibrationSpec> LoadAt(const std::string& path, const std::string& stem, Diagnostics& diag,
                                      ProvenanceMap* provenance) {
  const int before = diag.error_count();
  auto root = LoadYamlFile(path, diag);
  if (!root) return std::nullopt;
  LoadContext ctx{path, "", &diag, provenance};
  const YAML::Node source = (*root)["source"];
  if (source && source.IsScalar()) {
    ctx.default_source = source.Scalar();
  } else {
    ctx.Error(source ? source : *root, "source", "every calibration file needs a top-level source: \"<where its numbers come from>\"");
  }
  CalibrationSpec v;
  CalibrationSchema().Load(*root, v, ctx, "");
  CalibrationSchema().CheckRequired({*root}, *root, "", ctx);
  if (!stem.empty() && !v.name.empty() && v.name != stem) {
    ctx.Error((*root)["name"], "name", fmt::format("'{}' must equal the file name '{}'", v.name, stem));
  }
  if (diag.error_count() != before) return std::nullopt;
  return v;
}

bool HasPreset(const std::string& name) {
  const auto names = ListPresets(PresetKind::kCalibration);
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const Schema<CalibrationSpec>& CalibrationSchema() {
  static const std::shared_ptr<Schema<CalibrationSpec>> s = BuildSchema();
  return *s;
}

std::optional<CalibrationSpec> LoadCalibrationPreset(const std::string& name, Diagnostics& diag, ProvenanceMap* provenance) {
  auto path = FindPreset(PresetKind::kCalibration, name, diag, {}, PresetKindName(PresetKind::kCalibration));
  if (!path) return std::nullopt;
  return LoadAt(*path, name, diag, provenance);
}

std::optional<CalibrationSpec> LoadCalibrationFile(const std::string& path, Diagnostics& diag, ProvenanceMap* provenance) {
  return LoadAt(path, "", diag, provenance);
}

std::vector<std::string> FamilyCandidates(const std::string& family) {
  std::vector<std::string> out;
  if (family.empty()) return out;
  out.push_back(family);
  // Strip a version suffix: "tpu-v5p" → "tpu", "gaudi2" → "gaudi", "cdna3" → "cdna".
  std::string base = family;
  const auto dash = base.find("-v");
  if (dash != std::string::npos) base = base.substr(0, dash);
  while (!base.empty() && (std::isdigit(static_cast<unsigned char>(base.back())) || base.back() == '-')) base.pop_back();
  if (!base.empty() && base != family) out.push_back(base);
  return out;
}

std::optional<ResolvedCalibration> ResolveCalibration(const hw::Chip& chip, Diagnostics& diag) {
  ResolvedCalibration r;
  std::optional<CalibrationSpec> own, fam;
  if (!chip.name.empty() && HasPreset(chip.name)) {
    own = LoadCalibrationPreset(chip.name, diag);
    if (!own) return std::nullopt;
    r.chip_file = chip.name;
  }
  for (const auto& f : FamilyCandidates(chip.family)) {
    if (!HasPreset(f)) continue;
    fam = LoadCalibrationPreset(f, diag);
    if (!fam) return std::nullopt;
    r.family_file = f;
    break;
  }
  r.ceilings = ops::ResolveCeilings(chip, own ? &*own : nullptr, fam ? &*fam : nullptr);
  return r;
}

}  // namespace pf::spec
