// Loader of data/econ/chip-prices.yaml and the price / $-per-chip-hour of a chip (see
// chip_price.h for the order in which sources are tried).
#include "pathfinder/spec/chip_price.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "pathfinder/core/strings.h"
#include "pathfinder/core/units_parse.h"
#include "pathfinder/spec/design_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {
namespace {

constexpr const char* kPricesFile = "econ/chip-prices.yaml";

// "$2.70/h" or "$2.70/hour" → $2.70 (per chip-hour).
Result<Dollars> ParseHourlyRate(const std::string& text) {
  std::string t = Trim(text);
  for (const char* suffix : {"/hour", "/h"}) {
    const std::string s = suffix;
    if (t.size() > s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0) {
      return ParseQuantity<Dollars>(Trim(t.substr(0, t.size() - s.size())));
    }
  }
  return Error{fmt::format("'{}' is not a rate per chip-hour; write e.g. \"$2.70/h\"", text)};
}

double Years(Seconds s) { return s.value() / (365.25 * 86400.0); }

}  // namespace

std::string KindName(ChipPrice::Kind k) {
  switch (k) {
    case ChipPrice::Kind::kNone: return "none";
    case ChipPrice::Kind::kPurchase: return "purchase";
    case ChipPrice::Kind::kBuildCost: return "build-cost";
    case ChipPrice::Kind::kCloudRate: return "cloud-rate";
  }
  return "none";
}

std::vector<PriceEntry> LoadChipPrices(Diagnostics& diag) {
  const std::string path = DataDir() + "/" + kPricesFile;
  auto root = LoadYamlFile(path, diag);
  if (!root) return {};
  ProvenanceMap prov;
  LoadContext ctx{path, "", &diag, &prov};
  if (!root->IsMap()) {
    ctx.Error(*root, "", "expected a map with keys name, source, prices, cloud_rates");
    return {};
  }
  const std::vector<std::string> top = {"name", "source", "prices", "cloud_rates"};
  for (const auto& kv : *root) {
    const std::string k = kv.first.Scalar();
    if (std::find(top.begin(), top.end(), k) != top.end()) continue;
    const std::string hint = ClosestMatch(k, top);
    ctx.Error(kv.first, k, hint.empty() ? "unknown key; allowed: name, source, prices, cloud_rates"
                                        : fmt::format("unknown key; did you mean '{}'?", hint));
  }
  const std::vector<std::string> presets = ListPresets(PresetKind::kChip);
  std::vector<PriceEntry> out;
  auto section = [&](const char* name, ChipPrice::Kind kind) {
    const YAML::Node s = (*root)[name];
    if (!s) return;
    if (!s.IsMap()) return ctx.Error(s, name, "expected a map of chip preset → price");
    for (const auto& kv : s) {
      const std::string chip = kv.first.Scalar();
      const std::string key = JoinPath(name, chip);
      if (std::find(presets.begin(), presets.end(), chip) == presets.end()) {
        const std::string hint = ClosestMatch(chip, presets);
        ctx.Error(kv.first, key,
                  hint.empty() ? fmt::format("unknown chip preset '{}' (not in data/chips/)", chip)
                               : fmt::format("unknown chip preset '{}'; did you mean '{}'?", chip, hint));
        continue;
      }
      const YAML::Node v = UnwrapSourced(kv.second, key, ctx);
      if (!v.IsScalar()) {
        ctx.Error(v, key, kind == ChipPrice::Kind::kCloudRate ? "expected a rate per chip-hour, e.g. \"$2.70/h\""
                                                              : "expected a price, e.g. \"$30000\"");
        continue;
      }
      const std::string text = ScalarText(v);
      Result<Dollars> r = kind == ChipPrice::Kind::kCloudRate ? ParseHourlyRate(text) : ParseQuantity<Dollars>(text);
      if (!r.ok()) {
        ctx.Error(v, key, r.error());
        continue;
      }
      if (!(r.value().value() > 0)) {
        ctx.Error(v, key, fmt::format("{} must be > 0", text));
        continue;
      }
      PriceEntry e;
      e.chip = chip;
      e.price.kind = kind;
      (kind == ChipPrice::Kind::kCloudRate ? e.price.per_chip_hour : e.price.purchase) = r.value();
      const auto p = prov.find(key);
      if (p != prov.end()) {
        e.price.estimate = p->second.estimate;
        e.price.source = p->second.source;
      }
      const std::string est = e.price.estimate ? ", estimate" : "";
      e.price.basis = kind == ChipPrice::Kind::kCloudRate
                          ? fmt::format("cloud on-demand rate {}/chip-hour{} (data/{})", FormatDollars(r.value()), est, kPricesFile)
                          : fmt::format("purchase price {}{} (data/{})", FormatDollars(r.value()), est, kPricesFile);
      out.push_back(std::move(e));
    }
  };
  section("prices", ChipPrice::Kind::kPurchase);
  section("cloud_rates", ChipPrice::Kind::kCloudRate);
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = i + 1; j < out.size(); ++j) {
      if (out[i].chip == out[j].chip) {
        diag.Error({path, 0, 0}, "cloud_rates." + out[j].chip,
                   fmt::format("chip '{}' has both a purchase price and a cloud rate; give one", out[j].chip));
      }
    }
  }
  return out;
}

ChipPrice ChipPriceFor(const hw::Chip& chip, const std::string& design_file, Diagnostics& diag) {
  ChipPrice none;
  if (!design_file.empty()) {
    auto f = LoadDesign(design_file, diag);
    if (!f) {
      none.basis = fmt::format("no price: design file {} did not load", design_file);
      return none;
    }
    const hw::DerivedChip c = hw::DeriveChip(f->design, f->tech);
    auto ec = CostDesign(*f, c, diag);
    if (!ec) {
      none.basis = fmt::format("no price: no build cost for design '{}' (see the error above)", f->design.name);
      return none;
    }
    ChipPrice p;
    p.kind = ChipPrice::Kind::kBuildCost;
    p.purchase = ec->cost.total;
    p.estimate = true;
    p.econ = f->econ;
    p.source = fmt::format("spec::CostDesign of {}", design_file);
    p.basis = fmt::format("build cost {} of design '{}' (no margin, NRE excluded; estimate)", FormatDollars(p.purchase),
                          f->design.name);
    return p;
  }
  const int before = diag.error_count();
  const std::vector<PriceEntry> all = LoadChipPrices(diag);
  if (diag.error_count() != before) {
    none.basis = fmt::format("no price: data/{} has errors", kPricesFile);
    return none;
  }
  for (const auto& e : all) {
    if (e.chip == chip.name) return e.price;
  }
  none.basis = fmt::format("no price for chip '{}' in data/{}", chip.name, kPricesFile);
  return none;
}

econ::Tco TcoFor(Dollars chip_price, Watts it_power_per_chip, const EconAssumptions& a) {
  econ::TcoInputs in;
  in.chip_price = chip_price;
  in.server_per_chip = a.server_per_chip;
  in.network_per_port = a.network_per_port;
  in.ports_per_chip = a.ports_per_chip;
  in.facility_per_watt = a.FacilityPerWatt();
  in.life = a.life;
  in.electricity = a.electricity;
  in.pue = a.pue;
  in.it_power_per_chip = it_power_per_chip;
  return econ::ComputeTco(in);
}

std::optional<HourlyCost> HourlyCostOf(const ChipPrice& p, Watts it_power_per_chip, const EconAssumptions& defaults) {
  switch (p.kind) {
    case ChipPrice::Kind::kNone:
      return std::nullopt;
    case ChipPrice::Kind::kCloudRate:
      return HourlyCost{p.per_chip_hour, std::nullopt, p.basis + ", used as is: no TCO build-up"};
    case ChipPrice::Kind::kPurchase:
    case ChipPrice::Kind::kBuildCost: {
      if (!(it_power_per_chip.value() > 0)) return std::nullopt;
      const EconAssumptions& a = p.econ ? *p.econ : defaults;
      HourlyCost h;
      h.tco = TcoFor(p.purchase, it_power_per_chip, a);
      h.per_chip_hour = h.tco->per_chip_hour;
      h.basis = fmt::format("{}-year TCO of {} + server, network, facility, energy at {:.3g} kW IT per chip", FormatNumber(Years(a.life), 3),
                            p.basis, it_power_per_chip.value() / 1e3);
      return h;
    }
  }
  return std::nullopt;
}

std::string FormatDollars(Dollars d) {
  const double v = d.value();
  if (!std::isfinite(v)) return "$?";
  if (std::fabs(v) >= 1e6) return fmt::format("${:.3g}M", v / 1e6);
  if (std::fabs(v) >= 1000) {
    std::string digits = fmt::format("{:.0f}", std::fabs(v));
    std::string grouped;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
      grouped += digits[i];
    }
    return (v < 0 ? "-$" : "$") + grouped;
  }
  if (std::fabs(v) >= 1) return fmt::format("${:.2f}", v);
  return fmt::format("${:.3g}", v);
}

}  // namespace pf::spec
