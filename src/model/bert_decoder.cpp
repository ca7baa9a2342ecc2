#include "model/bert_decoder.h"

#include <torch/nn/init.h>

#include <functional>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "common/check.h"
#include "model/dropout.h"

namespace negatron::model {
namespace {

std::shared_ptr<torch::nn::Module> child(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::nn::Linear new_linear(torch::nn::Module& parent, const std::string& name, int64_t in, int64_t out,
                             double std) {
  auto linear = parent.register_module(name, torch::nn::Linear(in, out));
  torch::NoGradGuard no_grad;
  linear->weight.normal_(0.0, std);
  linear->bias.zero_();
  return linear;
}

torch::nn::LayerNorm new_norm(torch::nn::Module& parent, const TransformerConfig& c) {
  // LayerNorm starts at weight 1, bias 0, as HF initializes it.
  return parent.register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

std::string layer_key(int64_t i, const std::string& rest) { return "encoder.layer." + std::to_string(i) + "." + rest; }

}  // namespace

BertDecoder::BertDecoder(const TransformerConfig& c) : config_(c) {
  NEG_CHECK(c.model_type == "bert", "the TSDAE decoder is BERT's BertLMHeadModel; model_type '", c.model_type,
            "' is not supported (", c.origin, ")");
  NEG_CHECK(c.position_embedding_type == "absolute", "BERT decoder: position_embedding_type '",
            c.position_embedding_type, "' is not supported (only 'absolute')");
  NEG_CHECK(c.hidden_size % c.num_attention_heads == 0, "BERT decoder: hidden_size ", c.hidden_size,
            " is not a multiple of num_attention_heads ", c.num_attention_heads);
  const double std = c.raw.is_object() && c.raw.contains("initializer_range") && c.raw["initializer_range"].is_number()
                         ? c.raw["initializer_range"].get<double>()
                         : 0.02;
  const int64_t d = c.hidden_size;
  auto layers = child(*child(*child(*this, "bert"), "encoder"), "layer");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    auto cross = child(*child(*layers, std::to_string(i)), "crossattention");
    auto self = child(*cross, "self");
    new_linear(*self, "query", d, d, std);
    new_linear(*self, "key", d, d, std);
    new_linear(*self, "value", d, d, std);
    auto output = child(*cross, "output");
    new_linear(*output, "dense", d, d, std);
    new_norm(*output, c);
  }
  auto predictions = child(*child(*this, "cls"), "predictions");
  auto transform = child(*predictions, "transform");
  new_linear(*transform, "dense", d, d, std);
  new_norm(*transform, c);
  predictions->register_parameter("bias", at::zeros({c.vocab_size}));
}

int64_t BertDecoder::load_available(const TensorMap& weights) {
  torch::NoGradGuard no_grad;
  int64_t copied = 0;
  for (auto& item : named_parameters(true)) {
    const std::string& key = item.key();
    auto it = weights.find(key);
    if (it == weights.end() && key.rfind("bert.", 0) == 0) it = weights.find(key.substr(5));
    if (it == weights.end()) continue;
    NEG_CHECK(it->second.sizes() == item.value().sizes(), "decoder tensor '", it->first, "' has shape ",
              it->second.sizes(), ", the decoder expects ", item.value().sizes());
    item.value().copy_(it->second.to(item.value().dtype()));
    ++copied;
  }
  return copied;
}

at::Tensor BertDecoder::forward(TransformerEncoder& body, const at::Tensor& input_ids,
                                const at::Tensor& encoder_states, const at::Tensor& encoder_mask) {
  const TransformerConfig& c = config_;
  NEG_CHECK(input_ids.dim() == 2 && encoder_states.dim() == 3, "BERT decoder: expected input ids [B, T] and encoder "
            "states [B, S, D], got ", input_ids.sizes(), " and ", encoder_states.sizes());
  NEG_CHECK(encoder_states.size(2) == c.hidden_size, "BERT decoder: encoder states of width ", encoder_states.size(2),
            " do not match the decoder's hidden_size ", c.hidden_size, " (Hidden sizes do not match)");
  const int64_t batch = input_ids.size(0), length = input_ids.size(1), sources = encoder_states.size(1);
  NEG_CHECK(length <= c.max_position_embeddings, "BERT decoder: ", length, " tokens exceed max_position_embeddings ",
            c.max_position_embeddings);
  const int64_t heads = c.num_attention_heads, head_dim = c.hidden_size / heads;
  const bool training = is_training();
  const double hidden_p = training ? c.hidden_dropout_prob : 0.0;
  const double attention_p = training ? c.attention_probs_dropout_prob : 0.0;

  auto shared = body.named_parameters(true);
  auto mine = named_parameters(true);
  auto get = [](torch::OrderedDict<std::string, at::Tensor>& from, const std::string& key, const char* whose) {
    const at::Tensor* t = from.find(key);
    NEG_CHECK(t != nullptr, "BERT decoder: the ", whose, " has no parameter '", key, "'");
    return *t;
  };
  auto body_param = [&](const std::string& key) { return get(shared, key, "shared BERT body"); };
  auto own = [&](const std::string& key) { return get(mine, key, "decoder"); };
  auto linear = [](const at::Tensor& x, const std::function<at::Tensor(const std::string&)>& param,
                   const std::string& prefix) { return at::linear(x, param(prefix + ".weight"), param(prefix + ".bias")); };
  auto norm = [&](const at::Tensor& x, const std::function<at::Tensor(const std::string&)>& param,
                  const std::string& prefix) {
    return at::layer_norm(x, {c.hidden_size}, param(prefix + ".weight"), param(prefix + ".bias"), c.layer_norm_eps);
  };
  auto split = [&](const at::Tensor& t, int64_t rows) {
    return t.view({batch, rows, heads, head_dim}).transpose(1, 2);
  };
  auto merge = [&](const at::Tensor& t) { return t.transpose(1, 2).reshape({batch, length, c.hidden_size}); };

  // Embeddings: word + token type 0 + absolute position, LayerNorm, dropout.
  const at::Tensor word = body_param("embeddings.word_embeddings.weight");
  const at::Tensor positions = at::arange(length, input_ids.options().dtype(at::kLong));
  at::Tensor x = at::embedding(word, input_ids) + body_param("embeddings.token_type_embeddings.weight")[0] +
                 at::embedding(body_param("embeddings.position_embeddings.weight"), positions).unsqueeze(0);
  x = parallel_dropout(norm(x, body_param, "embeddings.LayerNorm"), hidden_p, training);

  const at::Tensor cross_mask = encoder_mask.ne(0).view({batch, 1, 1, sources});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    // Causal self-attention (shared weights).
    const std::string self = layer_key(i, "attention.");
    at::Tensor context = at::scaled_dot_product_attention(
        split(linear(x, body_param, self + "self.query"), length), split(linear(x, body_param, self + "self.key"), length),
        split(linear(x, body_param, self + "self.value"), length), {}, attention_p, /*is_causal=*/true);
    x = norm(parallel_dropout(linear(merge(context), body_param, self + "output.dense"), hidden_p, training) + x, body_param,
             self + "output.LayerNorm");
    // Cross-attention to the encoder states (the decoder's own weights).
    const std::string cross = "bert." + layer_key(i, "crossattention.");
    context = at::scaled_dot_product_attention(split(linear(x, own, cross + "self.query"), length),
                                               split(linear(encoder_states, own, cross + "self.key"), sources),
                                               split(linear(encoder_states, own, cross + "self.value"), sources),
                                               cross_mask, attention_p);
    x = norm(parallel_dropout(linear(merge(context), own, cross + "output.dense"), hidden_p, training) + x, own,
             cross + "output.LayerNorm");
    // Feed-forward (shared weights).
    at::Tensor hidden = apply_activation(c.hidden_act, linear(x, body_param, layer_key(i, "intermediate.dense")));
    x = norm(parallel_dropout(linear(hidden, body_param, layer_key(i, "output.dense")), hidden_p, training) + x, body_param,
             layer_key(i, "output.LayerNorm"));
  }
  // LM head: transform, then the tied output projection (word embeddings) plus the decoder's bias.
  at::Tensor h = apply_activation(c.hidden_act, linear(x, own, "cls.predictions.transform.dense"));
  h = norm(h, own, "cls.predictions.transform.LayerNorm");
  return at::linear(h, word, own("cls.predictions.bias"));
}

}  // namespace negatron::model
