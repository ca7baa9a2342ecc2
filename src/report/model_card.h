#pragma once
// The model card (README.md) a trained model folder carries, laid out like the one
// sentence-transformers writes: metadata front matter, model details, the SentenceTransformer(path)
// usage snippet, final evaluation metrics, training datasets with row counts and each loss with
// its parameters, the training arguments, and versions.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace negatron::report {

struct ModelCardDataset {
  std::string name;
  std::string path;
  int64_t rows = 0;
  std::vector<std::string> columns;
  nlohmann::json loss;  // {"name": ..., parameters...} as configured
};

struct ModelCard {
  std::string base_model;                // the folder or hub id training started from
  int64_t max_seq_length = 0;
  int64_t embedding_dimension = 0;
  std::string similarity_fn_name = "cosine";
  std::vector<std::string> architecture;  // one line per module, in order
  std::vector<ModelCardDataset> datasets;
  nlohmann::json training_arguments;      // the resolved training options (every default)
  int world_size = 1;
  int64_t steps = 0;
  std::map<std::string, double> initial_metrics, final_metrics;
  std::string negatron_version;
};

std::string render_model_card(const ModelCard& card);
/// Writes render_model_card(card) to <model_dir>/README.md (a temporary file renamed into place).
void write_model_card(const std::string& model_dir, const ModelCard& card);

}  // namespace negatron::report
