#pragma once
// The training loop. It composes parts built elsewhere (cli/train_command.cpp): the model, one loss
// per dataset, the prefetching data loader, the optimizer, evaluators and the communicator. Per
// step: forward+backward of this rank's batch (losses gather across ranks themselves), gradient
// average over ranks (after backward, or overlapped with it: distributed.overlap_grad_reduce), finite check, clip, schedule, AdamW step; logging, evaluation and
// checkpoints at their intervals.
#include <memory>
#include <string>
#include <vector>

#include "data/prefetcher.h"
#include "distributed/data_parallel.h"
#include "losses/loss.h"
#include "report/metrics_log.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/optimizer.h"
#include "train/step_times.h"

namespace negatron::train {

struct TrainerParts {
  std::shared_ptr<model::SentenceEncoder> model;
  std::vector<std::unique_ptr<losses::Loss>> losses;  // losses[i] trains on dataset i
  std::vector<std::string> dataset_names;
  std::unique_ptr<data::Prefetcher> data;
  std::unique_ptr<torch::optim::AdamW> optimizer;
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
  double train_step(const data::CollatedBatch& batch, double lr, bool& skipped, StepTimes& times);
  Metrics evaluate(int64_t step);
  void save(bool final_save);
  void log_step(int64_t step, double loss, double lr, double samples_per_s, int dataset, const StepTimes& times);

  TrainConfig config_;
  TrainerParts parts_;
  TrainerState state_;
  report::MetricsLog metrics_;
  int64_t total_steps_ = 0;
  int64_t warmup_ = 0;
  std::string best_metric_name_;
  // Set on the first step when distributed.overlap_grad_reduce selects it (after parts_: it hooks
  // the parameters and uses the communicator, so it goes first).
  std::unique_ptr<distributed::OverlappedGradientAverager> grad_averager_;
};

}  // namespace negatron::train
