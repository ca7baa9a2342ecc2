#pragma once
// The training loop. It composes parts built elsewhere (cli/train_command.cpp): the model, one loss
// per dataset, the prefetching data loader, the optimizer, evaluators and the communicator. Per
// step: forward+backward of this rank's batch (losses gather across ranks themselves), gradient
// average over ranks (after backward, or overlapped with it: distributed.overlap_grad_reduce), clip,
// the non-finite check, schedule, AdamW step; logging, evaluation and checkpoints at their intervals.
//
// A steady-state step reads nothing back from the device: the loss, the found-inf flag (non-finite
// loss on any rank or non-finite gradient norm; the fused AdamW skips the update on the device) and
// the phase times stay on the device until a logging step reads the window at once. So
// nan_policy=abort stops the run at the next logging step (or checkpoint), naming the first
// non-finite step, which was not applied. Every step's host reads are counted (common/host_read.h)
// and metrics.jsonl records those of steady-state steps (host_reads_steady_steps, expected 0).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/prefetcher.h"
#include "distributed/data_parallel.h"
#include "losses/loss.h"
#include "report/metrics_log.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/loss_window.h"
#include "train/optimizer.h"
#include "train/step_times.h"

namespace negatron::train {

struct TrainerParts {
  std::shared_ptr<model::SentenceEncoder> model;
  std::vector<std::unique_ptr<losses::Loss>> losses;  // losses[i] trains on dataset i
  std::vector<std::string> dataset_names;
  std::unique_ptr<data::Prefetcher> data;  // after losses: its thread runs their label checks until it stops
  std::unique_ptr<AdamW> optimizer;
  std::vector<NamedParameter> parameters;  // what the optimizer updates (model + loss-owned)
  std::vector<std::unique_ptr<Evaluator>> evaluators;
  std::shared_ptr<distributed::Communicator> comm;
  at::Device device = at::kCPU;
};

struct TrainResult {
  int64_t steps = 0;
  int64_t skipped_steps = 0;
  Metrics initial_metrics, final_metrics;
  std::string final_model_dir;
};

class Trainer {
 public:
  Trainer(TrainConfig config, TrainerParts parts, TrainerState resume_state = {});
  TrainResult run();
  int64_t total_steps() const { return total_steps_; }

 private:
  /// One optimizer step; returns the local loss (0-dim, on the device).
  at::Tensor train_step(const data::CollatedBatch& batch, double lr, bool first_of_dataset);
  /// Reads and logs the window (collective); throws under nan_policy=abort if a step was skipped.
  void flush_window(double lr);
  Metrics evaluate(int64_t step);
  void save(bool final_save);

  TrainConfig config_;
  TrainerParts parts_;
  TrainerState state_;
  report::MetricsLog metrics_;
  int64_t total_steps_ = 0;
  int64_t warmup_ = 0;
  std::string best_metric_name_;
  // Window state, between logging steps.
  std::unique_ptr<LossWindow> window_;
  std::unique_ptr<StepClock> clock_;
  std::map<int64_t, int> window_step_dataset_;  // step -> dataset, to name a skipped step's dataset
  Stopwatch window_wall_;
  std::vector<bool> dataset_seen_;        // a dataset's first step checks the gradient layout
  int64_t steady_step_host_reads_ = 0;   // host reads inside steady-state steps (see the top)
  std::vector<double> last_logged_loss_;  // per dataset: its last logged windowed mean (NaN: none yet)
  std::string progress_losses_;           // the progress line's loss part, rebuilt at logging steps
  double last_lr_ = 0;
  // Set on the first step when distributed.overlap_grad_reduce selects it (after parts_: it hooks
  // the parameters and uses the communicator, so it goes first).
  std::unique_ptr<distributed::OverlappedGradientAverager> grad_averager_;
};

}  // namespace negatron::train
