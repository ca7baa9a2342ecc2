#include "train/loss_window.h"

#include <cmath>
#include <limits>
#include <sstream>

#include <ATen/core/grad_mode.h>

#include "common/host_read.h"

namespace negatron::train {

LossWindow::LossWindow(int datasets, at::Device device) : datasets_(datasets) {
  sums_ = at::zeros({2 * datasets + 2}, at::TensorOptions().dtype(at::kDouble).device(device));
  sums_[2 * datasets + 1].fill_(-1);
}

void LossWindow::add(int dataset, const at::Tensor& loss, const at::Tensor& found_inf, int64_t step) {
  at::NoGradGuard no_grad;
  const at::Tensor skipped = found_inf.reshape({}).to(at::kDouble);
  const at::Tensor kept = 1 - skipped;
  // where(), not loss * kept: a NaN loss times 0 is still NaN.
  sums_[dataset].add_(at::where(skipped > 0, at::zeros_like(skipped), loss.detach().to(at::kDouble)));
  sums_[datasets_ + dataset].add_(kept);
  sums_[2 * datasets_].add_(skipped);
  at::Tensor first = sums_[2 * datasets_ + 1];
  first.copy_(at::where((first < 0).logical_and(skipped > 0), at::full_like(first, static_cast<double>(step)), first));
}

LossWindow::Summary LossWindow::take(distributed::Communicator& comm, double compute_s) {
  const int64_t width = 2 * datasets_ + 3;
  const at::Tensor mine = at::cat({sums_, at::full({1}, compute_s, sums_.options())});
  const std::vector<double> all = read_vector<double>(comm.all_gather(mine));
  const int world = comm.world_size();
  Summary out;
  for (int d = 0; d < datasets_; ++d) {
    double sum = 0;
    for (int r = 0; r < world; ++r) sum += all[r * width + d];  // in rank order: the same value everywhere
    const int64_t steps = static_cast<int64_t>(all[datasets_ + d]);
    out.steps.push_back(steps);
    out.mean_loss.push_back(steps > 0 ? sum / (static_cast<double>(steps) * world)
                                      : std::numeric_limits<double>::quiet_NaN());
  }
  out.skipped = static_cast<int64_t>(all[2 * datasets_]);
  out.first_skipped_step = static_cast<int64_t>(all[2 * datasets_ + 1]);
  for (int r = 0; r < world; ++r) out.slowest_compute_s = std::max(out.slowest_compute_s, all[r * width + width - 1]);
  sums_.zero_();
  sums_[2 * datasets_ + 1].fill_(-1);
  return out;
}

std::string format_dataset_losses(const std::vector<std::string>& names, const std::vector<double>& losses) {
  std::ostringstream out;
  out.precision(4);
  out << "loss";
  for (size_t d = 0; d < losses.size(); ++d) {
    out << (d == 0 ? " " : " | ");
    if (losses.size() > 1) out << names.at(d) << ' ';
    if (std::isnan(losses[d])) out << '-';
    else out << losses[d];
  }
  return out.str();
}

}  // namespace negatron::train
