// Chip presets: every file loads cleanly, overrides apply on top of a preset, and the
// hardware names used in the validation tables resolve to presets.
#include "pathfinder/spec/chip_spec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "pathfinder/core/strings.h"
#include "pathfinder/spec/file.h"

namespace pf::spec {
namespace {

TEST(ChipPresets, AtLeastTwentyFiveLoadWithoutDiagnostics) {
  const auto names = ListPresets(PresetKind::kChip);
  EXPECT_GE(names.size(), 25u);
  for (const auto& n : names) {
    Diagnostics d;
    auto chip = LoadChipPreset(n, d);
    EXPECT_TRUE(chip.has_value()) << n << ":\n" << d.Render();
    EXPECT_FALSE(d.has_errors()) << d.Render();
  }
}

TEST(ChipPresets, EveryNameAChipIsKnownByIsUnique) {
  std::map<std::string, std::string> owner;
  for (const auto& n : ListPresets(PresetKind::kChip)) {
    Diagnostics d;
    auto chip = LoadChipPreset(n, d);
    ASSERT_TRUE(chip) << d.Render();
    std::set<std::string> own = {ToLower(chip->name), ToLower(chip->display_name)};
    for (const auto& a : chip->aliases) own.insert(ToLower(a));
    for (const auto& a : own) {
      if (a.empty()) continue;
      auto [it, inserted] = owner.emplace(a, n);
      EXPECT_TRUE(inserted) << "'" << a << "' names both " << it->second << " and " << n;
    }
  }
}

TEST(ChipPresets, H100ValuesAndSourcesAreRecorded) {
  Diagnostics d;
  ProvenanceMap prov;
  auto chip = LoadChipPreset("h100-sxm", d, &prov);
  ASSERT_TRUE(chip) << d.Render();
  EXPECT_DOUBLE_EQ(chip->peak[DType::kBf16].value(), 989.4e12);
  EXPECT_DOUBLE_EQ(chip->hbm.capacity.value(), 81559.0 * 1024 * 1024);  // nvidia-smi memory.total, MiB
  EXPECT_DOUBLE_EQ(chip->hbm.bandwidth.value(), 3.35e12);
  EXPECT_FALSE(prov.at("peak.bf16").source.empty());
  EXPECT_FALSE(prov.at("hbm.bandwidth").source.empty());
}

TEST(ChipSection, OverridesApplyOnTopOfThePreset) {
  Diagnostics d;
  ProvenanceMap prov;
  LoadContext ctx{"s.yaml", "", &d, &prov};
  auto chip = LoadChipSection(YAML::Load("{preset: h100-sxm, hbm: {capacity: 96 GB}}"), ctx, "chip");
  ASSERT_TRUE(chip) << d.Render();
  EXPECT_DOUBLE_EQ(chip->hbm.capacity.value(), 96e9);
  EXPECT_DOUBLE_EQ(chip->hbm.bandwidth.value(), 3.35e12);  // untouched
  EXPECT_EQ(prov.at("chip.hbm.capacity").source, "scenario override (s.yaml)");
  EXPECT_NE(prov.at("chip.hbm.bandwidth").source, "scenario override (s.yaml)");
}

TEST(ChipSection, AnInlineChipNeedsTheRequiredFields) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto chip = LoadChipSection(YAML::Load("{name: mine, clock: 1 GHz, cores: 10}"), ctx, "chip");
  EXPECT_FALSE(chip);
  EXPECT_EQ(d.Render(),
            "s.yaml:1:1: error: chip.peak: missing; add it (dense matrix peak FLOP/s per dtype)\n"
            "s.yaml:1:1: error: chip.hbm: missing; add it (off-die memory (HBM, LPDDR, GDDR))\n"
            "2 errors; nothing was simulated.\n");
}

TEST(ResolveChipName, StripsTheCountAndTheParenthesis) {
  auto r = ResolveChipName("8x NVIDIA H100 SXM (DGX H100, 8x400Gb/s)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->preset, "h100-sxm");
  EXPECT_EQ(r->count, 8);
  EXPECT_FALSE(ResolveChipName("Imaginary Chip 9000"));
}

// Every hardware cell of the public validation tables names a chip we have, except the
// few listed here with the reason.
TEST(ResolveChipName, CoversTheValidationTables) {
  const std::set<std::string> known_missing = {};
  for (const char* file : {"training_results.csv", "inference_results.csv", "microbench_results.csv"}) {
    std::ifstream in(std::string(PF_SHARED_DIR) + "/validation/" + file);
    if (!in) GTEST_SKIP() << "shared/validation not present";
    std::string header;
    std::getline(in, header);
    // Find the hardware column by name; parse quoted CSV cells.
    auto split = [](const std::string& line) {
      std::vector<std::string> cells;
      std::string cur;
      bool q = false;
      for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (q) {
          if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
          else if (c == '"') q = false;
          else cur += c;
        } else if (c == '"') q = true;
        else if (c == ',') cells.push_back(cur), cur.clear();
        else cur += c;
      }
      cells.push_back(cur);
      return cells;
    };
    const auto cols = split(header);
    const size_t hw = std::find(cols.begin(), cols.end(), "hardware") - cols.begin();
    ASSERT_LT(hw, cols.size());
    std::string line;
    while (std::getline(in, line)) {
      const auto cells = split(line);
      if (cells.size() <= hw) continue;
      if (known_missing.count(cells[hw])) continue;
      EXPECT_TRUE(ResolveChipName(cells[hw])) << file << ": '" << cells[hw] << "' resolves to no chip preset";
    }
  }
}

}  // namespace
}  // namespace pf::spec

namespace pf::spec {
namespace {
TEST(ChipSection, TheMemoryGenerationMustNameAMemoryPreset) {
  Diagnostics d;
  LoadContext ctx{"s.yaml", "", &d, nullptr};
  auto chip = LoadChipSection(YAML::Load("{preset: h100-sxm, hbm: {generation: HBM3X}}"), ctx, "chip");
  EXPECT_FALSE(chip);
  EXPECT_EQ(d.Render(),
            "s.yaml:1:1: error: chip.hbm.generation: unknown memory generation 'HBM3X'; did you mean 'hbm3'?\n"
            "1 error; nothing was simulated.\n");
}
}  // namespace
}  // namespace pf::spec
