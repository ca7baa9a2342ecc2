#include "train/trainer.h"

#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "common/check.h"
#include "common/log.h"
#include "common/progress.h"
#include "distributed/data_parallel.h"
#include "train/curve_plot.h"

namespace negatron::train {
namespace {

std::vector<at::Tensor> tensors_of(const std::vector<NamedParameter>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) {
    if (p.tensor.requires_grad()) out.push_back(p.tensor);
  }
  return out;
}

losses::ModelBatch to_model_batch(const data::CollatedBatch& batch, at::Device device) {
  losses::ModelBatch out;
  for (const auto& column : batch.columns) {
    model::TokenBatch moved;
    moved.input_ids = column.input_ids.to(device);
    moved.attention_mask = column.attention_mask.to(device);
    moved.token_type_ids = column.token_type_ids.defined() ? column.token_type_ids.to(device) : at::Tensor();
    out.columns.push_back(std::move(moved));
  }
  out.texts = batch.texts;
  if (batch.labels.defined()) out.labels = batch.labels.to(device);
  out.rank_rows = batch.rank_rows;
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

std::string describe(const Metrics& metrics) {
  std::ostringstream out;
  for (const auto& [name, value] : metrics) out << (out.tellp() > 0 ? ", " : "") << name << "=" << value;
  return out.str();
}

}  // namespace

Trainer::Trainer(TrainConfig config, TrainerParts parts, TrainerState resume_state)
    : config_(std::move(config)), parts_(std::move(parts)), state_(std::move(resume_state)),
      metrics_((std::filesystem::create_directories(config_.output_dir), config_.output_dir + "/metrics.jsonl"),
               parts_.comm->rank() == 0) {
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

double Trainer::train_step(const data::CollatedBatch& batch, double lr, bool& skipped, StepTimes& times) {
  auto& comm = *parts_.comm;
  Stopwatch clock;
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
    local_loss = loss_fn.forward_backward(*parts_.model, to_model_batch(batch, parts_.device), 1.0);
    times.compute_s = clock.lap();
    grad_averager_->finish();
  } else {
    local_loss = loss_fn.forward_backward(*parts_.model, to_model_batch(batch, parts_.device), 1.0);
    times.compute_s = clock.lap();
    distributed::average_gradients(comm, params);
  }
  // One small gather brings every rank's loss and compute time: the mean loss (summed in rank order,
  // so identical everywhere) and the slowest rank's compute, which is what the step waits for.
  const double local[2] = {local_loss.item<double>(), times.compute_s};
  const at::Tensor gathered = comm.all_gather(at::tensor(at::ArrayRef<double>(local, 2), at::kDouble)).cpu();
  const auto all = gathered.accessor<double, 1>();
  double loss = 0;
  times.slowest_compute_s = 0;
  for (int r = 0; r < comm.world_size(); ++r) {
    loss += all[2 * r];
    times.slowest_compute_s = std::max(times.slowest_compute_s, all[2 * r + 1]);
  }
  loss /= comm.world_size();
  times.grad_reduce_s = clock.lap();
  // Gradients are identical on every rank after averaging, so every rank takes the same decision.
  const double max_norm = config_.training.max_grad_norm > 0 ? config_.training.max_grad_norm : INFINITY;
  const double grad_norm = torch::nn::utils::clip_grad_norm_(params, max_norm);
  skipped = !std::isfinite(loss) || !std::isfinite(grad_norm);
  if (skipped) {
    NEG_CHECK(config_.training.nan_policy == "skip", "non-finite ", std::isfinite(loss) ? "gradient" : "loss",
              " at step ", state_.step + 1, " (loss ", loss, ", grad norm ", grad_norm, ") in ",
              loss_fn.spec().name, " on dataset '", parts_.dataset_names.at(batch.dataset_index),
              "'; set training.nan_policy=skip to skip such steps");
    parts_.optimizer->zero_grad();
    return loss;
  }
  set_learning_rate(*parts_.optimizer, lr);
  parts_.optimizer->step();
  times.optimizer_s = clock.lap();
  return loss;
}

void Trainer::log_step(int64_t step, double loss, double lr, double samples_per_s, int dataset,
                       const StepTimes& times) {
  const distributed::CommStats& comm = parts_.comm->stats();  // cumulative bytes this rank sent
  metrics_.write({{"type", "train"}, {"step", step}, {"loss", loss}, {"learning_rate", lr},
                  {"samples_per_s", samples_per_s}, {"dataset", parts_.dataset_names.at(dataset)},
                  {"all_gather_bytes", comm.all_gather_bytes}, {"all_reduce_bytes", comm.all_reduce_bytes},
                  {"all_gather_calls", comm.all_gather_calls}, {"all_reduce_calls", comm.all_reduce_calls},
                  {"reduce_scatter_bytes", comm.reduce_scatter_bytes}, {"reduce_scatter_calls", comm.reduce_scatter_calls},
                  {"time_data_s", times.data_s}, {"time_compute_s", times.compute_s},
                  {"time_slowest_compute_s", times.slowest_compute_s}, {"time_grad_reduce_s", times.grad_reduce_s},
                  {"time_optimizer_s", times.optimizer_s}});
}

void Trainer::save(bool final_save) {
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

  Progress progress("train", total_steps_ - state_.step, true, "step");
  auto window_start = std::chrono::steady_clock::now();
  // Loss means per dataset over the logging window (datasets have different losses and scales).
  std::vector<double> window_loss(parts_.losses.size(), 0.0);
  std::vector<int64_t> window_count(parts_.losses.size(), 0);
  int64_t window_steps = 0;
  StepTimes window_times;  // summed over the window's steps, skipped ones included
  int64_t window_timed_steps = 0;
  while (state_.step < total_steps_) {
    Stopwatch data_clock;
    const data::CollatedBatch batch = parts_.data->next();
    StepTimes times;
    times.data_s = data_clock.lap();
    const double lr = t.learning_rate * lr_factor(t.lr_scheduler_type, state_.step, total_steps_, warmup_);
    bool skipped = false;
    const double loss = train_step(batch, lr, skipped, times);
    window_times += times;
    ++window_timed_steps;
    ++state_.step;
    state_.sampler = parts_.data->state();
    if (skipped) {
      ++state_.skipped_steps;
      log::warn0("step ", state_.step, ": non-finite loss or gradient, step skipped (", state_.skipped_steps,
                 " so far)");
    } else {
      window_loss[batch.dataset_index] += loss;
      ++window_count[batch.dataset_index];
      ++window_steps;
    }
    std::ostringstream suffix;
    suffix << "loss " << loss;
    progress.advance(1, suffix.str());
    if (window_steps > 0 && (state_.step % std::max<int64_t>(1, t.logging_steps) == 0 || state_.step == total_steps_)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
      const double samples_per_s = window_steps * global_batch / std::max(seconds, 1e-9);
      const StepTimes mean_times = window_times * (1.0 / static_cast<double>(window_timed_steps));
      for (size_t d = 0; d < window_loss.size(); ++d) {
        if (window_count[d] > 0) {
          log_step(state_.step, window_loss[d] / window_count[d], lr, samples_per_s, d, mean_times);
        }
      }
      window_times = StepTimes();
      window_timed_steps = 0;
      window_start = std::chrono::steady_clock::now();
      std::fill(window_loss.begin(), window_loss.end(), 0.0);
      std::fill(window_count.begin(), window_count.end(), 0);
      window_steps = 0;
    }
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
    parts_.model->save(result.final_model_dir);
    save_loss_parameters(result.final_model_dir, select_loss_parameters(parts_.parameters));
    log::info0("final model: ", result.final_model_dir, "; metrics: ", metrics_.path());
    // The loss and evaluation curves as a PNG; a plotting failure costs the plot, not the run.
    const std::string curves = config_.output_dir + "/training_curves.png";
    std::vector<std::string> primary;
    for (const auto& evaluator : parts_.evaluators) primary.push_back(evaluator->primary_metric());
    try {
      plot_training_curves(metrics_.path(), curves, primary);
      log::info0("training curves: ", curves);
    } catch (const std::exception& e) {
      log::warn0("could not plot the training curves: ", e.what());
    }
  }
  comm.barrier();
  result.steps = state_.step;
  result.skipped_steps = state_.skipped_steps;
  return result;
}

}  // namespace negatron::train
