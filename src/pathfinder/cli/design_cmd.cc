// `pathfinder design chip.yaml [--json]`: the datasheet derived from a chip design — peaks
// per dtype, memory, area per block, total silicon, TDP estimate, cost per chip with its
// breakdown, $ per chip-hour, and feasibility with reasons.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/econ/econ.h"
#include "pathfinder/power/power.h"
#include "pathfinder/spec/design_spec.h"

namespace pf::cli {
namespace {

nlohmann::json DieJson(const hw::DieArea& d) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : d.blocks) {
    blocks.push_back({{"name", b.name}, {"area_mm2", b.area.value()}, {"basis", b.basis}, {"estimate", b.estimate}});
  }
  return {{"what", d.what}, {"count", d.count}, {"area_mm2", d.each.value()}, {"blocks", blocks}};
}

}  // namespace

void AddDesignCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("design", "Derive a chip's datasheet, area, power, cost and feasibility from its design");
  struct Opts {
    std::string file;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("design", o->file, "a design file (design: section) or a name in data/designs/")->required();
  cmd->add_flag("--json", o->json, "print JSON");
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto f = spec::LoadDesign(o->file, diag);
    if (!f) {
      *ctx.err << diag.Render();
      ctx.exit_code = 2;
      return;
    }
    const hw::DerivedChip c = hw::DeriveChip(f->design, f->tech);
    const auto costed = spec::CostDesign(*f, c, diag);
    *ctx.err << diag.Render();
    if (!costed) {
      ctx.exit_code = 2;
      return;
    }
    const spec::DesignEconomics& k = *costed;
    const hw::Chip& chip = c.chip;
    if (o->json) {
      nlohmann::json peaks;
      for (DType t : kAllDTypes)
        if (chip.peak[t].value() > 0) peaks[std::string(Name(t))] = chip.peak[t].value();
      nlohmann::json power = nlohmann::json::array();
      for (const auto& p : c.power) power.push_back({{"name", p.name}, {"watts", p.power.value()}, {"basis", p.basis}});
      nlohmann::json cost = nlohmann::json::array();
      for (const auto& l : k.cost.lines) {
        cost.push_back({{"name", l.name}, {"dollars", l.cost.value()}, {"basis", l.basis}, {"estimate", l.estimate}});
      }
      nlohmann::json j = {
          {"name", chip.name},
          {"node", f->tech.node.name},
          {"packaging", f->tech.packaging.name},
          {"clock_hz", chip.clock.value()},
          {"cores", chip.cores},
          {"peak_flops", peaks},
          {"vector_fp32_flops", chip.vector_fp32.value()},
          {"hbm",
           {{"generation", chip.hbm.generation},
            {"stacks", chip.hbm.stacks},
            {"capacity_bytes", chip.hbm.capacity.value()},
            {"bandwidth_bytes_per_s", chip.hbm.bandwidth.value()}}},
          {"sram_bytes", {{"per_core", chip.sram.per_core.value()}, {"shared", chip.sram.shared.value()}}},
          {"compute_die", DieJson(c.compute_die)},
          {"total_silicon_mm2", c.total_silicon.value()},
          {"interposer_mm2", c.interposer_area.value()},
          {"transistors_logic", c.transistors},
          {"power", power},
          {"peak_power_w", c.peak_power.value()},
          {"tdp_estimate_w", c.tdp_estimate.value()},
          {"tdp_w", chip.tdp.value()},
          {"cost", {{"lines", cost}, {"total_dollars", k.cost.total.value()}}},
          {"server_wall_power_w", k.server.it_power.value()},
          {"dollars_per_chip_hour", k.tco.per_chip_hour.value()},
          {"feasible", c.feasibility.ok},
          {"reasons", c.feasibility.reasons},
          {"notes", c.feasibility.notes},
      };
      if (c.io_die) j["io_die"] = DieJson(*c.io_die);
      *ctx.out << j.dump(2) << "\n";
      if (!c.feasibility.ok) ctx.exit_code = 1;
      return;
    }
    *ctx.out << fmt::format("design {} — {} on {} in {}\n\n", chip.name, chip.display_name, f->tech.node.name, f->tech.packaging.name);
    TextTable peaks({"datasheet", "value"});
    peaks.AlignRight({1});
    for (DType t : kAllDTypes)
      if (chip.peak[t].value() > 0) peaks.Row({fmt::format("peak {} (dense)", Name(t)), ToString(chip.peak[t])});
    peaks.Row({"vector fp32", ToString(chip.vector_fp32)});
    peaks.Row({"clock", ToString(chip.clock)});
    peaks.Row({"cores (enabled)", fmt::format("{}", chip.cores)});
    peaks.Row({fmt::format("HBM {} × {}", chip.hbm.stacks, chip.hbm.generation), ToString(chip.hbm.capacity)});
    peaks.Row({"HBM bandwidth", ToString(chip.hbm.bandwidth)});
    peaks.Row({"SRAM per core / shared", ToString(chip.sram.per_core) + " / " + ToString(chip.sram.shared)});
    peaks.Row({"scale-up", ToString(chip.scale_up.bandwidth)});
    peaks.Row({"scale-out", ToString(chip.scale_out.bandwidth)});
    *ctx.out << peaks.Render() << "\n";
    auto dies = [&](const hw::DieArea& d) {
      TextTable t({fmt::format("{} ({}×)", d.what, d.count), "mm2", "basis"});
      t.AlignRight({1});
      for (const auto& b : d.blocks) t.Row({b.name, FormatNumber(b.area.value(), 4), (b.estimate ? "[estimate] " : "") + b.basis});
      t.Row({"die", FormatNumber(d.each.value(), 4), ""});
      *ctx.out << t.Render() << "\n";
    };
    dies(c.compute_die);
    if (c.io_die) dies(*c.io_die);
    *ctx.out << fmt::format("total silicon {} mm2, interposer {} mm2\n\n", FormatNumber(c.total_silicon.value(), 4),
                            FormatNumber(c.interposer_area.value(), 4));
    TextTable pw({"power at peak", "W", "basis"});
    pw.AlignRight({1});
    for (const auto& p : c.power) pw.Row({p.name, FormatNumber(p.power.value(), 4), p.basis});
    pw.Row({"total at peak", FormatNumber(c.peak_power.value(), 4), "[estimate]"});
    if (f->design.sustained_clock.value() > 0) {
      pw.Row({"TDP estimate", FormatNumber(c.tdp_estimate.value(), 4),
              fmt::format("[estimate] at the sustained clock {}: dynamic × ({} / {})³",
                          ToString(f->design.sustained_clock), ToString(f->design.sustained_clock),
                          ToString(f->design.clock))});
    } else {
      pw.Row({"TDP estimate", FormatNumber(c.tdp_estimate.value(), 4),
              "[estimate] = total at peak (no sustained_clock stated)"});
    }
    *ctx.out << pw.Render() << "\n";
    TextTable ct({"cost per chip", "$", "basis"});
    ct.AlignRight({1});
    for (const auto& l : k.cost.lines) ct.Row({l.name, FormatNumber(l.cost.value(), 5), (l.estimate ? "[estimate] " : "") + l.basis});
    ct.Row({"total", FormatNumber(k.cost.total.value(), 5), ""});
    *ctx.out << ct.Render() << "\n";
    *ctx.out << fmt::format("server ({} chips) at the wall {}, facility {} (PUE {}); TCO {} per chip-hour over {} [estimates]\n\n",
                            f->econ.server.chips_per_server, ToString(k.server.it_power), ToString(k.server.facility_power),
                            f->econ.pue, ToString(k.tco.per_chip_hour), ToString(f->econ.life));
    if (c.feasibility.ok) {
      *ctx.out << "feasible\n";
    } else {
      *ctx.out << "INFEASIBLE:\n";
      for (const auto& r : c.feasibility.reasons) *ctx.out << "  - " << r << "\n";
      ctx.exit_code = 1;
    }
    for (const auto& n : c.feasibility.notes) *ctx.out << "note: " << n << "\n";
  });
}

}  // namespace pf::cli
