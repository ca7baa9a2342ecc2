#include "train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>

#include "common/check.h"
#include "common/host_read.h"
#include "common/log.h"
#include "common/progress.h"
#include "distributed/data_parallel.h"
#include "report/curve_plot.h"
#include "train/sync_check.h"

namespace negatron::train {
namespace {

std::vector<at::Tensor> tensors_of(const std::vector<NamedParameter>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) {
    if (p.tensor.requires_grad()) out.push_back(p.tensor);
  }
  return out;
}

/// distributed.overlap_grad_reduce: auto = on with NCCL at world size > 1 (its all-reduces run on a
/// communication stream beside the backward); off with MPI on CPU, where nonblocking collectives
/// progress only inside MPI calls, so starting them early buys nothing. true = always, even at world
/// size 1 where the reduction is the identity (so one GPU can check the mechanism).
/// The value itself is validated with the rest of the config (config_io.cpp).
bool overlap_grad_reduce(const std::string& option, const distributed::Communicator& comm) {
  return option == "true" || (option == "auto" && comm.backend() == "nccl" && comm.world_size() > 1);
}

/// Where TensorBoard event files go ("" when training.report_to does not ask for them); Hugging
/// Face's default layout, one folder per run under <output_dir>/runs.
std::string tensorboard_dir(const TrainConfig& config) {
  const auto& t = config.training;
  if (std::find(t.report_to.begin(), t.report_to.end(), "tensorboard") == t.report_to.end()) return "";
  if (!t.logging_dir.empty()) return t.logging_dir;
  char stamp[32] = {};
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "localhost");
  return config.output_dir + "/runs/" + stamp + "_" + host;
}

std::string describe(const Metrics& metrics) {
  std::ostringstream out;
  for (const auto& [name, value] : metrics) out << (out.tellp() > 0 ? ", " : "") << name << "=" << value;
  return out.str();
}

}  // namespace

Trainer::Trainer(TrainConfig config, TrainerParts parts, TrainerState resume_state)
    : config_(std::move(config)), parts_(std::move(parts)), state_(std::move(resume_state)),
      metrics_((std::filesystem::create_directories(config_.output_dir), config_.output_dir + "/metrics.jsonl"),
               parts_.comm->rank() == 0, tensorboard_dir(config_)) {
  const auto& t = config_.training;
  const int64_t per_epoch = parts_.data->steps_per_epoch();
  NEG_CHECK(per_epoch > 0, "the datasets give no full global batch of ", t.per_device_train_batch_size, " x ",
            parts_.comm->world_size(), " rows; lower per_device_train_batch_size");
  total_steps_ = t.max_steps > 0 ? t.max_steps : static_cast<int64_t>(std::ceil(t.num_train_epochs * per_epoch));
  warmup_ = warmup_steps(t, total_steps_);
  best_metric_name_ = t.metric_for_best_model;
  if (best_metric_name_.empty() && !parts_.evaluators.empty()) {
    best_metric_name_ = parts_.evaluators.front()->primary_metric();
  }
}

Metrics Trainer::evaluate(int64_t step) {
  Metrics all;
  for (auto& evaluator : parts_.evaluators) {
    for (auto& [name, value] : evaluator->evaluate(*parts_.model, *parts_.comm)) all[name] = value;
  }
  if (all.empty()) return all;
  log::info0("eval @ step ", step, ": ", describe(all));
  nlohmann::json record{{"type", "eval"}, {"step", step}};
  for (const auto& [name, value] : all) record[name] = value;
  metrics_.write(record);
  return all;
}

at::Tensor Trainer::train_step(const data::CollatedBatch& batch, double lr, bool first_of_dataset) {
  auto& comm = *parts_.comm;
  parts_.optimizer->zero_grad();
  losses::Loss& loss_fn = *parts_.losses.at(batch.dataset_index);
  const std::vector<at::Tensor> params = tensors_of(parts_.parameters);
  if (!grad_averager_ && overlap_grad_reduce(config_.distributed.overlap_grad_reduce, comm)) {
    grad_averager_ = std::make_unique<distributed::OverlappedGradientAverager>(comm, params, distributed::kDefaultBucketBytes,
                                                                        /*even_at_world_size_1=*/true);
    log::info0("gradients: averaged in ", grad_averager_->stats().buckets, " bucket(s) overlapped with backward");
  }
  at::Tensor local_loss;
  if (grad_averager_) {
    // The loss arms the averager right before its last backward (GradCache: the last mini-batch's),
    // whose hooks start the bucket all-reduces; finish() starts the rest, waits and averages.
    struct ClearCallback {
      losses::Loss& loss;
      ~ClearCallback() { loss.set_final_backward_callback({}); }
    } clear{loss_fn};
    grad_averager_->begin_step();
    loss_fn.set_final_backward_callback([this] { grad_averager_->arm(); });
    local_loss = loss_fn.forward_backward(*parts_.model, batch.inputs);
    clock_->end(StepClock::kCompute);
    grad_averager_->finish(/*check_layout=*/first_of_dataset);
  } else {
    local_loss = loss_fn.forward_backward(*parts_.model, batch.inputs);
    clock_->end(StepClock::kCompute);
    distributed::average_gradients(comm, params, distributed::kDefaultBucketBytes, /*check_layout=*/first_of_dataset);
  }
  clock_->end(StepClock::kGradReduce);
  // The non-finite check, on the device: the averaged gradients' norm is the same on every rank, a
  // loss is only this rank's, so the flag is agreed with a one-element all-reduce (max).
  const double max_norm = config_.training.max_grad_norm > 0 ? config_.training.max_grad_norm : INFINITY;
  const at::Tensor grad_norm = clip_grad_norm(params, max_norm);
  at::Tensor found_inf =
      at::isfinite(local_loss.to(at::kDouble)).logical_and(at::isfinite(grad_norm)).logical_not().to(at::kFloat).reshape({1});
  comm.all_reduce(found_inf, distributed::ReduceOp::kMax);
  parts_.optimizer->step(lr, found_inf);
  clock_->end(StepClock::kOptimizer);
  window_->add(batch.dataset_index, local_loss, found_inf, state_.step + 1);
  return local_loss;
}

void Trainer::flush_window(double lr) {
  if (window_step_dataset_.empty()) return;
  StepTimes times = clock_->take_means();
  const LossWindow::Summary summary = window_->take(*parts_.comm, times.compute_s);
  times.slowest_compute_s = summary.slowest_compute_s;
  const double seconds = window_wall_.lap();
  const int64_t steps = static_cast<int64_t>(window_step_dataset_.size());
  const int64_t global_batch = config_.training.per_device_train_batch_size * parts_.comm->world_size();
  const double samples_per_s = static_cast<double>((steps - summary.skipped) * global_batch) / std::max(seconds, 1e-9);
  state_.skipped_steps += summary.skipped;
  if (summary.skipped > 0) {
    const int64_t first = summary.first_skipped_step;
    const int dataset = window_step_dataset_.at(first);
    NEG_CHECK(config_.training.nan_policy == "skip", "non-finite loss or gradient at step ", first, " (not applied) in ",
              parts_.losses.at(dataset)->spec().name, " on dataset '", parts_.dataset_names.at(dataset), "'; ",
              summary.skipped, " such step(s) up to step ", state_.step,
              "; set training.nan_policy=skip to skip such steps");
    log::warn0(summary.skipped, " step(s) with a non-finite loss or gradient skipped up to step ", state_.step,
               " (the first: step ", first, " on dataset '", parts_.dataset_names.at(dataset), "'; ",
               state_.skipped_steps, " so far)");
  }
  const distributed::CommStats& comm = parts_.comm->stats();  // cumulative bytes this rank sent
  for (size_t d = 0; d < summary.steps.size(); ++d) {
    if (summary.steps[d] == 0) continue;
    last_logged_loss_.at(d) = summary.mean_loss[d];
    metrics_.write({{"type", "train"}, {"step", state_.step}, {"loss", summary.mean_loss[d]}, {"learning_rate", lr},
                    {"samples_per_s", samples_per_s}, {"dataset", parts_.dataset_names.at(d)},
                    {"all_gather_bytes", comm.all_gather_bytes}, {"all_reduce_bytes", comm.all_reduce_bytes},
                    {"all_gather_calls", comm.all_gather_calls}, {"all_reduce_calls", comm.all_reduce_calls},
                    {"reduce_scatter_bytes", comm.reduce_scatter_bytes}, {"reduce_scatter_calls", comm.reduce_scatter_calls},
                    {"time_data_s", times.data_s}, {"time_compute_s", times.compute_s},
                    {"time_slowest_compute_s", times.slowest_compute_s}, {"time_grad_reduce_s", times.grad_reduce_s},
                    {"time_optimizer_s", times.optimizer_s}, {"host_reads", host_read_count()},
                    {"host_reads_steady_steps", steady_step_host_reads_}});
  }
  progress_losses_ = format_dataset_losses(parts_.dataset_names, last_logged_loss_);
  window_step_dataset_.clear();
}

void Trainer::save(bool final_save) {
  flush_window(last_lr_);  // the skipped-step count (and nan_policy=abort) before the state is written
  state_.sampler = parts_.data->state();
  const std::string dir = save_checkpoint(config_.output_dir, *parts_.model, *parts_.optimizer, state_, *parts_.comm,
                                          select_loss_parameters(parts_.parameters));
  log::info0("saved checkpoint ", dir);
  if (parts_.comm->rank() == 0) {
    rotate_checkpoints(config_.output_dir, config_.training.save_total_limit, state_.best_checkpoint);
  }
  parts_.comm->barrier();
}

TrainResult Trainer::run() {
  const auto& t = config_.training;
  auto& comm = *parts_.comm;
  TrainResult result;
  const int64_t global_batch = t.per_device_train_batch_size * comm.world_size();
  log::info0("training ", total_steps_, " steps (", parts_.data->steps_per_epoch(), " per epoch), global batch ",
             global_batch, " on ", comm.world_size(), " rank(s), warmup ", warmup_, ", from step ", state_.step);
  parts_.model->train(config_.model.dropout);
  if (state_.step == 0) result.initial_metrics = evaluate(0);

  window_ = std::make_unique<LossWindow>(static_cast<int>(parts_.losses.size()), parts_.device);
  clock_ = std::make_unique<StepClock>(parts_.device);
  dataset_seen_.assign(parts_.losses.size(), false);
  last_logged_loss_.assign(parts_.losses.size(), std::numeric_limits<double>::quiet_NaN());
  progress_losses_ = format_dataset_losses(parts_.dataset_names, last_logged_loss_);
  Progress progress("train", total_steps_ - state_.step, true, "step");
  window_wall_.lap();
  while (state_.step < total_steps_) {
    const int64_t reads_before = host_read_count();
    Stopwatch data_clock;
    const data::CollatedBatch batch = parts_.data->next();
    clock_->begin_step(data_clock.lap());
    last_lr_ = t.learning_rate * lr_factor(t.lr_scheduler_type, state_.step, total_steps_, warmup_);
    const bool first_of_dataset = !dataset_seen_.at(batch.dataset_index);
    dataset_seen_[batch.dataset_index] = true;
    {
      const StrictSyncScope strict(parts_.device, /*steady_state=*/!first_of_dataset);
      train_step(batch, last_lr_, first_of_dataset);
    }
    window_step_dataset_[state_.step + 1] = batch.dataset_index;
    ++state_.step;
    state_.sampler = parts_.data->state();
    if (!first_of_dataset) steady_step_host_reads_ += host_read_count() - reads_before;
    if (state_.step % std::max<int64_t>(1, t.logging_steps) == 0 || state_.step == total_steps_) flush_window(last_lr_);
    progress.advance(1, progress_losses_);
    if (t.eval_steps > 0 && state_.step % t.eval_steps == 0 && state_.step < total_steps_) {
      const Metrics metrics = evaluate(state_.step);
      parts_.model->train(config_.model.dropout);
      auto it = metrics.find(best_metric_name_);
      if (it != metrics.end() && (!state_.best_metric || (t.greater_is_better ? it->second > *state_.best_metric
                                                                              : it->second < *state_.best_metric))) {
        state_.best_metric = it->second;
        state_.best_checkpoint = config_.output_dir + "/checkpoint-" + std::to_string(state_.step);
        save(false);
      }
    }
    if (t.save_steps > 0 && state_.step % t.save_steps == 0 && state_.step < total_steps_) save(false);
    if (config_.distributed.check_replicas_every > 0 && state_.step % config_.distributed.check_replicas_every == 0) {
      distributed::check_replicas_consistent(comm, tensors_of(parts_.parameters));
    }
  }
  progress.finish();
  result.final_metrics = evaluate(state_.step);
  save(true);
  result.final_model_dir = config_.output_dir + "/final";
  if (comm.rank() == 0) {
    parts_.model->save(result.final_model_dir, [&](const std::string& dir) {
      save_loss_parameters(dir, select_loss_parameters(parts_.parameters));
    });
    log::info0("final model: ", result.final_model_dir, "; metrics: ", metrics_.path());
    // The loss and evaluation curves as a PNG; a plotting failure costs the plot, not the run, but a
    // failed write (full disk) fails the run like every other write.
    const std::string curves = config_.output_dir + "/training_curves.png";
    std::vector<std::string> primary;
    for (const auto& evaluator : parts_.evaluators) primary.push_back(evaluator->primary_metric());
    std::optional<report::RgbImage> plot;
    try {
      plot = report::render_training_curves(metrics_.path(), primary);
    } catch (const std::exception& e) {
      log::warn0("could not plot the training curves: ", e.what());
    }
    if (plot) {
      report::write_png(curves, *plot);
      log::info0("training curves: ", curves);
    }
  }
  comm.barrier();
  result.steps = state_.step;
  result.skipped_steps = state_.skipped_steps;
  return result;
}

}  // namespace negatron::train
