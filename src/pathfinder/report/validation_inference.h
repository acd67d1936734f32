// report/validation_inference: simulates one row of an inference results CSV (MLPerf
// Inference Offline / Server / Interactive, trtllm-bench throughput) with the serving
// simulator, and compares the predicted output tokens/s with the measured value.
#pragma once

#include "pathfinder/report/validation.h"

namespace pf::report {

RowResult InferenceRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips);

}  // namespace pf::report
