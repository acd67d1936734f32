// spec/serve_spec: the `serve:` section of a scenario — workload, arrivals, engine, dtypes,
// host overhead and SLOs — loaded into serve::ServeSettings through one field table, and
// the CSV files it may name: a request trace (arrival_s,input,output) and per-sample
// dataset lengths (input_length,output_length). A bad CSV row is an error naming its line.
//
//   serve:
//     workload: {requests: 2000, input: {distribution: lognormal, mean: 1000, stddev: 400},
//                output: {distribution: fixed, mean: 200}}
//     arrivals: {process: poisson, rate: 12 req/s}
//     engine: {replicas: 1, max_batch: 256, max_tokens: 8192, policy: decode-first}
//     weights: fp8
//     kv_cache: fp8
//     slo: {ttft: 2 s, tpot: 200 ms}
//
// Relative file paths are looked up next to the scenario, then under data/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pathfinder/core/result.h"
#include "pathfinder/serve/settings.h"
#include "pathfinder/spec/schema.h"

namespace pf::spec {

const Schema<serve::ServeSettings>& ServeSchema();

// Loads a `serve:` section; nullopt when anything is wrong (all problems in ctx.diag).
std::optional<serve::ServeSettings> LoadServeSection(const YAML::Node& node, LoadContext& ctx,
                                                     const std::string& key_path);

// A trace: header `arrival_s,input,output` (extra columns ignored), one request per row,
// arrival in seconds from the start. `name` is used in diagnostics (file:line).
bool ParseTraceCsv(std::string_view text, const std::string& name, std::vector<serve::TraceRequest>* out,
                   Diagnostics& diag);

// Per-sample lengths: header with `input_length` and `output_length` columns.
bool ParseLengthSamplesCsv(std::string_view text, const std::string& name,
                           std::vector<std::pair<int32_t, int32_t>>* out, Diagnostics& diag);

// Why `requests` Poisson arrivals at `rate` req/s cannot be simulated (they would span more
// than the 10^9 s a double keeps to the microsecond), or nullopt when they can.
std::optional<std::string> PoissonSpanError(long requests, double rate);

// "ttft=2s,tpot=200ms[,e2e=20s][,p=99]" (the CLI's --slo). Units are required.
Result<serve::Objectives> ParseSloText(const std::string& text);

// Reads a file named in a spec: relative to `base_dir`, else to the data folder.
std::optional<std::string> ReadSpecFile(const std::string& path, const std::string& base_dir, Diagnostics& diag,
                                        const SourceLocation& where, const std::string& key_path);

}  // namespace pf::spec
