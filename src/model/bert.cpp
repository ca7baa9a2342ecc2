#include "model/bert.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/check.h"

namespace negatron::model {
std::shared_ptr<torch::nn::Module> add_group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::LayerNorm make_norm(const TransformerConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}

at::Tensor make_key_mask(const at::Tensor& attention_mask) {
  return attention_mask.to(at::kBool).unsqueeze(1).unsqueeze(2);
}

SelfAttention::SelfAttention(const TransformerConfig& c, const char* q, const char* k, const char* v, const char* o)
    : heads_(c.num_attention_heads), dropout_(c.attention_probs_dropout_prob) {
  query_ = register_module(q, torch::nn::Linear(c.hidden_size, c.hidden_size));
  key_ = register_module(k, torch::nn::Linear(c.hidden_size, c.hidden_size));
  value_ = register_module(v, torch::nn::Linear(c.hidden_size, c.hidden_size));
  if (o) out_ = register_module(o, torch::nn::Linear(c.hidden_size, c.hidden_size));
}

namespace {

// Rows per attention chunk on packed input. Attention needs the padded layout; padding a whole
// batch to its longest row (a stacked batch: to the longest row of every column) makes attention's
// elementwise work (mask, softmax, dropout over [B, H, T, T]) grow with the longest row. Rows sorted
// by length go in chunks instead, each padded to its own longest row. Training only: in inference
// a row's bits would then depend on its chunk-mates' lengths, and identical texts encoded in one
// batch must embed identically (exact score ties in retrieval evaluation, as sentence-transformers
// has them); encode() sorts by length, so an inference batch has little padding to save anyway.
constexpr int64_t kAttentionChunkRows = 32;

}  // namespace

at::Tensor dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                                 double p) {
  if (p == 0.0 || !q.is_cpu()) return at::scaled_dot_product_attention(q, k, v, mask, p);
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  if (mask.defined() && mask.scalar_type() == at::kBool) {
    scores.masked_fill_(mask.logical_not(), -std::numeric_limits<double>::infinity());
  } else if (mask.defined()) {
    scores.add_(mask);
  }
  return at::matmul(parallel_dropout(at::softmax(scores, -1), p, true), v);
}

at::Tensor SelfAttention::forward(const at::Tensor& x, const at::Tensor& key_mask, const at::Tensor& bias,
                                  const TokenPacking* packing) {
  at::Tensor mask = key_mask;
  if (bias.defined()) {
    // Fold the boolean key mask into the additive bias; -inf rows cannot occur (CLS is never masked).
    const double lowest = -std::numeric_limits<float>::max();
    mask = bias.masked_fill(key_mask.logical_not(), lowest).to(x.dtype());
  }
  const double p = is_training() ? dropout_ : 0.0;
  const at::Tensor q = query_(x), k = key_(x), v = value_(x);
  const int64_t rows = packing ? packing->layout().rows() : 0;
  if (packing && is_training() && packing->has_padding() && rows > kAttentionChunkRows) {
    const AttentionChunks& plan = packing->attention_chunks(kAttentionChunkRows, x.device());
    std::vector<at::Tensor> outputs;
    for (const AttentionChunk& chunk : plan.chunks) {
      auto split_heads = [&](const at::Tensor& t) {
        return chunk.unpack(t).view({chunk.row_count, chunk.width, heads_, -1}).transpose(1, 2);
      };
      const at::Tensor context =
          dot_product_attention(split_heads(q), split_heads(k), split_heads(v), chunk.cut_mask(mask), p);
      outputs.push_back(chunk.pack(context.transpose(1, 2).flatten(2)));
    }
    const at::Tensor context = plan.to_packed_order(at::cat(outputs));
    return out_ ? out_(context) : context;
  }
  auto split_heads = [&](const at::Tensor& t) {
    const at::Tensor padded = packing ? packing->unpack(t) : t;  // [B, T, D]
    return padded.view({padded.size(0), padded.size(1), heads_, -1}).transpose(1, 2);
  };
  at::Tensor context = dot_product_attention(split_heads(q), split_heads(k), split_heads(v), mask, p);
  context = context.transpose(1, 2).flatten(2);  // [B, T, D]
  if (packing) context = packing->pack(context);
  return out_ ? out_(context) : context;
}

FeedForward::FeedForward(torch::nn::Module& layer, const TransformerConfig& c) : act(c.hidden_act) {
  intermediate = add_group(layer, "intermediate")->register_module("dense",
                                                                   torch::nn::Linear(c.hidden_size, c.intermediate_size));
  auto output_group = add_group(layer, "output");
  output = output_group->register_module("dense", torch::nn::Linear(c.intermediate_size, c.hidden_size));
  norm = output_group->register_module("LayerNorm", make_norm(c));
}

at::Tensor FeedForward::forward(const at::Tensor& x, Dropout& dropout) {
  return norm(dropout(output(apply_activation(act, intermediate(x)))) + x);
}

BertLayer::BertLayer(const TransformerConfig& c) {
  auto attention = add_group(*this, "attention");
  attn_ = attention->register_module("self", std::make_shared<SelfAttention>(c, "query", "key", "value"));
  auto attention_output = add_group(*attention, "output");
  attention_dense_ = attention_output->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  attention_norm_ = attention_output->register_module("LayerNorm", make_norm(c));
  ffn_ = FeedForward(*this, c);
  dropout_ = register_module("dropout", Dropout(c.hidden_dropout_prob));
}

at::Tensor BertLayer::forward(const at::Tensor& x, const at::Tensor& key_mask, const TokenPacking* packing) {
  at::Tensor attended = attention_norm_(dropout_(attention_dense_(attn_->forward(x, key_mask, {}, packing))) + x);
  return ffn_.forward(attended, dropout_);
}

BertModel::BertModel(const TransformerConfig& c) : config_(c) {
  NEG_CHECK(c.position_embedding_type == "absolute", "BERT position_embedding_type '", c.position_embedding_type,
            "' is not supported (only 'absolute')");
  auto embeddings = add_group(*this, "embeddings");
  word_ = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)));
  position_ = embeddings->register_module("position_embeddings",
                                          torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_ = embeddings->register_module("token_type_embeddings",
                                            torch::nn::Embedding(std::max<int64_t>(c.type_vocab_size, 1), c.hidden_size));
  embedding_norm_ = embeddings->register_module("LayerNorm", make_norm(c));
  dropout_ = register_module("dropout", Dropout(c.hidden_dropout_prob));
  auto encoder = add_group(*this, "encoder");
  auto layer_list = add_group(*encoder, "layer");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers_.push_back(layer_list->register_module(std::to_string(i), std::make_shared<BertLayer>(c)));
  }
  // BertModel's pooler is unused by sentence embeddings, but kept so checkpoints round-trip.
  auto pooler = add_group(*this, "pooler");
  pooler_ = pooler->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

bool BertModel::is_ignorable_key(const std::string& key) const {
  return key == "embeddings.position_ids" || key.rfind("cls.", 0) == 0;
}

bool BertModel::is_optional_key(const std::string& key) const { return key.rfind("pooler.", 0) == 0; }

EncoderOutput BertModel::forward(const TokenBatch& batch, int64_t num_layers, bool with_hidden_states) {
  const int64_t length = batch.input_ids.size(1);
  NEG_CHECK(length <= config_.max_position_embeddings, "sequence of ", length,
            " tokens exceeds max_position_embeddings ", config_.max_position_embeddings);
  at::Tensor positions = at::arange(length, batch.input_ids.options()).unsqueeze(0);
  at::Tensor token_types =
      batch.token_type_ids.defined() ? batch.token_type_ids : at::zeros_like(batch.input_ids);
  const TokenPacking packing(layout_of(batch));
  at::Tensor x = packing.pack(word_(batch.input_ids) + token_type_(token_types) + position_(positions));
  x = dropout_(embedding_norm_(x));
  EncoderOutput out;
  if (with_hidden_states) out.hidden_states.push_back(packing.unpack(x));
  const at::Tensor key_mask = make_key_mask(batch.attention_mask);
  const int64_t count = num_layers > 0 ? std::min<int64_t>(num_layers, layers_.size()) : layers_.size();
  for (int64_t i = 0; i < count; ++i) {
    x = layers_[i]->forward(x, key_mask, &packing);
    if (with_hidden_states) out.hidden_states.push_back(packing.unpack(x));
  }
  out.token_embeddings = with_hidden_states ? out.hidden_states.back() : packing.unpack(x);
  return out;
}

}  // namespace negatron::model
