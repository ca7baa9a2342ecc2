// Reading and writing sentence-transformers model folders.
#include <filesystem>
#include <fstream>

#include "common/check.h"
#include "common/log.h"
#include "common/remove_tree.h"
#include "common/version.h"
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

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  NEG_CHECK(in, "cannot open ", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(path.string(), ": invalid JSON (", e.what(), ")");
  }
}

void write_json(const fs::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  NEG_CHECK(out, "cannot write ", path.string());
  out << json.dump(2) << "\n";
  NEG_CHECK(out.good(), "write failed: ", path.string());
}

// "sentence_transformers.models.Pooling" and the v6 paths both end in the class name.
std::string module_class(const std::string& type) {
  auto dot = type.rfind('.');
  return dot == std::string::npos ? type : type.substr(dot + 1);
}

int64_t resolve_max_seq_length(const fs::path& dir, const TransformerConfig& config) {
  const fs::path sbert = dir / "sentence_bert_config.json";
  if (fs::exists(sbert)) {
    auto json = read_json(sbert);
    if (json.contains("max_seq_length") && json["max_seq_length"].is_number_integer()) {
      return json["max_seq_length"].get<int64_t>();
    }
  }
  const fs::path tok = dir / "tokenizer_config.json";
  if (fs::exists(tok)) {
    auto json = read_json(tok);
    // HF writes a huge sentinel (1e30) when the tokenizer has no limit.
    if (json.contains("model_max_length") && json["model_max_length"].is_number() &&
        json["model_max_length"].get<double>() <= config.max_position_embeddings) {
      return json["model_max_length"].get<int64_t>();
    }
  }
  return config.max_position_embeddings;
}

}  // namespace

struct SentenceEncoderIo {
  static void load_transformer(SentenceEncoder& model, const fs::path& dir) {
    const TransformerConfig config = TransformerConfig::from_file((dir / "config.json").string());
    model.transformer_ = model.register_module("transformer", make_transformer(config));
    const fs::path weights = dir / "model.safetensors";
    if (!fs::exists(weights)) {
      NEG_CHECK(!fs::exists(dir / "pytorch_model.bin"), dir.string(),
                ": has only pytorch_model.bin (a pickle); negatron loads safetensors only. Convert it in Python with "
                "SentenceTransformer(path).save(path, safe_serialization=True)");
      NEG_FAIL("missing ", weights.string());
    }
    model.transformer_->load_weights(load_safetensors(weights.string()), weights.string());
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
    if (fs::exists(dir / "config_sentence_transformers.json")) {
      model.st_config_ = read_json(dir / "config_sentence_transformers.json");
    }
    const auto modules = read_json(modules_path);
    NEG_CHECK(modules.is_array() && !modules.empty(), modules_path.string(), ": expected a non-empty list");
    for (const auto& entry : modules) {
      const std::string type = entry.value("type", "");
      const std::string kind = module_class(type);
      const fs::path path = dir / entry.value("path", "");
      if (kind == "Transformer") {
        NEG_CHECK(!model.transformer_, modules_path.string(), ": more than one Transformer module");
        load_transformer(model, path);
      } else if (kind == "Pooling") {
        model.pooling_ = PoolingOptions::from_json(read_json(path / "config.json"), (path / "config.json").string());
      } else if (kind == "Dense") {
        auto dense = std::make_shared<Dense>(DenseOptions::from_json(read_json(path / "config.json"),
                                                                      (path / "config.json").string()));
        dense->load(path.string());
        model.dense_.push_back(model.register_module("dense" + std::to_string(model.dense_.size()), dense));
      } else if (kind == "Normalize") {
        model.normalize_ = true;
      } else {
        NEG_FAIL(modules_path.string(), ": unsupported module type '", type,
                 "' (supported: Transformer, Pooling, Dense, Normalize)");
      }
    }
    NEG_CHECK(model.transformer_, modules_path.string(), ": no Transformer module");
  }

  static void save(const SentenceEncoder& model, const fs::path& dir) {
    const fs::path tmp = dir.string() + ".tmp";
    remove_tree(tmp.string());
    fs::create_directories(tmp);
    nlohmann::json config = model.transformer_->config().raw;
    write_json(tmp / "config.json", config);
    save_safetensors((tmp / "model.safetensors").string(), model.transformer_->state_dict());
    for (const char* name : kTokenizerFiles) {
      const fs::path source = fs::path(model.source_dir_) / name;
      if (fs::exists(source)) fs::copy_file(source, tmp / name, fs::copy_options::overwrite_existing);
    }
    if (fs::exists(tmp / "tokenizer_config.json")) {
      auto tok = read_json(tmp / "tokenizer_config.json");
      tok["model_max_length"] = model.max_seq_length_;
      write_json(tmp / "tokenizer_config.json", tok);
    }
    // max_seq_length and do_lower_case are the keys every sentence-transformers version reads.
    write_json(tmp / "sentence_bert_config.json", {{"max_seq_length", model.max_seq_length_}, {"do_lower_case", false}});

    nlohmann::json modules = nlohmann::json::array();
    auto add_module = [&](const std::string& path, const char* type) {
      const auto idx = modules.size();
      modules.push_back({{"idx", idx}, {"name", std::to_string(idx)}, {"path", path}, {"type", type}});
    };
    add_module("", kTransformerType);
    add_module("1_Pooling", kPoolingType);
    fs::create_directories(tmp / "1_Pooling");
    write_json(tmp / "1_Pooling" / "config.json", model.pooling_.to_json());
    for (const auto& dense : model.dense_) {
      const std::string name = std::to_string(modules.size()) + "_Dense";
      fs::create_directories(tmp / name);
      write_json(tmp / name / "config.json", dense->options().to_json());
      dense->save((tmp / name).string());
      add_module(name, kDenseType);
    }
    if (model.normalize_) {
      const std::string name = std::to_string(modules.size()) + "_Normalize";
      fs::create_directories(tmp / name);
      write_json(tmp / name / "config.json", nlohmann::json::object());
      add_module(name, kNormalizeType);
    }
    write_json(tmp / "modules.json", modules);

    nlohmann::json st = model.st_config_.is_object() ? model.st_config_ : nlohmann::json::object();
    st["__version__"] = {{"sentence_transformers", "6.0.1"}, {"negatron", kVersion}};
    if (!st.contains("similarity_fn_name") || st["similarity_fn_name"].is_null()) st["similarity_fn_name"] = "cosine";
    if (!st.contains("prompts")) st["prompts"] = nlohmann::json::object();
    if (!st.contains("default_prompt_name")) st["default_prompt_name"] = nullptr;
    st["model_type"] = "SentenceTransformer";
    write_json(tmp / "config_sentence_transformers.json", st);

    remove_tree(dir.string());
    fs::rename(tmp, dir);
  }
};

int64_t model_max_seq_length(const std::string& dir) {
  return resolve_max_seq_length(dir, TransformerConfig::from_file((fs::path(dir) / "config.json").string()));
}

std::shared_ptr<SentenceEncoder> SentenceEncoder::load(const std::string& dir) {
  std::shared_ptr<SentenceEncoder> model(new SentenceEncoder());
  SentenceEncoderIo::load(*model, dir);
  return model;
}

void SentenceEncoder::save(const std::string& dir) const { SentenceEncoderIo::save(*this, dir); }

}  // namespace negatron::model
