#pragma once
// Checkpoints: "<output_dir>/checkpoint-<step>/" is a sentence-transformers model folder (loadable
// by SentenceTransformer(path)) plus trainer_state.json, optimizer.pt and rng_state_<rank>.pt.
// Written atomically: everything goes to a temporary folder, is fsynced, then renamed, so a process
// killed mid-save leaves the previous checkpoint intact.
#include <torch/optim/adamw.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "model/sentence_encoder.h"

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

/// Collective: every rank calls it (each saves its RNG state). Returns the checkpoint folder.
std::string save_checkpoint(const std::string& output_dir, model::SentenceEncoder& model,
                            torch::optim::AdamW& optimizer, const TrainerState& state, dist::Communicator& comm);

/// Loads optimizer, this rank's RNG and the trainer state from a checkpoint folder (the model
/// weights are loaded by SentenceEncoder::load on the same folder).
TrainerState load_checkpoint(const std::string& dir, torch::optim::AdamW& optimizer, int rank);

/// "latest" -> newest checkpoint-N under output_dir (empty if none); anything else is a path.
std::string resolve_resume(const std::string& resume, const std::string& output_dir);

/// Deletes the oldest checkpoints beyond `limit` (0: keep all), never `keep` (the best one).
void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep);

std::vector<std::string> list_checkpoints(const std::string& output_dir);  // oldest first

}  // namespace negatron::train
