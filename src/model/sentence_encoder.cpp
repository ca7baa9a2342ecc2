#include "model/sentence_encoder.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <numeric>
#include <thread>

#include "common/check.h"
#include "common/host_read.h"
#include "common/progress.h"
#include "model/autocast_scope.h"

namespace negatron::model {

SentenceEncoderOutput SentenceEncoder::forward(const TokenBatch& batch, int64_t num_layers, bool with_hidden_states) {
  if (autocast_dtype_ && batch.input_ids.device().is_cuda()) {
    return forward_mixed_precision(batch, num_layers, with_hidden_states);
  }
  EncoderOutput encoded = transformer_->forward(batch, num_layers, with_hidden_states);
  SentenceEncoderOutput out;
  out.sentence_embedding = embed_tokens(encoded.token_embeddings, batch.attention_mask);
  out.token_embeddings = std::move(encoded.token_embeddings);
  out.hidden_states = std::move(encoded.hidden_states);
  return out;
}

SentenceEncoderOutput SentenceEncoder::forward_mixed_precision(const TokenBatch& batch, int64_t num_layers,
                                                               bool with_hidden_states) {
  SentenceEncoderOutput out;
  {
    const AutocastScope autocast(batch.input_ids.device().type(), *autocast_dtype_);
    EncoderOutput encoded = transformer_->forward(batch, num_layers, with_hidden_states);
    out.sentence_embedding = embed_tokens(encoded.token_embeddings, batch.attention_mask);
    out.token_embeddings = std::move(encoded.token_embeddings);
    out.hidden_states = std::move(encoded.hidden_states);
  }
  // Losses and evaluators always see float32, whatever precision the encoder ran in.
  auto to_float = [](at::Tensor& t) { t = t.to(at::kFloat); };
  to_float(out.sentence_embedding);
  to_float(out.token_embeddings);
  for (auto& state : out.hidden_states) to_float(state);
  return out;
}

void SentenceEncoder::set_autocast(std::optional<at::ScalarType> dtype) {
  NEG_CHECK(!dtype || *dtype == at::kBFloat16 || *dtype == at::kHalf, "autocast dtype must be bfloat16 or float16");
  autocast_dtype_ = dtype;
}

at::Tensor SentenceEncoder::embed_tokens(const at::Tensor& token_embeddings, const at::Tensor& attention_mask) {
  at::Tensor x = pool(pooling_, token_embeddings, attention_mask);
  for (auto& dense : dense_) x = dense->forward(x);
  if (normalize_) x = x / x.norm(2, -1, true).clamp_min(1e-12);
  return x;
}

void SentenceEncoder::set_max_seq_length(int64_t n) {
  NEG_CHECK(n > 0 && n <= transformer_->config().max_position_embeddings, "max_seq_length ", n,
            " must be in [1, max_position_embeddings=", transformer_->config().max_position_embeddings, "]");
  max_seq_length_ = n;
}

int64_t SentenceEncoder::embedding_dimension() const {
  return dense_.empty() ? pooling_.output_dimension() : dense_.back()->options().out_features;
}

std::string SentenceEncoder::similarity_fn_name() const {
  const bool set = st_config_.is_object() && st_config_.contains("similarity_fn_name") &&
                   st_config_["similarity_fn_name"].is_string();
  return set ? st_config_["similarity_fn_name"].get<std::string>() : "cosine";
}

std::vector<std::string> SentenceEncoder::module_descriptions() const {
  std::vector<std::string> lines;
  const nlohmann::json transformer = {{"max_seq_length", max_seq_length_},
                                      {"model_type", transformer_->config().model_type}};
  lines.push_back("Transformer(" + transformer.dump() + ")");
  lines.push_back("Pooling(" + pooling_.to_json().dump() + ")");
  for (const auto& dense : dense_) lines.push_back("Dense(" + dense->options().to_json().dump() + ")");
  if (normalize_) lines.push_back("Normalize()");
  return lines;
}

std::vector<std::vector<int32_t>> SentenceEncoder::tokenize_ids(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int32_t>> ids(texts.size());
  const size_t workers = std::max<size_t>(1, std::min<size_t>(at::get_num_threads(), texts.size() / 256));
  auto work = [&](size_t w) {
    for (size_t i = w; i < texts.size(); i += workers) ids[i] = tokenizer_->encode(texts[i], max_seq_length_);
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  return ids;
}

TokenBatch SentenceEncoder::tokenize(const std::vector<std::string>& texts) const {
  return collate_tokens(tokenize_ids(texts), tokenizer_->pad_id());
}

at::Tensor SentenceEncoder::encode(const std::vector<std::string>& texts, const EncodeOptions& options) {
  NEG_CHECK(options.batch_size > 0, "batch_size must be > 0, got ", options.batch_size);
  const std::vector<std::vector<int32_t>> ids = tokenize_ids(texts);
  // Longest first, so padding inside a batch is minimal and memory peaks at the start.
  std::vector<int64_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ids[a].size() > ids[b].size(); });

  const bool was_training = is_training();
  eval();
  c10::InferenceMode inference;
  at::Tensor out = at::empty({static_cast<int64_t>(texts.size()), embedding_dimension()}, at::kFloat);
  Progress progress("encode", static_cast<int64_t>(texts.size()), options.show_progress);
  const auto device = transformer_->parameters().front().device();
  for (size_t start = 0; start < order.size(); start += options.batch_size) {
    const size_t stop = std::min(order.size(), start + options.batch_size);
    std::vector<std::vector<int32_t>> batch_ids;
    for (size_t i = start; i < stop; ++i) batch_ids.push_back(ids[order[i]]);
    const TokenBatch batch = collate_tokens(batch_ids, tokenizer_->pad_id()).to(device);
    at::Tensor embedding = read_to_host(forward(batch).sentence_embedding).to(at::kFloat);
    if (options.normalize) embedding = embedding / embedding.norm(2, -1, true).clamp_min(1e-12);
    at::Tensor rows = at::from_blob(order.data() + start, {static_cast<int64_t>(stop - start)}, at::kLong).clone();
    out.index_copy_(0, rows, embedding);
    progress.advance(static_cast<int64_t>(stop - start));
  }
  progress.finish();
  train(was_training);
  return out;
}

}  // namespace negatron::model
