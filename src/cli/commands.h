#pragma once
// Subcommands register themselves: each *_command.cpp defines a function that adds its CLI11
// subcommand and registers it with NEGATRON_COMMAND(fn). main() only builds the app and dispatches.
#include <CLI/CLI.hpp>

#include <vector>

namespace negatron::cli {

using CommandRegistrar = void (*)(CLI::App&);

/// All registrars linked into the binary, in registration order.
std::vector<CommandRegistrar>& command_registrars();
inline bool add_command(CommandRegistrar registrar) {
  command_registrars().push_back(registrar);
  return true;
}

}  // namespace negatron::cli

#define NEGATRON_COMMAND(fn) \
  static const bool fn##_registered [[maybe_unused]] = ::negatron::cli::add_command(&fn)
