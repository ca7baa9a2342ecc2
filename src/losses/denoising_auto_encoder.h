#pragma once
// DenoisingAutoEncoderLoss (TSDAE): the sentence embedding of a damaged sentence must let a decoder
// reconstruct the original sentence. The decoder is BERT's BertLMHeadModel (causal self-attention,
// cross-attention to the embedding as a one-token encoder state, LM head; model/bert_decoder.h):
//   reps   = model(damaged)                                   [B, d] (d must equal hidden_size)
//   logits = decoder(original_ids[:, :-1], encoder_states = reps[:, None])
//   loss   = cross_entropy(logits, original_ids[:, 1:]), ignoring the pad id (mean over real tokens)
// Requirements: a BERT encoder (ST: any model with an XXXLMHead class; here BERT only); a large
//   unlabelled corpus; the damaged text is made by `negatron prepare --deletion-noise` (data/deletion_noise.h),
//   ST's DenoisingAutoEncoderDataset.
// Inputs: (damaged_input, original_input) pairs | none. Model level only (the loss decodes tokens).
// Parameters: DenoisingAutoEncoderOptions. Tied (default): the decoder reuses the encoder's embeddings, self-attention, feed-forward and word
//   embeddings (= LM output projection); a decoder_name_or_path is then ignored with a warning, as ST does.
//   Untied: decoder_name_or_path must be a local BERT folder (config.json + model.safetensors) whose
//   tokenizer equals the encoder's (ST would re-tokenize the text for another tokenizer; refused here).
// Loss-owned parameters (trained, not saved with the model, as in ST): per layer the cross-attention
//   (decoder.bert.encoder.layer.<i>.crossattention.*), the LM head transform and bias
//   (decoder.cls.predictions.*), and, untied, the decoder's own BERT body (decoder.bert.*). They start
//   as HF initializes them, or from the checkpoint when it holds them (a BertForMaskedLM's cls.*).
// Relations: unsupervised, like ContrastiveTensionLoss; usually followed by supervised fine-tuning.
// Distributed: no gathering; each rank's mean over its tokens (ST's per-device loss).
// Reference: Wang, Reimers & Gurevych 2021 (TSDAE, arXiv:2104.06979);
//   sentence_transformers/sentence_transformer/losses/denoising_auto_encoder.py (ST 6.0.1).
#include <memory>
#include <optional>
#include <string>

#include "losses/loss.h"

namespace negatron::losses {

struct DenoisingAutoEncoderOptions {
  std::optional<std::string> decoder_name_or_path;
  bool tie_encoder_decoder = true;
  template <class V>
  void visit(V& v) {
    v("decoder_name_or_path", decoder_name_or_path, "local BERT folder of an untied decoder (null: the encoder's)");
    v("tie_encoder_decoder", tie_encoder_decoder, "the decoder shares the encoder's weights");
  }
  void validate() const;
};

/// Token-level cross-entropy of `logits` [B, T, V] against `labels` [B, T], ignoring `pad_id`.
at::Tensor denoising_reconstruction_loss(const at::Tensor& logits, const at::Tensor& labels, int64_t pad_id);

}  // namespace negatron::losses
