#pragma once
// A sentence-transformers model: Transformer -> Pooling -> Dense* -> Normalize?, with its tokenizer.
// Loads and saves the sentence-transformers folder layout (modules.json and friends), so models move
// freely between negatron and Python's SentenceTransformer(path).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/dense.h"
#include "model/pooling.h"
#include "model/tokenizer.h"
#include "model/transformer.h"

namespace negatron::model {

struct SentenceEncoderOutput {
  at::Tensor sentence_embedding;          // [B, d]
  at::Tensor token_embeddings;            // [B, T, D]
  std::vector<at::Tensor> hidden_states;  // with_hidden_states only: embeddings output + one per layer
};

struct EncodeOptions {
  int64_t batch_size = 32;
  /// Normalize even if the model has no Normalize module.
  bool normalize = false;
  bool show_progress = false;
};

/// The max_seq_length a model folder declares: sentence_bert_config.json's max_seq_length, else
/// tokenizer_config.json's model_max_length, else config.json's max_position_embeddings (as
/// sentence-transformers 6 resolves it).
int64_t model_max_seq_length(const std::string& dir);

/// Whether `dir` is a model folder saved by negatron (its config_sentence_transformers.json says so).
bool is_model_folder_written_by_negatron(const std::string& dir);

class SentenceEncoder : public torch::nn::Module {
 public:
  /// Loads a sentence-transformers folder, or a plain Hugging Face model folder (mean pooling).
  static std::shared_ptr<SentenceEncoder> load(const std::string& dir);
  /// Writes the folder in the layout sentence-transformers 6 writes: built beside `dir`, each file
  /// published atomically, then swapped in (common/owned_folder.h: an existing `dir` is replaced only
  /// if negatron wrote it). `extra_files(building_dir)` adds files before the swap (loss parameters).
  void save(const std::string& dir, const std::function<void(const std::string&)>& extra_files = {}) const;
  /// The model's files, written into the existing folder `dir` (a checkpoint being built).
  void write_folder(const std::string& dir) const;

  /// num_layers > 0 runs only the first k transformer layers; with_hidden_states also returns every
  /// layer's token embeddings (both for AdaptiveLayerLoss).
  SentenceEncoderOutput forward(const TokenBatch& batch, int64_t num_layers = 0, bool with_hidden_states = false);
  /// Mixed precision for forward(): with a dtype (bfloat16 or float16), CUDA forwards run under
  /// autocast and return float32 outputs; CPU forwards and std::nullopt run in the parameters' dtype.
  void set_autocast(std::optional<at::ScalarType> dtype);
  /// Pooling + Dense + Normalize on given token embeddings (used for truncated-layer outputs).
  at::Tensor embed_tokens(const at::Tensor& token_embeddings, const at::Tensor& attention_mask);

  /// Tokenized, truncated to max_seq_length, padded.
  TokenBatch tokenize(const std::vector<std::string>& texts) const;
  std::vector<std::vector<int32_t>> tokenize_ids(const std::vector<std::string>& texts) const;
  /// Embeddings [N, d] float32 on CPU in input order; batches are formed from length-sorted texts.
  at::Tensor encode(const std::vector<std::string>& texts, const EncodeOptions& options = {});

  const Tokenizer& tokenizer() const { return *tokenizer_; }
  TransformerEncoder& transformer() { return *transformer_; }
  const TransformerEncoder& transformer() const { return *transformer_; }
  const PoolingOptions& pooling() const { return pooling_; }
  int64_t max_seq_length() const { return max_seq_length_; }
  void set_max_seq_length(int64_t n);
  bool normalizes() const { return normalize_; }
  int64_t embedding_dimension() const;
  /// config_sentence_transformers.json's similarity_fn_name ("cosine" when unset).
  std::string similarity_fn_name() const;
  /// One line per module, as sentence-transformers prints a model (model cards).
  std::vector<std::string> module_descriptions() const;
  const std::string& source_dir() const { return source_dir_; }

 private:
  SentenceEncoder() = default;
  friend struct SentenceEncoderIo;
  SentenceEncoderOutput forward_mixed_precision(const TokenBatch& batch, int64_t num_layers, bool with_hidden_states);

  std::string source_dir_;
  std::shared_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<TransformerEncoder> transformer_;
  PoolingOptions pooling_;
  std::vector<std::shared_ptr<Dense>> dense_;
  bool normalize_ = false;
  int64_t max_seq_length_ = 512;
  std::optional<at::ScalarType> autocast_dtype_;
  nlohmann::json st_config_;  // config_sentence_transformers.json, kept for save
};

}  // namespace negatron::model
