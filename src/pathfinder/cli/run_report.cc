#include "pathfinder/cli/run_report.h"

namespace pf::cli {

nlohmann::json StepBreakdownJson(const train::StepBreakdown& b) {
  return {{"compute", b.compute.value()},     {"recompute", b.recompute.value()},
          {"tp_comm", b.tp_comm.value()},     {"cp_comm", b.cp_comm.value()},
          {"ep_comm", b.ep_comm.value()},     {"pp_comm", b.pp_comm.value()},
          {"fsdp_comm", b.fsdp_comm.value()}, {"offload", b.offload.value()},
          {"bubble", b.bubble.value()},       {"dp_comm", b.dp_comm.value()},
          {"optimizer", b.optimizer.value()}, {"beside_collectives", b.beside_collectives.value()}};
}

nlohmann::json CostJson(const spec::ChipPrice& price, const std::optional<spec::HourlyCost>& hourly,
                        const std::string& unavailable, Watts it_per_chip) {
  nlohmann::json j = {{"available", hourly.has_value()},
                      {"kind", spec::KindName(price.kind)},
                      {"price_basis", price.basis},
                      {"source", price.source},
                      {"estimate", price.estimate}};
  if (price.kind == spec::ChipPrice::Kind::kPurchase || price.kind == spec::ChipPrice::Kind::kBuildCost) {
    j["chip_price_usd"] = price.purchase.value();
  }
  if (!hourly) {
    j["reason"] = unavailable;
    return j;
  }
  j["basis"] = hourly->basis;
  j["per_chip_hour_usd"] = hourly->per_chip_hour.value();
  if (hourly->tco) {
    j["capital_per_chip_usd"] = hourly->tco->capital_per_chip.value();
    j["capital_per_chip_hour_usd"] = hourly->tco->capital_per_hour.value();
    j["energy_per_chip_hour_usd"] = hourly->tco->energy_per_hour.value();
    j["it_w_per_chip"] = it_per_chip.value();
  }
  return j;
}

PowerInputs LoadPowerInputs(const hw::Chip& chip) {
  PowerInputs in;
  Diagnostics diag;
  in.model = spec::ChipPowerModelFor(chip, diag);
  in.econ = spec::LoadEconDefaults(diag);
  if (!in.ok()) {
    for (const auto& d : diag.entries()) in.unavailable += (in.unavailable.empty() ? "" : "; ") + d.message;
  }
  return in;
}

PowerInputs StartRunPower(const hw::Chip& chip, RunPower& out) {
  PowerInputs in = LoadPowerInputs(chip);
  if (!in.ok()) {
    out.unavailable = in.unavailable;
    return in;
  }
  out.basis = in.model->basis;
  out.tdp = in.model->Tdp();
  out.pue = in.econ->pue;
  return in;
}

TrainPower TrainPowerOf(train::TrainResult& r, const train::TrainSettings& s, const spec::Scenario& sc,
                        const ops::Ceilings& ceilings, const hw::Cluster& cluster) {
  TrainPower out;
  const hw::Chip& chip = *sc.chip;
  const PowerInputs in = StartRunPower(chip, out);
  if (!in.ok()) return out;
  const spec::EconAssumptions* econ = &*in.econ;
  const Seconds nominal_step = r.step.total;
  double ratio = 1;
  out.run = spec::CapTrainStep(
      r, [&](const ops::OpModel& m) { return train::Simulator(*sc.model, m, cluster).Run(sc.parallelism, s, true); },
      chip, ceilings, *in.model, s.precision, spec::ServerFor(*econ, cluster.server.chips), econ->pue, &ratio);
  if (ratio < 1) out.nominal_step = nominal_step;
  if (s.tokens_to_train > 0) out.run_mwh = out.run->FacilityJoulesPerToken() * s.tokens_to_train / 3.6e9;
  return out;
}

}  // namespace pf::cli
