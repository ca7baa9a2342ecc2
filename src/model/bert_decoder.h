#pragma once
// The decoder half of TSDAE: Hugging Face's BertLMHeadModel built with is_decoder=True and
// add_cross_attention=True, as sentence-transformers' DenoisingAutoEncoderLoss builds it.
//
// Per layer: causal self-attention -> cross-attention to the encoder states -> feed-forward, each
// post-LayerNorm with a residual; then the LM head: LayerNorm(act(dense(h))) @ word_embeddings^T + bias.
//
// The decoder shares its "body" with a BertModel: the embeddings, every layer's self-attention,
// attention output and feed-forward, and the LM head's output projection (= the word embeddings,
// HF's tie_word_embeddings). With tie_encoder_decoder (the default) that body is the encoder being
// trained itself, so gradients from the decoder flow into the encoder's parameters; untied it is a
// separately loaded BertModel. The body's tensors are looked up by their HF names at each forward
// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", ...) and used
// functionally, so the encoder's classes need no decoder mode.
//
// This module owns only what BertLMHeadModel adds to BertModel (HF names, `bert.` prefix included):
//   bert.encoder.layer.<i>.crossattention.self.{query,key,value}.{weight,bias}
//   bert.encoder.layer.<i>.crossattention.output.{dense,LayerNorm}.{weight,bias}
//   cls.predictions.transform.{dense,LayerNorm}.{weight,bias}, cls.predictions.bias
// initialized as HF's _init_weights does (Linear ~ N(0, initializer_range), bias 0; LayerNorm 1/0;
// cls.predictions.bias 0). load_available() takes any of them a checkpoint holds (a BertForMaskedLM
// checkpoint carries cls.predictions.*, which HF would load too).
#include <torch/nn/module.h>

#include <string>

#include "model/safetensors.h"
#include "model/transformer.h"

namespace negatron::model {

class BertDecoder : public torch::nn::Module {
 public:
  explicit BertDecoder(const TransformerConfig& config);

  /// Logits [B, T, vocab] for decoder input ids [B, T] (token type 0, positions 0..T-1), attending
  /// causally to themselves and to encoder_states [B, S, D] where encoder_mask [B, S] is nonzero.
  /// `body` is a BertModel (the encoder when tied) with this decoder's config.
  at::Tensor forward(TransformerEncoder& body, const at::Tensor& input_ids, const at::Tensor& encoder_states,
                     const at::Tensor& encoder_mask);

  /// Copies those of this module's tensors that `weights` holds (with or without the "bert." prefix
  /// on the cross-attention names); returns how many were copied.
  int64_t load_available(const TensorMap& weights);

  const TransformerConfig& config() const { return config_; }

 private:
  TransformerConfig config_;
};

}  // namespace negatron::model
