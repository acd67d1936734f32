// spec/calibration_spec: loading data/calibration/<chip or family>.yaml into
// ops::CalibrationSpec (field table below, unknown keys are errors), and resolving the
// ceilings of a chip: its own file, else its family's file, else the global fallbacks in
// ops/calibration.h.
//
// How to calibrate a new chip: add data/calibration/<chip preset name>.yaml with the
// measured values and the row/citation each came from (see data/calibration/README.md).
#pragma once

#include <optional>
#include <string>

#include "pathfinder/hw/chip.h"
#include "pathfinder/ops/calibration.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

const Schema<ops::CalibrationSpec>& CalibrationSchema();

// Loads data/calibration/<name>.yaml; nullopt (with diagnostics) on any problem.
std::optional<ops::CalibrationSpec> LoadCalibrationPreset(const std::string& name, Diagnostics& diag,
                                                          ProvenanceMap* provenance = nullptr);
// Loads a calibration file from a path (tests, user files).
std::optional<ops::CalibrationSpec> LoadCalibrationFile(const std::string& path, Diagnostics& diag,
                                                        ProvenanceMap* provenance = nullptr);

// The family file names tried for a chip: its family ("tpu-v5p"), then the family without
// its version suffix ("tpu").
std::vector<std::string> FamilyCandidates(const std::string& family);

struct ResolvedCalibration {
  ops::Ceilings ceilings;
  std::string chip_file;    // "" when the chip has none
  std::string family_file;  // "" when no family file was found
};

// Ceilings for `chip` from the calibration presets that exist (missing files are not
// errors; broken ones are).
std::optional<ResolvedCalibration> ResolveCalibration(const hw::Chip& chip, Diagnostics& diag);

}  // namespace pf::spec
