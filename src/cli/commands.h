#pragma once
// Every subcommand registers itself on the root CLI11 app; main() only dispatches.
#include <CLI/CLI.hpp>

namespace negatron::cli {

void register_encode_command(CLI::App& app);
void register_tokenize_command(CLI::App& app);
void register_convert_command(CLI::App& app);

}  // namespace negatron::cli
