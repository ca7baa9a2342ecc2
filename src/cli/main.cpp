#include <csignal>
#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "common/allocator.h"
#include "common/check.h"
#include "common/log.h"
#include "common/version.h"

namespace negatron::cli {

std::vector<CommandRegistrar>& command_registrars() {
  static std::vector<CommandRegistrar> registrars;
  return registrars;
}

}  // namespace negatron::cli

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) then fails the write with EFBIG, which is reported naming the file,
  // instead of killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"negatron: train sentence-embedding models with mpirun and Slurm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("negatron ") + negatron::kVersion + " (malloc: " + negatron::malloc_name() + ")");
  std::string level = "info";
  app.add_option("--log-level", level, "debug|info|warn|error")->capture_default_str();
  app.parse_complete_callback([&] { negatron::log::set_level(negatron::log::parse_level(level)); });
  for (auto registrar : negatron::cli::command_registrars()) registrar(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    negatron::log::error(e.what());
    return 1;
  }
  return 0;
}
