// negatron train: builds every part of a training run from the config and hands them to the Trainer.
#include <ATen/Parallel.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/commands.h"
#include "common/allocator.h"
#include "common/json_file.h"
#include "common/log.h"
#include "common/owned_folder.h"
#include "common/version.h"
#include "data/batch_sampler.h"
#include "distributed/bootstrap.h"
#include "distributed/config_agreement.h"
#include "distributed/data_parallel.h"
#include "losses/registry.h"
#include "report/model_card.h"
#include "train/config_io.h"
#include "train/trainer.h"

namespace negatron::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string resume;
  bool print_config = false;
};

/// bf16 runs the encoder's CUDA forwards under autocast (no loss scaling needed). fp16 would need a
/// dynamic loss scaler threaded through every backward, GradCache's included, so it is refused on GPU.
void configure_mixed_precision(model::SentenceEncoder& model, const train::TrainConfig& config, at::Device device) {
  const auto& t = config.training;
  NEG_CHECK(!(t.bf16 && t.fp16), "training.bf16 and training.fp16 are both true; choose one");
  if (!t.bf16 && !t.fp16) return;
  NEG_CHECK(config.model.dtype == "float32", "training.", t.bf16 ? "bf16" : "fp16",
            " needs model.dtype float32, not ", config.model.dtype);
  if (!device.is_cuda()) {
    log::warn0("training.", t.bf16 ? "bf16" : "fp16", " applies to GPU runs only; this CPU run trains in float32");
    return;
  }
  NEG_CHECK(!t.fp16, "training.fp16 is not supported (it needs loss scaling); use training.bf16 on GPUs with bf16");
  model.set_autocast(at::kBFloat16);
  log::info0("mixed precision: bf16 autocast in the encoder forward, float32 losses, weights and optimizer");
}

void freeze(model::SentenceEncoder& model, const std::vector<std::string>& prefixes) {
  for (auto& item : model.named_parameters()) {
    for (const auto& prefix : prefixes) {
      if (item.key().rfind(prefix, 0) == 0) item.value().set_requires_grad(false);
    }
  }
}

/// The model's parameters, then each loss's own as "loss.<dataset name>.<parameter name>" (the
/// names checkpoints store them under, and what weight-decay exemption looks at).
std::vector<train::NamedParameter> trainable_parameters(model::SentenceEncoder& model,
                                                        std::vector<std::unique_ptr<losses::Loss>>& losses,
                                                        const std::vector<std::string>& dataset_names) {
  std::vector<train::NamedParameter> out;
  for (auto& item : model.named_parameters()) out.push_back({item.key(), item.value()});
  for (size_t i = 0; i < losses.size(); ++i) {
    for (auto& [name, tensor] : losses[i]->named_parameters()) {
      out.push_back({"loss." + dataset_names.at(i) + "." + name, tensor});
    }
  }
  return out;
}

std::unique_ptr<losses::Loss> build_loss(const train::DatasetOptions& dataset, const train::TrainConfig& config,
                                         const distributed::Runtime& runtime,
                                         const std::shared_ptr<model::SentenceEncoder>& model) {
  losses::LossArgs args;
  args.context.comm = runtime.comm;
  args.context.gather_across_devices = config.distributed.gather_across_devices;
  args.model = model;
  return losses::make_loss_from_spec(dataset.loss, args);
}

std::shared_ptr<data::DatasetReader> open_dataset(const train::DatasetOptions& dataset, const losses::Loss& loss,
                                                  const model::SentenceEncoder& model) {
  const losses::LossSpec& spec = loss.spec();
  data::DatasetRequirements requirements;
  requirements.tokenizer_fingerprint = model.tokenizer().fingerprint();
  requirements.vocab_size = model.transformer().config().vocab_size;
  requirements.min_text_columns = spec.min_columns;
  requirements.max_text_columns = spec.max_columns < 0 ? INT_MAX : spec.max_columns;
  requirements.label_kind = spec.labels;
  requirements.consumer = spec.name + " (dataset '" + dataset.name + "')";
  return data::DatasetReader::open(dataset.path, requirements);
}

/// The loss's label check (SoftmaxLoss: classes in range), run by the prefetch thread on host batches:
/// a bad label fails the job naming the dataset and row, and the training step reads nothing back.
std::function<void(const data::CollatedBatch&)> label_check(const losses::Loss& loss, const std::string& dataset_path) {
  return [&loss, dataset_path](const data::CollatedBatch& batch) {
    if (!batch.inputs.labels.defined()) return;
    if (auto problem = loss.label_problem(batch.inputs.labels)) {
      NEG_FAIL(dataset_path, ": row ", batch.rows.at(problem->row), ": ", loss.spec().name, ": ", problem->message);
    }
  };
}

report::ModelCard model_card(const train::TrainConfig& config, const model::SentenceEncoder& model,
                              const std::vector<std::shared_ptr<const data::DatasetReader>>& readers,
                              const train::TrainResult& result, int world_size) {
  report::ModelCard card;
  card.base_model = config.model.path;
  card.max_seq_length = model.max_seq_length();
  card.embedding_dimension = model.embedding_dimension();
  card.similarity_fn_name = model.similarity_fn_name();
  card.architecture = model.module_descriptions();
  for (size_t i = 0; i < config.datasets.size(); ++i) {
    const data::DatasetManifest& manifest = readers.at(i)->manifest();
    report::ModelCardDataset dataset{config.datasets[i].name, config.datasets[i].path, manifest.rows,
                                     manifest.text_columns, config.datasets[i].loss};
    if (!manifest.label_column.empty()) dataset.columns.push_back(manifest.label_column);
    card.datasets.push_back(std::move(dataset));
  }
  card.training_arguments = train::config_json(config).at("training");
  card.world_size = world_size;
  card.steps = result.steps;
  card.initial_metrics.insert(result.initial_metrics.begin(), result.initial_metrics.end());
  card.final_metrics.insert(result.final_metrics.begin(), result.final_metrics.end());
  card.negatron_version = kVersion;
  return card;
}

int run_train(const TrainArgs& args) {
  // Parse before MPI starts so a bad config fails fast; every rank parses the same file.
  train::TrainConfig config = train::load_config(args.config, args.overrides);
  // The run ends by replacing output_dir/final: refuse someone else's folder now, not after training.
  check_replaceable(config.output_dir + "/final", "model folder", model::is_model_folder_written_by_negatron);
  distributed::BootstrapOptions boot;
  boot.backend = config.distributed.backend;
  boot.collective_timeout_s = config.distributed.collective_timeout_s;
  boot.device = config.device;
  const distributed::Runtime runtime = distributed::bootstrap(boot);
  auto& comm = *runtime.comm;
  if (args.print_config) {
    if (comm.rank() == 0) std::cout << train::dump_config(config);
    return 0;
  }
  distributed::ConfigEntries entries;
  for (const auto& line : train::flatten_config(config)) {
    const auto eq = line.find('=');
    entries.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  distributed::check_config_agreement(comm, entries);
  if (config.training.threads > 0) at::set_num_threads(static_cast<int>(config.training.threads));
  log::info0("malloc: ", malloc_name(), "; config:\n", train::dump_config(config));
  at::manual_seed(config.training.seed);

  const std::string resume_dir = args.resume.empty() ? "" : train::resolve_resume(args.resume, config.output_dir);
  NEG_CHECK(args.resume.empty() || !resume_dir.empty() || args.resume == "latest", "no checkpoint at ", args.resume);
  auto model = model::SentenceEncoder::load(resume_dir.empty() ? config.model.path : resume_dir);
  if (config.model.max_seq_length > 0) {
    try {
      model->set_max_seq_length(config.model.max_seq_length);
    } catch (const Error& e) {
      NEG_FAIL(args.config, ": config key 'model.max_seq_length': ", e.what());
    }
  }
  model->to(runtime.device);
  if (config.model.dtype == "float64") model->to(at::kDouble);
  configure_mixed_precision(*model, config, runtime.device);
  freeze(*model, config.training.frozen_parameters);

  train::TrainerParts parts;
  std::vector<std::shared_ptr<const data::DatasetReader>> readers;
  std::vector<std::shared_ptr<data::BatchSampler>> samplers;
  data::SamplerOptions sampler_options;
  sampler_options.kind = data::parse_batch_sampler_kind(config.training.batch_sampler);
  sampler_options.seed = static_cast<uint64_t>(config.training.seed);
  sampler_options.batch_size_global = config.training.per_device_train_batch_size * comm.world_size();
  sampler_options.rank = comm.rank();
  sampler_options.world_size = comm.world_size();
  sampler_options.balance_tokens = config.distributed.balance_tokens;
  bool with_text = false;
  for (const auto& dataset : config.datasets) {
    parts.losses.push_back(build_loss(dataset, config, runtime, model));
    auto reader = open_dataset(dataset, *parts.losses.back(), *model);
    with_text = with_text || reader->manifest().has_text;
    samplers.push_back(std::make_shared<data::BatchSampler>(data::sampler_source(reader, model->max_seq_length()), sampler_options));
    readers.push_back(reader);
    parts.dataset_names.push_back(dataset.name.empty() ? dataset.path : dataset.name);
  }
  data::MultiDatasetSampler sampler(samplers, data::parse_multi_dataset_kind(config.training.multi_dataset_batch_sampler),
                                    sampler_options.seed);
  parts.parameters = trainable_parameters(*model, parts.losses, parts.dataset_names);
  parts.optimizer = std::make_unique<train::AdamW>(parts.parameters, config.training);
  train::TrainerState state;
  if (!resume_dir.empty()) {
    state = train::load_checkpoint(resume_dir, *parts.optimizer, comm.rank(), train::select_loss_parameters(parts.parameters));
    try {
      sampler.restore(state.sampler);
    } catch (const nlohmann::json::exception& e) {
      NEG_FAIL(resume_dir, "/trainer_state.json: key 'sampler' is malformed (", json_error_text(e), ")");
    } catch (const Error& e) {
      NEG_FAIL(resume_dir, "/trainer_state.json: ", e.what());
    }
    log::info0("resuming from ", resume_dir, " at step ", state.step);
  }
  std::vector<at::Tensor> all_params;
  for (const auto& p : parts.parameters) all_params.push_back(p.tensor);
  distributed::broadcast_parameters(comm, all_params);

  data::PrefetchOptions prefetch;
  prefetch.with_text = with_text;
  prefetch.device = runtime.device;
  for (size_t i = 0; i < config.datasets.size(); ++i) prefetch.checks.push_back(label_check(*parts.losses[i], config.datasets[i].path));
  parts.data = std::make_unique<data::Prefetcher>(std::move(sampler), readers, model->tokenizer().pad_id(), prefetch);
  for (const auto& evaluator : config.evaluators) parts.evaluators.push_back(train::make_evaluator(evaluator));
  parts.model = model;
  parts.comm = runtime.comm;
  parts.device = runtime.device;

  train::Trainer trainer(config, std::move(parts), state);
  const train::TrainResult result = trainer.run();
  for (const auto& [name, after] : result.final_metrics) {
    auto before = result.initial_metrics.find(name);
    if (before != result.initial_metrics.end()) {
      log::info0(name, ": ", before->second, " -> ", after, " (", after - before->second >= 0 ? "+" : "",
                 after - before->second, ")");
    }
  }
  if (comm.rank() == 0) {
    report::write_model_card(result.final_model_dir, model_card(config, *model, readers, result, comm.world_size()));
  }
  log::info0("done: ", result.steps, " steps (", result.skipped_steps, " skipped); model saved to ",
             result.final_model_dir);
  return 0;
}

void register_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a sentence-embedding model (run under mpirun for several ranks)");
  cmd->add_option("--config", args->config, "YAML training recipe (see configs/)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", args->overrides, "override a config key: --set training.learning_rate=1e-5 (repeatable)");
  cmd->add_option("--resume", args->resume, "'latest' or a checkpoint folder");
  cmd->add_flag("--print-config", args->print_config, "print the resolved config (every default) and exit");
  cmd->callback([args] {
    const int rc = distributed::run_guarded([&] { return run_train(*args); });
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace

NEGATRON_COMMAND(register_train_command);

}  // namespace negatron::cli
