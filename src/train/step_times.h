#pragma once
// Where a training step's time goes, per phase, as means per step over a logging window, written to
// metrics.jsonl as time_*_s. StepClock measures them without making a step wait for the device: on
// CPU it reads the host clock at each phase boundary; on a GPU it records device events on the
// current stream there and resolves them only when the window is read (one synchronisation, at a
// logging step), so the times are the device's, not the kernel-launch times.
#include <c10/core/Device.h>
#include <c10/core/Event.h>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

namespace negatron::train {

struct StepTimes {
  double data_s = 0;         // host wait for the prefetched batch
  double compute_s = 0;      // this rank's forward + backward (gathers included)
  double grad_reduce_s = 0;  // gradient average: the wait for the slowest rank lands here
  double optimizer_s = 0;    // clip, the non-finite check (a one-element all-reduce) and AdamW
  double slowest_compute_s = 0;  // max over ranks of their window-mean compute_s (filled in by the trainer)

  StepTimes& operator+=(const StepTimes& o) {
    data_s += o.data_s;
    compute_s += o.compute_s;
    grad_reduce_s += o.grad_reduce_s;
    optimizer_s += o.optimizer_s;
    slowest_compute_s += o.slowest_compute_s;
    return *this;
  }
  StepTimes operator*(double factor) const {
    return {data_s * factor, compute_s * factor, grad_reduce_s * factor, optimizer_s * factor,
            slowest_compute_s * factor};
  }
};

/// Seconds since construction or the previous lap().
class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

/// Phase times of the steps of one logging window (see the top of this file).
class StepClock {
 public:
  enum Phase { kCompute = 0, kGradReduce = 1, kOptimizer = 2 };
  explicit StepClock(c10::Device device) : device_(device) {}

  /// A step starts (its batch has arrived after `data_s` seconds of waiting).
  void begin_step(double data_s);
  /// `phase` of the current step ends now.
  void end(Phase phase);
  /// Means per step over the steps since the last call (slowest_compute_s left 0); starts a new
  /// window. On a GPU it waits for the window's last event (one counted host synchronisation).
  StepTimes take_means();

 private:
  using Marks = std::array<std::unique_ptr<c10::Event>, 4>;  // step start, then the end of each phase
  void record(std::unique_ptr<c10::Event>& slot);

  c10::Device device_;
  Stopwatch host_clock_;
  StepTimes host_sums_;      // CPU: every phase; GPU: data_s only
  std::vector<Marks> marks_;  // GPU: this window's events
  int64_t steps_ = 0;
};

}  // namespace negatron::train
