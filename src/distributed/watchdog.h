#pragma once
// CollectiveWatchdog: a thread that fires a handler when one collective runs longer than a
// timeout, so a job whose peer died or deadlocked ends with a message naming the collective
// instead of hanging until the scheduler kills it. with_watchdog() wraps any Communicator so every
// collective is timed; bootstrap applies it when BootstrapOptions::collective_timeout_s > 0.
// NCCL collectives are asynchronous: the watchdog sees them only when the caller synchronises
// inside a watched call (the NCCL communicator does, for CPU results).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "distributed/communicator.h"

namespace negatron::distributed {

class CollectiveWatchdog {
 public:
  /// Called once, on the watchdog thread, with the collective's name and the seconds it has run.
  using TimeoutHandler = std::function<void(const std::string& collective, double elapsed_s)>;

  CollectiveWatchdog(double timeout_s, TimeoutHandler on_timeout);
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  void begin(const std::string& collective);
  void end();
  double timeout_s() const { return timeout_s_; }

 private:
  void watch();

  const double timeout_s_;
  const TimeoutHandler on_timeout_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false, active_ = false;
  uint64_t generation_ = 0;
  std::string collective_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
};

/// `inner` with every collective timed by a watchdog; on timeout the handler runs (default: log
/// the collective, the rank and the timeout, then inner->abort). timeout_s must be > 0.
std::shared_ptr<Communicator> with_watchdog(std::shared_ptr<Communicator> inner, double timeout_s,
                                            CollectiveWatchdog::TimeoutHandler on_timeout = nullptr);

}  // namespace negatron::distributed
