// Design → datasheet: the area model (per block, per die), the TDP estimate and the
// feasibility rules. One model for every chip; each constant below cites its source and
// is marked [estimate] where no measured or published value backs it.
#include "pathfinder/hw/design.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace pf::hw {
namespace {

// ---- Area-model constants ----------------------------------------------------------------
// Transistors per MAC of the 16-bit (fp16/bf16/tf32, 10-bit mantissa) matrix datapath.
// LLMCompass (Zhang et al., ISCA 2024) cost_model.py: a 64-bit FPU is 685,300 transistors
// (Ariane / OpenPiton SPARC T1) and narrower FPUs scale by (mantissa bits / 52)².
constexpr double kFpu64Transistors = 685300;
constexpr double kMac16Transistors = kFpu64Transistors * (10.0 / 52) * (10.0 / 52);
// Other formats reuse the 16-bit multipliers (multi-precision arrays) [estimate]: a wide
// format d at rate r needs r·(m_d/11)² multiplier slots per bf16 slot (m = significand bits
// incl. the hidden bit: fp32 24, fp64 53); the array grows only when that exceeds 1, plus
// 10 % for wider alignment and accumulation. Each supported byte/sub-byte format (fp8,
// int8, fp4) adds 10 % for its decode and packing logic.
constexpr double kWideFormatOverhead = 0.10;
constexpr double kNarrowFormatOverhead = 0.10;
// One vector lane: fp32 FPU (LLMCompass: 685,300 × (23/52)²), int32 ALU (LLMCompass
// 177,690) and the per-lane share of issue/control/register-file logic (LLMCompass
// per_sublane_control_transistor_count 996,200 per lane, fitted to A100 SMs and MI210 CUs).
constexpr double kVectorLaneTransistors = kFpu64Transistors * (23.0 / 52) * (23.0 / 52) + 177690 + 996200;
// Per core: its port on the on-chip network / crossbar and core-level control. LLMCompass
// per_core_comm_transistor_count = 44.3 M.
constexpr double kPerCoreTransistors = 44.3e6;
// SRAM: LLMCompass models caches with an effective cell of 0.125 µm² at 5 nm
// (sram_bit_cell_density_5nm = 1.25e-7 mm²), 5.95× TSMC N5's 0.021 µm² high-density bit cell
// (data/nodes/tsmc-n5.yaml): the product-cell factor below carries that ratio to every node.
// Array efficiency 0.602 = LLMCompass's CACTI-derived factor for its largest (512 KB) unit.
constexpr double kSramProductCellFactor = 0.125 / 0.021;
constexpr double kSramArrayEfficiency = 0.602;
// Register files and accumulator memories: GPU register files are banked single-port SRAM
// read through operand collectors, so they take the SRAM model's area (factor 1) [estimate;
// LLMCompass uses the EMPIRE regression instead].
constexpr double kRegisterFileAreaFactor = 1.0;
// HBM: PHY 10.45 mm² per 1024-bit interface, controller 552.7 M transistors per stack
// (LLMCompass hbm2e_phy_mm2_per_link_unit, hbm2e_ctrl_transistors_per_link_unit). PHYs do
// not shrink with the node (LLMCompass); wider interfaces (HBM4 2048 bits) scale the PHY by
// width [estimate].
constexpr double kHbmPhyMm2Per1024Bits = 10.45;
constexpr double kHbmControllerTransistors = 552.743e6;
// Off-package SerDes: LLMCompass nvlink4_* gives 0.965 mm² PHY and 86.6 M controller
// transistors per NVLink 4 link (2 lanes × 100 Gb/s = 200 Gb/s per direction; its NVLink 3
// link of 4 × 50 Gb/s is 1.888 mm², the same per Gb/s). Area is taken per Gb/s of one-way
// bandwidth for every SerDes [estimate for non-NVLink SerDes].
constexpr double kSerdesPhyMm2PerGbps = 0.965 / 200;
constexpr double kSerdesControllerTransistorsPerGbps = 86.628e6 / 200;
// PCIe 5 host lanes: PHY 0.64 mm², controller 5.37 M transistors per lane (LLMCompass).
constexpr double kPciePhyMm2PerLane = 0.64;
constexpr double kPcieControllerTransistors = 5.3721e6;
// Die-to-die: UCIe 1.0 advanced-package areal bandwidth density, 1350 GB/s per mm²
// (UCIe 1.0 specification / white paper, 32 GT/s, 25 µm pitch) [estimate for proprietary
// links such as NV-HBI and AMD's hybrid-bonded XCD–IOD interface].
constexpr double kD2dBytesPerSecPerMm2 = 1350e9;
// Whitespace, global routing, clock and power distribution, test, and the small engines the
// blocks above leave out (media, copy, security): a fixed share of the die [estimate, set
// from die-shot impressions of GH100/GA100 where the named blocks fill about three
// quarters of the die; one value for every chip].
constexpr double kOverheadFraction = 0.25;
// HBM stack footprint on the interposer, including spacing: JEDEC HBM3 package 11 × 11 mm
// (JESD238) + ~10 % keep-out [estimate]; used for every generation.
constexpr double kHbmFootprintMm2 = 11.0 * 11.0 * 1.1;
// Interposer area beyond the dies and stacks (routing, seal ring): 10 % [estimate].
constexpr double kInterposerMargin = 1.10;

// ---- TDP-model constants ------------------------------------------------------------------
// Operand traffic of a matrix unit: each clock it reads its A (m×k) and B (k×n) operands,
// 2 bytes each, from registers / operand buffers; accumulators stay in the array.
// The on-chip movement of each HBM byte is priced by the measured NodeEnergy::hbm_path_byte.

double Mtr(double transistors) { return transistors / 1e6; }

SquareMillimeters LogicArea(double transistors, double density_mtr) {
  return SquareMillimeters(density_mtr > 0 ? Mtr(transistors) / density_mtr : 0.0);
}

SquareMillimeters SramArea(Bytes bytes, double bitcell_um2, bool registers) {
  const double bits = bytes.value() * 8.0;
  const double um2 = bits * bitcell_um2 * kSramProductCellFactor / kSramArrayEfficiency;
  return SquareMillimeters(um2 * 1e-6 * (registers ? kRegisterFileAreaFactor : 1.0));
}

double RateOf(const MatrixDesign& m, DType t) {
  for (const auto& r : m.dtypes)
    if (r.dtype == t) return r.rate;
  return 0;
}

// Transistors per bf16-MAC slot of the matrix array (rule above).
double MatrixTransistorsPerSlot(const MatrixDesign& m) {
  const double wide = RateOf(m, DType::kFp32) * (24.0 / 11) * (24.0 / 11) + RateOf(m, DType::kFp64) * (53.0 / 11) * (53.0 / 11);
  double f = std::max(1.0, wide) * (wide > 0 ? 1 + kWideFormatOverhead : 1.0);
  for (DType d : {DType::kFp8, DType::kInt8, DType::kFp4})
    if (RateOf(m, d) > 0) f *= 1 + kNarrowFormatOverhead;
  return kMac16Transistors * f;
}

bool HoldsIo(const ChipDesign& d) { return d.io_dies.count > 0; }

}  // namespace

std::vector<Problem> Validate(const ChipDesign& d) {
  std::vector<Problem> out;
  if (d.compute_dies < 1) out.push_back({"compute_dies", "at least one compute die is needed"});
  if (d.cores_per_die < 1) out.push_back({"cores_per_die", "at least one core per die is needed"});
  if (d.enabled_cores > d.cores_per_die * d.compute_dies) {
    out.push_back({"enabled_cores", fmt::format("{} enabled cores but only {} physical ({} dies × {})", d.enabled_cores,
                                                d.cores_per_die * d.compute_dies, d.compute_dies, d.cores_per_die)});
  }
  const MatrixDesign& m = d.matrix;
  if (m.per_core < 1 || m.m < 1 || m.n < 1 || m.k < 1) out.push_back({"matrix", "per_core, m, n and k must all be ≥ 1"});
  if (RateOf(m, DType::kBf16) <= 0 && RateOf(m, DType::kFp16) <= 0) {
    out.push_back({"matrix.dtypes", "the matrix units must support bf16 or fp16 (the shape is stated in bf16 MACs)"});
  }
  if (d.clock.value() <= 0) out.push_back({"clock", "the clock must be > 0"});
  if (d.sustained_clock > d.clock) {
    out.push_back({"sustained_clock", fmt::format("the sustained clock {} is above the clock {}; state one ≤ it",
                                                  ToString(d.sustained_clock), ToString(d.clock))});
  }
  if (d.hbm_stacks < 1) out.push_back({"hbm.stacks", "at least one HBM stack is needed"});
  if (d.hbm_sites != 0 && d.hbm_sites < d.hbm_stacks) {
    out.push_back({"hbm.sites", fmt::format("{} PHY sites cannot hold {} stacks", d.hbm_sites, d.hbm_stacks)});
  }
  return out;
}

DerivedChip DeriveChip(const ChipDesign& d, const ProcessNode& node, const MemoryTech& memory, const Packaging& packaging,
                       const NodeEnergy& energy) {
  DesignTech t{node, energy, memory, packaging, std::nullopt, std::nullopt, {}, {}};
  return DeriveChip(d, t);
}

DerivedChip DeriveChip(const ChipDesign& d, const DesignTech& tech) {
  DerivedChip out;
  const NodeEnergy& ne = tech.energy;
  const NodeEnergy& io_e = tech.io_energy ? *tech.io_energy : tech.energy;
  const int dies = std::max(1, d.compute_dies);
  const int physical_cores = d.cores_per_die * dies;
  const int cores = d.enabled_cores > 0 ? d.enabled_cores : physical_cores;
  const int hbm_sites = std::max(d.hbm_sites, d.hbm_stacks);
  const double hbm_width = tech.memory.interface_width > 0 ? tech.memory.interface_width : 1024.0;
  const MatrixDesign& m = d.matrix;
  const double macs_per_core = double(m.per_core) * m.m * m.n * m.k;
  const bool io_on_io_dies = HoldsIo(d);
  double transistors = 0;

  // ---- Compute die --------------------------------------------------------------------
  DieArea cd{"compute die", dies, {}, {}};
  auto add = [](DieArea& die, std::string name, SquareMillimeters a, std::string basis, bool est) {
    die.blocks.push_back({std::move(name), a, std::move(basis), est});
  };
  const double mat_t = macs_per_core * d.cores_per_die * MatrixTransistorsPerSlot(m);
  add(cd, "matrix units", LogicArea(mat_t, ne.logic_density),
      fmt::format("{} cores × {} MACs × {:.0f} transistors/MAC (LLMCompass FPU model, format reuse) at {:.0f} MTr/mm2", d.cores_per_die,
                  macs_per_core, MatrixTransistorsPerSlot(m), ne.logic_density),
      false);
  const double vec_t = double(d.vector_lanes_per_core) * d.cores_per_die * kVectorLaneTransistors;
  add(cd, "vector units", LogicArea(vec_t, ne.logic_density),
      fmt::format("{} lanes × {:.2f} M transistors (fp32 FPU + int32 + control, LLMCompass)",
                  d.vector_lanes_per_core * d.cores_per_die, kVectorLaneTransistors / 1e6),
      false);
  const double core_t = double(d.cores_per_die) * kPerCoreTransistors;
  add(cd, "core network and control", LogicArea(core_t, ne.logic_density),
      fmt::format("{} cores × 44.3 M transistors (LLMCompass per-core crossbar)", d.cores_per_die), false);
  transistors += (mat_t + vec_t + core_t) * dies;

  SquareMillimeters sram_area, reg_area;
  Bytes sw_sram_core, sw_sram_shared;
  for (const SramLevel& l : d.sram) {
    const Bytes per_die = l.per_core * double(d.cores_per_die) + l.per_die;
    (l.registers ? reg_area : sram_area) += SramArea(per_die, ne.sram_bitcell_um2, l.registers);
    if (!l.registers) {
      sw_sram_core += l.per_core;
      sw_sram_shared += l.per_die * double(dies);
    }
  }
  add(cd, "SRAM", sram_area,
      fmt::format("bit cell {} um2 × {:.2f} (product cell, LLMCompass) / {} array efficiency", ne.sram_bitcell_um2,
                  kSramProductCellFactor, kSramArrayEfficiency),
      false);
  if (reg_area.value() > 0) add(cd, "register files", reg_area, "same SRAM model (banked single-port)", true);

  // PHYs and controllers: on the compute dies unless I/O dies hold them.
  DieArea iod{"I/O die", d.io_dies.count, {}, {}};
  DieArea& phy_die = io_on_io_dies ? iod : cd;
  const int phy_die_count = io_on_io_dies ? d.io_dies.count : dies;
  const double phy_dens = io_on_io_dies ? io_e.logic_density : ne.logic_density;
  const double per_phy_die = 1.0 / phy_die_count;
  {
    const SquareMillimeters phy(hbm_sites * kHbmPhyMm2Per1024Bits * hbm_width / 1024.0 * per_phy_die);
    const double ctrl_t = hbm_sites * kHbmControllerTransistors * per_phy_die;
    transistors += ctrl_t * phy_die_count;
    add(phy_die, "HBM PHYs and controllers", phy + LogicArea(ctrl_t, phy_dens),
        fmt::format("{} sites × ({:.2f} mm2 PHY + 552.7 M transistors), LLMCompass; split over {} dies", hbm_sites,
                    kHbmPhyMm2Per1024Bits * hbm_width / 1024.0, phy_die_count),
        hbm_width != 1024.0);
  }
  const double serdes_gbps =
      (d.scale_up.lane_rate.value() * d.scale_up.lanes + d.scale_out.lane_rate.value() * d.scale_out.lanes) * 8 / 1e9;
  if (serdes_gbps > 0) {
    const double ctrl_t = serdes_gbps * kSerdesControllerTransistorsPerGbps * per_phy_die;
    transistors += ctrl_t * phy_die_count;
    add(phy_die, "SerDes (scale-up, scale-out)",
        SquareMillimeters(serdes_gbps * kSerdesPhyMm2PerGbps * per_phy_die) + LogicArea(ctrl_t, phy_dens),
        fmt::format("{} Gb/s × (0.965 mm2 PHY + 86.6 M transistors per 200 Gb/s), LLMCompass NVLink 4", FormatNumber(serdes_gbps, 5)),
        true);
  }
  if (d.pcie_lanes > 0) {
    const double ctrl_t = d.pcie_lanes * kPcieControllerTransistors * per_phy_die;
    transistors += ctrl_t * phy_die_count;
    add(phy_die, "host I/O (PCIe)",
        SquareMillimeters(d.pcie_lanes * kPciePhyMm2PerLane * per_phy_die) + LogicArea(ctrl_t, phy_dens),
        fmt::format("{} PCIe 5 lanes × (0.64 mm2 PHY + 5.37 M transistors), LLMCompass", d.pcie_lanes), false);
  }
  if (d.d2d_bandwidth.value() > 0) {
    add(cd, "die-to-die", SquareMillimeters(d.d2d_bandwidth.value() / kD2dBytesPerSecPerMm2),
        fmt::format("{} / 1350 GB/s per mm2 (UCIe 1.0 advanced package)", ToString(d.d2d_bandwidth)), true);
    if (io_on_io_dies) {
      add(iod, "die-to-die",
          SquareMillimeters(d.d2d_bandwidth.value() * dies / d.io_dies.count / kD2dBytesPerSecPerMm2),
          "compute-die links landing on this die, UCIe 1.0 density", true);
    }
  }
  if (io_on_io_dies && d.io_dies.sram.value() > 0) {
    add(iod, "SRAM", SramArea(d.io_dies.sram, io_e.sram_bitcell_um2, false),
        fmt::format("bit cell {} um2, same SRAM model as the compute die", io_e.sram_bitcell_um2), false);
    sw_sram_shared += d.io_dies.sram * double(d.io_dies.count);
  }
  auto finish = [](DieArea& die) {
    SquareMillimeters sum;
    for (const auto& b : die.blocks) sum += b.area;
    const SquareMillimeters total = sum / (1.0 - kOverheadFraction);
    die.blocks.push_back({"overhead (routing, clock, power, misc)", total - sum,
                          fmt::format("{:.0f} % of the die", kOverheadFraction * 100), true});
    die.each = total;
  };
  finish(cd);
  out.compute_die = cd;
  out.total_silicon = cd.each * double(dies);
  if (io_on_io_dies) {
    finish(iod);
    out.io_die = iod;
    out.total_silicon += iod.each * double(iod.count);
  }
  const SquareMillimeters footprint =
      io_on_io_dies && d.io_dies.stacked ? out.io_die->each * double(out.io_die->count) : out.total_silicon;
  out.interposer_area = (footprint + SquareMillimeters(kHbmFootprintMm2 * d.hbm_stacks)) * kInterposerMargin;
  out.transistors = transistors;

  // ---- Datasheet -----------------------------------------------------------------------
  Chip& c = out.chip;
  c.name = d.name;
  c.display_name = d.display_name.empty() ? d.name : d.display_name;
  c.vendor = "design";
  c.family = "design";
  c.process_node = tech.node.display_name.empty() ? d.node : tech.node.display_name;
  c.die_area = out.total_silicon;
  c.dies = dies + d.io_dies.count;
  c.clock = d.clock;
  c.cores = cores;
  c.matrix_unit = {m.per_core, m.m, m.n, m.k};
  const double bf16 = 2.0 * macs_per_core * cores * d.clock.value();
  for (const auto& r : m.dtypes) c.peak[r.dtype] = FlopsPerSec(bf16 * r.rate);
  c.vector_fp32 = FlopsPerSec(2.0 * d.vector_lanes_per_core * cores * d.clock.value());
  c.sram = {sw_sram_core, sw_sram_shared};
  const Bytes stack_cap = d.hbm_stack_capacity.value() > 0 ? d.hbm_stack_capacity : tech.memory.capacity_per_stack;
  const BytesPerSec stack_bw = d.hbm_stack_bandwidth.value() > 0 ? d.hbm_stack_bandwidth : tech.memory.stack_bandwidth;
  c.hbm = {tech.memory.display_name.empty() ? d.hbm_generation : tech.memory.display_name, d.hbm_stacks,
           stack_cap * double(d.hbm_stacks), stack_bw * double(d.hbm_stacks)};
  c.scale_up = {d.scale_up.name, d.scale_up.lane_rate * double(d.scale_up.lanes), d.scale_up.domain};
  c.scale_out = {d.scale_out.name, d.scale_out.lane_rate * double(d.scale_out.lanes), d.scale_out.domain};

  // ---- Power at peak (every block at its peak at once) and the TDP estimate -------------
  // P = (datapath + uncore + HBM + links) / (1 − static fraction); datapath = matrix
  // arithmetic at the bf16 peak + operand reads, × the measured datapath scale; uncore = a
  // fraction of the datapath (clock tree, control, NoC); HBM = the device access energy +
  // the measured on-chip path of each byte, at the full HBM bandwidth.
  const FlopsPerSec peak16 = c.peak[DType::kBf16].value() > 0 ? c.peak[DType::kBf16] : c.peak[DType::kFp16];
  const Watts arith = peak16 * ne.bf16_flop * ne.datapath_scale;
  const double operand_bytes_per_mac = 2.0 * (double(m.m) * m.k + double(m.k) * m.n) / (double(m.m) * m.n * m.k);
  const Watts operand =
      BytesPerSec(peak16.value() * operand_bytes_per_mac / 2.0) * ne.register_byte * ne.datapath_scale;
  const JoulesPerByte hbm_e = tech.memory.energy_per_bit;
  const Watts uncore = (arith + operand) * ne.uncore_fraction;
  const Watts hbm = c.hbm.bandwidth * hbm_e;
  const Watts hbm_path = c.hbm.bandwidth * ne.hbm_path_byte;
  const Watts d2d = d.d2d_bandwidth * double(dies > 1 || io_on_io_dies ? dies : 0) * ne.d2d_byte;
  const JoulesPerByte up_e = tech.scale_up_energy.value() > 0 ? tech.scale_up_energy : ne.serdes_byte;
  const JoulesPerByte out_e = tech.scale_out_energy.value() > 0 ? tech.scale_out_energy : ne.serdes_byte;
  const Watts links = c.scale_up.bandwidth * up_e + c.scale_out.bandwidth * out_e;
  const Watts dynamic = arith + operand + uncore + hbm + hbm_path + d2d + links;
  const Watts total = dynamic / (1.0 - ne.static_fraction);
  // The TDP estimate: the same blocks at the sustained clock, dynamic power × r³ (V ∝ f),
  // leakage the static fraction of it. The design's leakage is a property of its silicon:
  // a lower stated TDP caps the dynamic power (the clock throttles), it does not shrink
  // the leakage.
  const double r = d.sustained_clock.value() > 0 ? d.sustained_clock / d.clock : 1.0;
  const Watts tdp_estimate = dynamic * (r * r * r) / (1.0 - ne.static_fraction);
  c.static_power = tdp_estimate * ne.static_fraction;
  const std::string scale = fmt::format(" × {:.3g} (measured datapath scale)", ne.datapath_scale);
  out.power = {
      {"matrix arithmetic", arith,
       fmt::format("{} × {} per bf16 FLOP{}", ToString(peak16), ToString(ne.bf16_flop), scale)},
      {"operand reads", operand,
       fmt::format("{:.3g} B per MAC × {} per byte{}", operand_bytes_per_mac, ToString(ne.register_byte), scale)},
      {"uncore (clock, control, NoC)", uncore, fmt::format("{:.0f} % of the datapath", ne.uncore_fraction * 100)},
      {"HBM", hbm, fmt::format("{} × {}", ToString(c.hbm.bandwidth), ToString(hbm_e))},
      {"HBM bytes on chip", hbm_path,
       fmt::format("{} × {} (measured: controller, L2, NoC, load/store)", ToString(c.hbm.bandwidth),
                   ToString(ne.hbm_path_byte))},
      {"die-to-die", d2d, fmt::format("{} per die × {}", ToString(d.d2d_bandwidth), ToString(ne.d2d_byte))},
      {"SerDes links", links,
       fmt::format("scale-up {} + scale-out {}", ToString(c.scale_up.bandwidth), ToString(c.scale_out.bandwidth))},
      {"static (leakage)", total - dynamic, fmt::format("{:.0f} % of total", ne.static_fraction * 100)},
  };
  out.peak_power = total;
  out.tdp_estimate = tdp_estimate;
  c.tdp = d.tdp.value() > 0 ? d.tdp : tdp_estimate;

  // ---- Feasibility ------------------------------------------------------------------------
  Feasibility& f = out.feasibility;
  auto fail = [&f](std::string why) {
    f.ok = false;
    f.reasons.push_back(std::move(why));
  };
  if (cd.each.value() > kReticleAreaMm2) {
    fail(fmt::format("compute die {} mm2 exceeds the {} mm2 reticle limit", FormatNumber(cd.each.value(), 4), kReticleAreaMm2));
  }
  if (out.io_die && out.io_die->each.value() > kReticleAreaMm2) {
    fail(fmt::format("I/O die {} mm2 exceeds the {} mm2 reticle limit", FormatNumber(out.io_die->each.value(), 4), kReticleAreaMm2));
  }
  const Packaging& p = tech.packaging;
  const bool multi_die = dies + d.io_dies.count > 1;
  if (p.max_silicon_area.value() > 0 && multi_die && out.interposer_area > p.max_silicon_area) {
    fail(fmt::format("interposer {} mm2 (dies + {} HBM stacks) exceeds {}'s {} mm2", FormatNumber(out.interposer_area.value(), 4),
                     d.hbm_stacks, p.name, FormatNumber(p.max_silicon_area.value(), 4)));
  }
  if (p.max_silicon_area.value() > 0 && !multi_die && out.total_silicon > p.max_silicon_area) {
    fail(fmt::format("die {} mm2 exceeds {}'s {} mm2", FormatNumber(out.total_silicon.value(), 4), p.name,
                     FormatNumber(p.max_silicon_area.value(), 4)));
  }
  if (p.max_hbm_stacks > 0 && d.hbm_stacks > p.max_hbm_stacks) {
    fail(fmt::format("{} HBM stacks exceed {}'s limit of {}", d.hbm_stacks, p.name, p.max_hbm_stacks));
  }
  if (p.max_hbm_stacks == 0 && d.hbm_stacks > 0 && p.name == "monolithic") {
    fail(fmt::format("packaging {} has no interposer for HBM stacks", p.name));
  }
  if (ne.max_clock.value() > 0 && d.clock > ne.max_clock) {
    fail(fmt::format("clock {} exceeds {}'s limit of {}", ToString(d.clock), tech.node.name, ToString(ne.max_clock)));
  }
  if (d.tdp.value() > 0 && d.tdp <= c.static_power) {
    fail(fmt::format("stated TDP {} does not cover the design's leakage {}: raise the TDP or lower the clock, SRAM or area",
                     ToString(d.tdp), ToString(c.static_power, 3)));
  } else if (d.tdp.value() > 0 && total > d.tdp) {
    f.notes.push_back(fmt::format("estimated peak power {} exceeds the stated TDP {}; the clock throttles under full load",
                                    ToString(total), ToString(d.tdp)));
  }
  return out;
}

}  // namespace pf::hw
