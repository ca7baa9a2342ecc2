#include "common/progress.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "common/log.h"

namespace negatron {

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
  else if (s >= 60) std::snprintf(buffer, sizeof buffer, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
  else std::snprintf(buffer, sizeof buffer, "%llds", (long long)s);
  return buffer;
}

Progress::Progress(std::string what, int64_t total, bool enabled, std::string unit)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total), enabled_(enabled && log::rank() == 0),
      terminal_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

void Progress::advance(int64_t n, const std::string& suffix) {
  done_ += n;
  suffix_ = suffix;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (since_draw >= (terminal_ ? 0.2 : 10.0)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void Progress::draw(bool final_line) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 && total_ > done_ ? (total_ - done_) / rate : 0.0;
  std::ostringstream line;
  line << what_ << " " << done_ << "/" << total_;
  if (total_ > 0) line << " (" << (100 * done_ / total_) << "%)";
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.1f", rate);
  line << " " << rate_text << " " << unit_ << "/s, elapsed " << format_duration(elapsed);
  if (!final_line) line << ", ETA " << format_duration(eta);
  if (!suffix_.empty()) line << ", " << suffix_;
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * done_ / total_) : 0;
    std::fprintf(stderr, "\r[%s%s] %s\033[K", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, '.').c_str(), line.str().c_str());
    if (final_line) std::fputc('\n', stderr);
    std::fflush(stderr);
  } else {
    log::info(line.str());
  }
}

}  // namespace negatron
