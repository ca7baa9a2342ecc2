#pragma once
// Progress with rate and ETA, shown on rank 0 only: a redrawn bar on a terminal, a plain line every
// few seconds otherwise (log files, CI).
#include <chrono>
#include <cstdint>
#include <string>

namespace negatron {

class Progress {
 public:
  Progress(std::string what, int64_t total, bool enabled = true, std::string unit = "it");
  void advance(int64_t n = 1, const std::string& suffix = "");
  void finish();
  ~Progress();

 private:
  void draw(bool final_line);
  std::string what_, unit_, suffix_;
  int64_t total_, done_ = 0;
  bool enabled_, terminal_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace negatron
