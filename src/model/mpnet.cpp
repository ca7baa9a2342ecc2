#include "model/mpnet.h"

#include <cmath>
#include <limits>

#include "common/check.h"

namespace negatron::model {
namespace {

// HF's MPNetEncoder buckets with its default of 32, whatever relative_attention_num_buckets says;
// the embedding table has relative_attention_num_buckets rows.
constexpr int64_t kBucketCount = 32;
constexpr int64_t kMaxDistance = 128;

// Embeddings whose padding row gets no gradient, as nn.Embedding(padding_idx=1) in HF.
torch::nn::Embedding make_padded_embedding(int64_t rows, int64_t dim) {
  return torch::nn::Embedding(torch::nn::EmbeddingOptions(rows, dim).padding_idx(kMPNetPaddingIndex));
}

}  // namespace

at::Tensor mpnet_position_ids(const at::Tensor& input_ids) {
  at::Tensor is_token = input_ids.ne(kMPNetPaddingIndex).to(at::kLong);
  return at::cumsum(is_token, 1) * is_token + kMPNetPaddingIndex;
}

at::Tensor mpnet_relative_position_bucket(const at::Tensor& relative_position, int64_t num_buckets,
                                          int64_t max_distance) {
  const int64_t per_direction = num_buckets / 2;
  const int64_t max_exact = per_direction / 2;
  at::Tensor distance = -relative_position;  // query minus key: positive when the key is earlier
  at::Tensor bucket = distance.lt(0).to(at::kLong) * per_direction;
  distance = distance.abs();
  // Same float32 arithmetic as HF, so every bucket boundary falls on the same distance.
  at::Tensor log_ratio = at::log(distance.to(at::kFloat) / max_exact) /
                         std::log(static_cast<double>(max_distance) / max_exact);
  at::Tensor far_bucket = (log_ratio * (per_direction - max_exact)).to(at::kLong) + max_exact;
  far_bucket = at::clamp_max(far_bucket, per_direction - 1);
  return bucket + at::where(distance.lt(max_exact), distance, far_bucket);
}

MPNetLayer::MPNetLayer(const TransformerConfig& c) {
  auto attention = add_group(*this, "attention");
  attn_ = attention->register_module("attn", std::make_shared<SelfAttention>(c, "q", "k", "v", "o"));
  attention_norm_ = attention->register_module("LayerNorm", make_norm(c));
  ffn_ = FeedForward(*this, c);
  dropout_ = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

at::Tensor MPNetLayer::forward(const at::Tensor& x, const at::Tensor& scores_bias, const TokenPacking* packing) {
  at::Tensor attended = attention_norm_(dropout_(attn_->forward(x, scores_bias, {}, packing)) + x);
  return ffn_.forward(attended, dropout_);
}

MPNetModel::MPNetModel(const TransformerConfig& c) : config_(c) {
  NEG_CHECK(c.relative_attention_num_buckets >= kBucketCount, c.origin, ": MPNet relative_attention_num_buckets ",
            c.relative_attention_num_buckets, " is below the ", kBucketCount, " buckets MPNet computes");
  NEG_CHECK(c.max_position_embeddings > kMPNetPaddingIndex + 1, c.origin, ": MPNet max_position_embeddings ",
            c.max_position_embeddings, " leaves no room past the padding index");
  auto embeddings = add_group(*this, "embeddings");
  word_ = embeddings->register_module("word_embeddings", make_padded_embedding(c.vocab_size, c.hidden_size));
  position_ = embeddings->register_module("position_embeddings",
                                          make_padded_embedding(c.max_position_embeddings, c.hidden_size));
  embedding_norm_ = embeddings->register_module("LayerNorm", make_norm(c));
  dropout_ = register_module("dropout", Dropout(c.hidden_dropout_prob));
  auto encoder = add_group(*this, "encoder");
  auto layer_list = add_group(*encoder, "layer");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers_.push_back(layer_list->register_module(std::to_string(i), std::make_shared<MPNetLayer>(c)));
  }
  relative_bias_ = encoder->register_module(
      "relative_attention_bias", torch::nn::Embedding(c.relative_attention_num_buckets, c.num_attention_heads));
  // MPNetModel's pooler is unused by sentence embeddings, but kept so checkpoints round-trip.
  auto pooler = add_group(*this, "pooler");
  pooler_ = pooler->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

bool MPNetModel::is_ignorable_key(const std::string& key) const {
  return key == "embeddings.position_ids" || key.rfind("lm_head.", 0) == 0;
}

bool MPNetModel::is_optional_key(const std::string& key) const { return key.rfind("pooler.", 0) == 0; }

at::Tensor MPNetModel::attention_bias(const at::Tensor& attention_mask, int64_t length, const at::Tensor& like) {
  at::Tensor positions = at::arange(length, at::TensorOptions().dtype(at::kLong).device(like.device()));
  at::Tensor relative = positions.unsqueeze(0) - positions.unsqueeze(1);  // [query, key]: key - query
  at::Tensor bucket = mpnet_relative_position_bucket(relative, kBucketCount, kMaxDistance);
  at::Tensor bias = relative_bias_(bucket).permute({2, 0, 1}).unsqueeze(0);  // [1, H, T, T]
  // Padded keys get the lowest float instead of bias + lowest: the same zero weight after softmax,
  // and no -inf row can occur because the first token is never padding.
  const double lowest = -std::numeric_limits<float>::max();
  return bias.masked_fill(make_key_mask(attention_mask).logical_not(), lowest).to(like.dtype());
}

EncoderOutput MPNetModel::forward(const TokenBatch& batch, int64_t num_layers, bool with_hidden_states) {
  const int64_t length = batch.input_ids.size(1);
  NEG_CHECK(length + kMPNetPaddingIndex < config_.max_position_embeddings, "sequence of ", length,
            " tokens needs positions up to ", length + kMPNetPaddingIndex, ", beyond MPNet's max_position_embeddings ",
            config_.max_position_embeddings);
  const TokenPacking packing(layout_of(batch));
  at::Tensor x = packing.pack(word_(batch.input_ids) + position_(mpnet_position_ids(batch.input_ids)));
  x = dropout_(embedding_norm_(x));
  EncoderOutput out;
  if (with_hidden_states) out.hidden_states.push_back(packing.unpack(x));
  const at::Tensor scores_bias = attention_bias(batch.attention_mask, length, x);
  const int64_t count = num_layers > 0 ? std::min<int64_t>(num_layers, layers_.size()) : layers_.size();
  for (int64_t i = 0; i < count; ++i) {
    x = layers_[i]->forward(x, scores_bias, &packing);
    if (with_hidden_states) out.hidden_states.push_back(packing.unpack(x));
  }
  out.token_embeddings = with_hidden_states ? out.hidden_states.back() : packing.unpack(x);
  return out;
}

}  // namespace negatron::model
