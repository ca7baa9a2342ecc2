#pragma once
// Logging, the project's one global. Lines look like "[12:00:00.000] [rank 1/4] [info] message".
// This header is free of spdlog and fmt on purpose: translation units that include torch (which
// bundles its own fmt) log through these functions, and only log.cpp sees spdlog.
#include <string>

#include "common/check.h"

namespace negatron::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// Tags every following line with "rank R/W"; call once after the communicator is up.
void set_rank(int rank, int world_size);
void set_level(Level level);
Level parse_level(const std::string& name);  // debug|info|warn|error
int rank();

void write(Level level, const std::string& message);
/// Rank 0 only.
void write0(Level level, const std::string& message);
/// Once per process for a given key.
void warn_once(const std::string& key, const std::string& message);

template <typename... P> void debug(const P&... p) { write(Level::kDebug, detail::concat(p...)); }
template <typename... P> void info(const P&... p) { write(Level::kInfo, detail::concat(p...)); }
template <typename... P> void warn(const P&... p) { write(Level::kWarn, detail::concat(p...)); }
template <typename... P> void error(const P&... p) { write(Level::kError, detail::concat(p...)); }
template <typename... P> void info0(const P&... p) { write0(Level::kInfo, detail::concat(p...)); }
template <typename... P> void warn0(const P&... p) { write0(Level::kWarn, detail::concat(p...)); }

}  // namespace negatron::log
