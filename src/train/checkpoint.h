#pragma once
// Checkpoints: "<output_dir>/checkpoint-<step>/" is a sentence-transformers model folder (loadable
// by SentenceTransformer(path)) plus trainer_state.json, optimizer.pt, rng_state_<rank>.pt (the CPU
// generator), cuda_rng_state_<rank>.pt (the rank's CUDA generator, when it trains on one) and, when
// a loss owns parameters (SoftmaxLoss's classifier, TSDAE's decoder), loss_parameters.safetensors.
// Written atomically: every file is published with AtomicFile into "checkpoint-<step>.partial", which
// is then swapped in (common/owned_folder.h), so a failed or killed save leaves the previous
// checkpoint intact, and only folders negatron made are ever replaced or rotated away.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/sentence_encoder.h"
#include "train/optimizer.h"

namespace negatron::train {

struct TrainerState {
  int64_t step = 0;                     // optimizer steps completed
  nlohmann::json sampler;               // data::Prefetcher::state() after the last batch used
  std::optional<double> best_metric;
  std::string best_checkpoint;
  int64_t skipped_steps = 0;
  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& json, const std::string& origin);
};

constexpr const char* kLossParametersFile = "loss_parameters.safetensors";

/// Collective: every rank calls it (each saves its RNG state). Returns the checkpoint folder.
/// `loss_parameters` (named "loss.<dataset>.<parameter>") go to loss_parameters.safetensors.
std::string save_checkpoint(const std::string& output_dir, model::SentenceEncoder& model,
                            AdamW& optimizer, const TrainerState& state, distributed::Communicator& comm,
                            const std::vector<NamedParameter>& loss_parameters = {});

/// The loss-owned entries of a trainer's parameter list (those named "loss.<dataset>.<parameter>").
std::vector<NamedParameter> select_loss_parameters(const std::vector<NamedParameter>& parameters);

/// Writes loss-owned parameters to <dir>/loss_parameters.safetensors (nothing when there are none).
void save_loss_parameters(const std::string& dir, const std::vector<NamedParameter>& loss_parameters);

/// Loads optimizer, this rank's RNG, the trainer state and the loss-owned parameters (in place, by
/// name) from a checkpoint folder (the model weights are loaded by SentenceEncoder::load on it).
TrainerState load_checkpoint(const std::string& dir, AdamW& optimizer, int rank,
                             const std::vector<NamedParameter>& loss_parameters = {});

/// Whether `dir` is a checkpoint negatron wrote (trainer_state.json in a negatron model folder).
bool is_checkpoint_folder(const std::string& dir);

/// "latest" -> newest checkpoint-N under output_dir (empty if none); anything else is a path.
std::string resolve_resume(const std::string& resume, const std::string& output_dir);

/// Deletes the oldest checkpoints beyond `limit` (0: keep all), never `keep` (the best one).
void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep);

std::vector<std::string> list_checkpoints(const std::string& output_dir);  // oldest first

}  // namespace negatron::train
