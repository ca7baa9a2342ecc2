// Reading and writing sentence-transformers model folders.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/json_file.h"
#include "common/log.h"
#include "common/owned_folder.h"
#include "common/remove_tree.h"
#include "common/version.h"
#include "model/module_config.h"
#include "model/safetensors.h"
#include "model/sentence_encoder.h"

namespace fs = std::filesystem;

namespace negatron::model {
namespace {

constexpr const char* kTransformerType = "sentence_transformers.base.modules.transformer.Transformer";
constexpr const char* kPoolingType = "sentence_transformers.sentence_transformer.modules.pooling.Pooling";
constexpr const char* kDenseType = "sentence_transformers.base.modules.dense.Dense";
constexpr const char* kNormalizeType = "sentence_transformers.base.modules.normalize.Normalize";
constexpr const char* kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json", "vocab.txt",
                                           "special_tokens_map.json"};
constexpr const char* kStConfigFile = "config_sentence_transformers.json";

void write_json(const fs::path& path, const nlohmann::json& json) {
  write_file_atomically(path.string(), json.dump(2) + "\n");
}

void copy_file_atomically(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  NEG_CHECK(in, "cannot open ", from.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  NEG_CHECK(!in.bad(), "cannot read ", from.string());
  write_file_atomically(to.string(), bytes.str());
}

/// A folder negatron saved before the ownership marker existed: its
/// config_sentence_transformers.json names negatron's version.
bool has_negatron_model_layout(const std::string& dir) {
  try {
    const nlohmann::json st = read_json_file(dir + "/" + kStConfigFile);
    const nlohmann::json* version = JsonFile::find(st, "__version__");
    return version && JsonFile::find(*version, "negatron");
  } catch (const Error&) {
    return false;
  }
}

int64_t resolve_max_seq_length(const fs::path& dir, const TransformerConfig& config) {
  const fs::path sbert = dir / "sentence_bert_config.json";
  if (fs::exists(sbert)) {
    const JsonFile file(sbert.string());
    const auto value = file.get_or<int64_t>(read_json_file(sbert.string()), "max_seq_length", 0);
    if (value != 0) {
      NEG_CHECK(value > 0 && value <= config.max_position_embeddings, sbert.string(), ": max_seq_length ", value,
                " must be in [1, max_position_embeddings=", config.max_position_embeddings, "]");
      return value;
    }
  }
  const fs::path tok = dir / "tokenizer_config.json";
  if (fs::exists(tok)) {
    const nlohmann::json json = read_json_file(tok.string());
    // HF writes a huge sentinel (1e30) when the tokenizer has no limit.
    const nlohmann::json* limit = JsonFile::find(json, "model_max_length");
    if (limit && limit->is_number() && limit->get<double>() >= 1 &&
        limit->get<double>() <= config.max_position_embeddings) {
      return static_cast<int64_t>(limit->get<double>());
    }
  }
  return config.max_position_embeddings;
}

/// A config claiming far more parameters than the weights hold would only allocate (and randomly
/// initialise) memory before the shape checks could fail: compare first. The estimate is a lower
/// bound for BERT-family encoders (embeddings + attention and feed-forward matrices).
void check_config_fits_weights(const TransformerConfig& c, const TensorMap& weights, const fs::path& path) {
  const double h = static_cast<double>(c.hidden_size);
  const double parameters = h * static_cast<double>(c.vocab_size + c.max_position_embeddings) +
                            static_cast<double>(c.num_hidden_layers) *
                                (4 * h * h + 2 * h * static_cast<double>(c.intermediate_size));
  double stored = 0;
  for (const auto& [name, tensor] : weights) stored += static_cast<double>(tensor.numel());
  NEG_CHECK(parameters <= stored * 1.01 + 65536, c.origin, ": describes at least ", parameters,
            " parameters, but ", path.string(), " holds only ", stored,
            "; config.json does not belong to these weights");
}

}  // namespace

struct SentenceEncoderIo {
  static void load_transformer(SentenceEncoder& model, const fs::path& dir) {
    const TransformerConfig config = TransformerConfig::from_file((dir / "config.json").string());
    const fs::path weights = dir / "model.safetensors";
    if (!fs::exists(weights)) {
      NEG_CHECK(!fs::exists(dir / "pytorch_model.bin"), dir.string(),
                ": has only pytorch_model.bin (a pickle); negatron loads safetensors only. Convert it in Python with "
                "SentenceTransformer(path).save(path, safe_serialization=True)");
      NEG_FAIL("missing ", weights.string());
    }
    const TensorMap tensors = load_safetensors(weights.string());
    check_config_fits_weights(config, tensors, weights);
    model.transformer_ = model.register_module("transformer", make_transformer(config));
    model.transformer_->load_weights(tensors, weights.string());
    model.tokenizer_ = std::make_shared<Tokenizer>(Tokenizer::from_folder(dir.string()));
    model.max_seq_length_ = resolve_max_seq_length(dir, config);
    model.set_max_seq_length(model.max_seq_length_);
    model.pooling_.embedding_dimension = config.hidden_size;
  }

  static void load(SentenceEncoder& model, const fs::path& dir) {
    NEG_CHECK(fs::is_directory(dir), "model folder ", dir.string(), " does not exist");
    model.source_dir_ = dir.string();
    const fs::path modules_path = dir / "modules.json";
    if (!fs::exists(modules_path)) {
      log::warn0(dir.string(), ": no modules.json, using the transformer with mean pooling");
      load_transformer(model, dir);
      return;
    }
    if (fs::exists(dir / kStConfigFile)) {
      model.st_config_ = read_json_file((dir / kStConfigFile).string());
      NEG_CHECK(model.st_config_.is_object(), (dir / kStConfigFile).string(), ": expected a JSON object");
    }
    const std::vector<ModuleEntry> modules =
        parse_modules_json(read_json_file(modules_path.string()), modules_path.string());
    NEG_CHECK(modules.front().kind == "Transformer", modules_path.string(), ": the first module must be the Transformer");
    int64_t width = 0;  // output width of the modules so far
    for (const auto& entry : modules) {
      const fs::path path = dir / entry.path;
      const std::string config_path = (path / "config.json").string();
      if (entry.kind == "Transformer") {
        load_transformer(model, path);
        width = model.transformer_->config().hidden_size;
      } else if (entry.kind == "Pooling") {
        model.pooling_ = PoolingOptions::from_json(read_json_file(config_path), config_path);
        NEG_CHECK(model.pooling_.embedding_dimension == width, config_path, ": embedding_dimension ",
                  model.pooling_.embedding_dimension, " does not match the Transformer's hidden_size ", width);
        width = model.pooling_.output_dimension();
      } else if (entry.kind == "Dense") {
        auto dense = std::make_shared<Dense>(DenseOptions::from_json(read_json_file(config_path), config_path));
        NEG_CHECK(dense->options().in_features == width, config_path, ": in_features ", dense->options().in_features,
                  " does not match the width ", width, " of the module before it");
        dense->load(path.string());
        width = dense->options().out_features;
        model.dense_.push_back(model.register_module("dense" + std::to_string(model.dense_.size()), dense));
      } else {
        model.normalize_ = true;
      }
    }
  }

  /// The model's files, written into the existing folder `dir`.
  static void write_folder(const SentenceEncoder& model, const fs::path& dir) {
    nlohmann::json config = model.transformer_->config().raw;
    write_json(dir / "config.json", config);
    save_safetensors((dir / "model.safetensors").string(), model.transformer_->state_dict());
    for (const char* name : kTokenizerFiles) {
      const fs::path source = fs::path(model.source_dir_) / name;
      if (fs::exists(source)) copy_file_atomically(source, dir / name);
    }
    if (fs::exists(dir / "tokenizer_config.json")) {
      auto tok = read_json_file((dir / "tokenizer_config.json").string());
      if (tok.is_object()) {
        tok["model_max_length"] = model.max_seq_length_;
        write_json(dir / "tokenizer_config.json", tok);
      }
    }
    // max_seq_length and do_lower_case are the keys every sentence-transformers version reads.
    write_json(dir / "sentence_bert_config.json", {{"max_seq_length", model.max_seq_length_}, {"do_lower_case", false}});

    nlohmann::json modules = nlohmann::json::array();
    auto add_module = [&](const std::string& path, const char* type) {
      const auto idx = modules.size();
      modules.push_back({{"idx", idx}, {"name", std::to_string(idx)}, {"path", path}, {"type", type}});
    };
    add_module("", kTransformerType);
    add_module("1_Pooling", kPoolingType);
    fs::create_directories(dir / "1_Pooling");
    write_json(dir / "1_Pooling" / "config.json", model.pooling_.to_json());
    for (const auto& dense : model.dense_) {
      const std::string name = std::to_string(modules.size()) + "_Dense";
      fs::create_directories(dir / name);
      write_json(dir / name / "config.json", dense->options().to_json());
      dense->save((dir / name).string());
      add_module(name, kDenseType);
    }
    if (model.normalize_) {
      const std::string name = std::to_string(modules.size()) + "_Normalize";
      fs::create_directories(dir / name);
      write_json(dir / name / "config.json", nlohmann::json::object());
      add_module(name, kNormalizeType);
    }
    write_json(dir / "modules.json", modules);

    nlohmann::json st = model.st_config_.is_object() ? model.st_config_ : nlohmann::json::object();
    st["__version__"] = {{"sentence_transformers", "6.0.1"}, {"negatron", kVersion}};
    if (!st.contains("similarity_fn_name") || st["similarity_fn_name"].is_null()) st["similarity_fn_name"] = "cosine";
    if (!st.contains("prompts")) st["prompts"] = nlohmann::json::object();
    if (!st.contains("default_prompt_name")) st["default_prompt_name"] = nullptr;
    st["model_type"] = "SentenceTransformer";
    write_json(dir / kStConfigFile, st);
  }
};

int64_t model_max_seq_length(const std::string& dir) {
  return resolve_max_seq_length(dir, TransformerConfig::from_file((fs::path(dir) / "config.json").string()));
}

bool is_model_folder_written_by_negatron(const std::string& dir) { return has_negatron_model_layout(dir); }

std::shared_ptr<SentenceEncoder> SentenceEncoder::load(const std::string& dir) {
  std::shared_ptr<SentenceEncoder> model(new SentenceEncoder());
  SentenceEncoderIo::load(*model, dir);
  return model;
}

void SentenceEncoder::write_folder(const std::string& dir) const { SentenceEncoderIo::write_folder(*this, dir); }

void SentenceEncoder::save(const std::string& dir, const std::function<void(const std::string&)>& extra_files) const {
  check_replaceable(dir, "model folder", is_model_folder_written_by_negatron);
  const std::string building = building_folder_for(dir);
  try {
    create_owned_folder(building, "model");
    write_folder(building);
    if (extra_files) extra_files(building);
    publish_folder(building, dir, "model folder", is_model_folder_written_by_negatron);
  } catch (...) {
    try {
      remove_owned_folder(building, "model folder");
    } catch (const std::exception&) {  // keep the original error
    }
    throw;
  }
}

}  // namespace negatron::model
