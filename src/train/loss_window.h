#pragma once
// The losses of a logging window, kept on the device: per dataset the sum of this rank's step losses
// and the number of steps, the skipped (non-finite) steps and the first of them. Adding a step is a
// few device ops with no host read; take() gathers every rank's window and reads it once, at a
// logging step. Skipping is decided on the device (found_inf, the same on every rank), so a
// skipped step's loss never enters the sums.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "distributed/communicator.h"

namespace negatron::train {

class LossWindow {
 public:
  LossWindow(int datasets, at::Device device);

  /// Adds step `step`'s local loss (0-dim) to `dataset`, or counts the step as skipped when
  /// found_inf (one-element float, 0 or 1) is set.
  void add(int dataset, const at::Tensor& loss, const at::Tensor& found_inf, int64_t step);

  struct Summary {
    std::vector<double> mean_loss;   // per dataset: mean over its steps and over ranks (NaN: no step)
    std::vector<int64_t> steps;      // per dataset: steps that were not skipped
    int64_t skipped = 0;
    int64_t first_skipped_step = -1;  // -1: none
    double slowest_compute_s = 0;     // max over ranks of `compute_s`
  };
  /// Collective: every rank's window (one all_gather, one counted host read); starts a new window.
  Summary take(distributed::Communicator& comm, double compute_s);

 private:
  int datasets_;
  at::Tensor sums_;  // float64 [2 * datasets + 2]: loss sums, step counts, skipped, first skipped step
};

/// The progress line's loss part: "loss 0.4123" for one dataset, "loss nli 0.4123 | sts 8.012" for
/// several (each dataset's last logged windowed mean; "-" before its first logging step).
std::string format_dataset_losses(const std::vector<std::string>& names, const std::vector<double>& losses);

}  // namespace negatron::train
