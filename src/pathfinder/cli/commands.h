// cli/commands: every subcommand is one Add<Name>Command function in its own file, called
// from the explicit list in main.cc. A command records its exit code in the context:
// 0 success, 1 the simulation ran but a requested check failed, 2 bad input.
//
// How to add a subcommand: write cli/<name>_cmd.cc with Add<Name>Command, declare it
// here, add one line to RegisterBuiltinCommands() in main.cc, and test it in tests/cli/.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>

namespace pf::cli {

struct CommandContext {
  int exit_code = 0;
  std::ostream* out = nullptr;  // results
  std::ostream* err = nullptr;  // diagnostics
};

void AddPresetsCommand(CLI::App& app, CommandContext& ctx);
void AddExplainCommand(CLI::App& app, CommandContext& ctx);
void AddCheckCommand(CLI::App& app, CommandContext& ctx);
void AddModelCommand(CLI::App& app, CommandContext& ctx);
void AddSchemaCommand(CLI::App& app, CommandContext& ctx);
void AddOpCommand(CLI::App& app, CommandContext& ctx);
void AddValidateCommand(CLI::App& app, CommandContext& ctx);
void AddCollectiveCommand(CLI::App& app, CommandContext& ctx);
void AddTrainCommand(CLI::App& app, CommandContext& ctx);
void AddDesignCommand(CLI::App& app, CommandContext& ctx);
void AddServeCommand(CLI::App& app, CommandContext& ctx);
void AddSweepCommand(CLI::App& app, CommandContext& ctx);
void AddPlanCommand(CLI::App& app, CommandContext& ctx);

}  // namespace pf::cli
