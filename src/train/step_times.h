#pragma once
// Where a training step's wall time goes, per phase, summed over a logging window and written to
// metrics.jsonl as time_*_s (means per step). Host wall time: on CUDA, kernels run asynchronously,
// so device work shows up in the phase where the host next waits (the loss read-back).
#include <chrono>

namespace negatron::train {

struct StepTimes {
  double data_s = 0;         // waiting for the prefetched batch
  double compute_s = 0;      // this rank's forward + backward (gathers included)
  double grad_reduce_s = 0;  // gradient average + loss reduce: the wait for the slowest rank lands here
  double optimizer_s = 0;    // clip + AdamW
  double slowest_compute_s = 0;  // max over ranks of compute_s (compute_s on rank 0 is one rank's)

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

}  // namespace negatron::train
