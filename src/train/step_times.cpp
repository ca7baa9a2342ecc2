#include "train/step_times.h"

#include <c10/core/impl/VirtualGuardImpl.h>

#include "common/check.h"
#include "common/host_read_count.h"

namespace negatron::train {

void StepClock::record(std::unique_ptr<c10::Event>& slot) {
  slot = std::make_unique<c10::Event>(device_.type(), c10::EventFlag::BACKEND_DEFAULT);  // with timing
  const c10::impl::VirtualGuardImpl device_api(device_.type());
  slot->record(device_api.getStream(device_));
}

void StepClock::begin_step(double data_s) {
  ++steps_;
  host_sums_.data_s += data_s;
  host_clock_.lap();
  if (device_.is_cpu()) return;
  marks_.emplace_back();
  record(marks_.back()[0]);
}

void StepClock::end(Phase phase) {
  const double seconds = host_clock_.lap();
  if (device_.is_cpu()) {
    double* sums[] = {&host_sums_.compute_s, &host_sums_.grad_reduce_s, &host_sums_.optimizer_s};
    *sums[phase] += seconds;
    return;
  }
  NEG_CHECK(!marks_.empty(), "StepClock::end before begin_step");
  record(marks_.back()[phase + 1]);
}

StepTimes StepClock::take_means() {
  StepTimes sums = host_sums_;
  if (!marks_.empty()) {
    for (auto it = marks_.back().rbegin(); it != marks_.back().rend(); ++it) {
      if (!*it) continue;
      (*it)->synchronize();  // the window's last event: every earlier one has completed too
      note_host_read();
      break;
    }
    double* phase_sums[] = {&sums.compute_s, &sums.grad_reduce_s, &sums.optimizer_s};
    for (const Marks& marks : marks_) {
      for (int p = 0; p < 3; ++p) {
        // A phase that did not run in a step (a skipped optimizer step still records) counts 0.
        if (marks[p] && marks[p + 1]) *phase_sums[p] += marks[p]->elapsedTime(*marks[p + 1]) / 1000.0;
      }
    }
  }
  const double per_step = steps_ > 0 ? 1.0 / static_cast<double>(steps_) : 0.0;
  host_sums_ = StepTimes();
  marks_.clear();
  steps_ = 0;
  return sums * per_step;
}

}  // namespace negatron::train
