#include "losses/denoising_auto_encoder.h"

#include <ATen/core/Reduction.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/check.h"
#include "common/log.h"
#include "losses/registry.h"
#include "model/bert_decoder.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"

namespace negatron::losses {
namespace {

namespace fs = std::filesystem;

/// The folder holding the model's Transformer module (config.json, model.safetensors): the
/// Transformer entry of modules.json, else the folder itself (a plain HF folder).
fs::path transformer_folder(const fs::path& dir) {
  std::ifstream in(dir / "modules.json");
  if (!in) return dir;
  nlohmann::json modules;
  try {
    modules = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    return dir;
  }
  if (!modules.is_array()) return dir;
  for (const auto& entry : modules) {
    const std::string type = entry.value("type", "");
    if (type.size() >= 11 && type.compare(type.size() - 11, 11, "Transformer") == 0) {
      return dir / entry.value("path", "");
    }
  }
  return dir;
}

model::TensorMap checkpoint_weights(const fs::path& folder) {
  const fs::path file = folder / "model.safetensors";
  return fs::exists(file) ? model::load_safetensors(file.string()) : model::TensorMap{};
}

class DenoisingAutoEncoderLoss : public Loss {
 public:
  DenoisingAutoEncoderLoss(model::SentenceEncoder& encoder, const std::string& decoder_path, bool tie) : tied_(tie) {
    spec_ = {"DenoisingAutoEncoderLoss", 2, 2, LabelKind::kNone, "(damaged_input, original_input) pairs | none"};
    const model::TransformerConfig& encoder_config = encoder.transformer().config();
    holder_ = std::make_shared<torch::nn::Module>();
    fs::path decoder_folder;
    model::TransformerConfig decoder_config;
    if (tied_) {
      NEG_CHECK(encoder_config.model_type == "bert", "DenoisingAutoEncoderLoss: tie_encoder_decoder needs a BERT "
                "encoder (the decoder is BertLMHeadModel); this model is model_type '", encoder_config.model_type, "'");
      if (!decoder_path.empty()) {
        log::warn0("DenoisingAutoEncoderLoss: tie_encoder_decoder=true, so decoder_name_or_path '", decoder_path,
                   "' is ignored (the decoder is the encoder itself)");
      }
      decoder_folder = transformer_folder(encoder.source_dir());
      decoder_config = encoder_config;
    } else {
      decoder_folder = transformer_folder(decoder_path);
      NEG_CHECK(fs::is_directory(decoder_folder) && fs::exists(decoder_folder / "config.json"),
                "DenoisingAutoEncoderLoss: decoder_name_or_path '", decoder_path, "' must be a local BERT model folder "
                "with config.json and model.safetensors (hub names are not resolved)");
      decoder_config = model::TransformerConfig::from_file((decoder_folder / "config.json").string());
      NEG_CHECK(decoder_config.model_type == "bert", "DenoisingAutoEncoderLoss: decoder_name_or_path '", decoder_path,
                "' is model_type '", decoder_config.model_type, "'; only BERT decoders (BertLMHeadModel) are supported");
      const model::Tokenizer decoder_tokenizer = model::Tokenizer::from_folder(decoder_folder.string());
      NEG_CHECK(decoder_tokenizer.fingerprint() == encoder.tokenizer().fingerprint(),
                "DenoisingAutoEncoderLoss: the decoder at decoder_name_or_path '", decoder_path, "' has another "
                "tokenizer than the encoder; re-tokenizing for the decoder is not supported (use the same tokenizer, "
                "or tie_encoder_decoder: true)");
    }
    NEG_CHECK(decoder_config.hidden_size == encoder_config.hidden_size, "DenoisingAutoEncoderLoss: hidden sizes do not "
              "match (encoder ", encoder_config.hidden_size, ", decoder ", decoder_config.hidden_size, ")");
    decoder_ = holder_->register_module("decoder", std::make_shared<model::BertDecoder>(decoder_config));
    const model::TensorMap weights = checkpoint_weights(decoder_folder);
    if (!tied_) {
      NEG_CHECK(!weights.empty(), "DenoisingAutoEncoderLoss: no model.safetensors in ", decoder_folder.string());
      body_ = model::make_transformer(decoder_config);
      holder_->register_module("body", body_);  // named "decoder.bert.*" in named_parameters(), as ST's
      body_->load_weights(weights, (decoder_folder / "model.safetensors").string());
    }
    const int64_t loaded = decoder_->load_available(weights);
    if (loaded > 0) log::info0("DenoisingAutoEncoderLoss: ", loaded, " decoder tensor(s) from ", decoder_folder.string());
    const at::Tensor reference = encoder.parameters().front();
    holder_->to(reference.device(), reference.scalar_type());
    pad_id_ = encoder.tokenizer().pad_id();
  }

  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch&) override {
    NEG_FAIL("DenoisingAutoEncoderLoss works at model level only: it decodes the original tokens from the "
             "embedding of the damaged text (train it with `negatron train`, or `negatron loss --model`)");
  }

  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    validate(batch);
    const model::TokenBatch& source = batch.columns[0];
    const model::TokenBatch& target = batch.columns[1];
    const at::Tensor reps = embed(model, source);  // [B, d]
    NEG_CHECK(reps.size(1) == decoder_->config().hidden_size, "DenoisingAutoEncoderLoss: sentence embeddings of "
              "width ", reps.size(1), " cannot be cross-attended by a decoder of hidden_size ",
              decoder_->config().hidden_size, " (a Dense module changes the width?)");
    const at::Tensor reference = decoder_->parameters().front();
    if (reference.device() != reps.device() || reference.scalar_type() != reps.scalar_type()) {
      holder_->to(reps.device(), reps.scalar_type());
    }
    holder_->train(model.is_training());
    const at::Tensor ids = target.input_ids.to(reps.device());
    const int64_t length = ids.size(1);
    const at::Tensor decoder_input = ids.slice(1, 0, length - 1);
    const at::Tensor labels = ids.slice(1, 1, length);
    // ST passes attention_mask[:, 0:1] of the damaged text as the encoder mask: always 1.
    const at::Tensor encoder_mask = source.attention_mask.to(reps.device()).slice(1, 0, 1);
    model::TransformerEncoder& body = tied_ ? model.transformer() : *body_;
    const at::Tensor logits = decoder_->forward(body, decoder_input, reps.unsqueeze(1), encoder_mask);
    return denoising_reconstruction_loss(logits, labels, pad_id_);
  }

  std::vector<at::Tensor> parameters() override {
    std::vector<at::Tensor> out;
    for (auto& item : named_parameters()) out.push_back(item.second);
    return out;
  }

  std::vector<std::pair<std::string, at::Tensor>> named_parameters() override {
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (auto& item : holder_->named_parameters(true)) {
      std::string name = item.key();
      if (name.rfind("body.", 0) == 0) {
        // The untied body's pooler is not part of BertLMHeadModel (it never gets a gradient).
        if (name.rfind("body.pooler.", 0) == 0) continue;
        name = "decoder.bert." + name.substr(5);
      }
      out.emplace_back(name, item.value());
    }
    return out;
  }

 private:
  LossSpec spec_;
  bool tied_;
  int64_t pad_id_ = 0;
  std::shared_ptr<torch::nn::Module> holder_;
  std::shared_ptr<model::BertDecoder> decoder_;
  std::shared_ptr<model::TransformerEncoder> body_;  // untied only
};

std::unique_ptr<Loss> make_denoising_auto_encoder(const DenoisingAutoEncoderOptions& options, const LossArgs& args) {
  NEG_CHECK(args.model != nullptr, "DenoisingAutoEncoderLoss needs the model (model level only: it trains a decoder "
            "on the encoder's embeddings)");
  return std::make_unique<DenoisingAutoEncoderLoss>(*args.model, options.decoder_name_or_path.value_or(""),
                                                    options.tie_encoder_decoder);
}

NEGATRON_REGISTER_LOSS("DenoisingAutoEncoderLoss", make_denoising_auto_encoder);

}  // namespace

void DenoisingAutoEncoderOptions::validate() const {
  NEG_CHECK(tie_encoder_decoder || decoder_name_or_path.value_or("") != "",
            "decoder_name_or_path is required when tie_encoder_decoder is false");
}

at::Tensor denoising_reconstruction_loss(const at::Tensor& logits, const at::Tensor& labels, int64_t pad_id) {
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}), {}, at::Reduction::Mean,
                                pad_id);
}

}  // namespace negatron::losses
