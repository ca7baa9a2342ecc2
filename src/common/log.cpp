#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <set>

namespace negatron::log {
namespace {

int g_rank = 0;
int g_world = 1;

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("negatron");
    l->set_pattern("[%H:%M:%S.%e] [rank 0/1] [%^%l%$] %v");
    return l;
  }();
  return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void set_rank(int rank, int world_size) {
  g_rank = rank;
  g_world = world_size;
  logger()->set_pattern("[%H:%M:%S.%e] [rank " + std::to_string(rank) + "/" + std::to_string(world_size) +
                        "] [%^%l%$] %v");
}

void set_level(Level level) { logger()->set_level(to_spdlog(level)); }

Level parse_level(const std::string& name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  NEG_FAIL("unknown log level '", name, "' (expected debug|info|warn|error)");
}

int rank() { return g_rank; }

void write(Level level, const std::string& message) { logger()->log(to_spdlog(level), message); }

void write0(Level level, const std::string& message) {
  if (g_rank == 0) write(level, message);
}

void warn_once(const std::string& key, const std::string& message) {
  static std::mutex mutex;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(mutex);
  if (seen.insert(key).second) write(Level::kWarn, message);
}

}  // namespace negatron::log
