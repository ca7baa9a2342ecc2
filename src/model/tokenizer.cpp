#include "model/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>

#include "common/check.h"
#include "common/hash.h"
#include "common/json_file.h"
#include "model/bert_normalizer.h"
#include "model/wordpiece.h"

namespace negatron::model {
namespace {

/// FNV-1a over length-prefixed fields. Its seed is not FNV's offset basis (it is a digit short), but
/// fingerprints are stored in every prepared dataset's manifest, so the seed stays.
class Fingerprint {
 public:
  Fingerprint& add(std::string_view bytes) {
    add_integer(bytes.size());
    hash_ = fnv1a64(bytes.data(), bytes.size(), hash_);
    return *this;
  }
  Fingerprint& add_integer(uint64_t value) {
    unsigned char little_endian[8];
    for (int i = 0; i < 8; ++i) little_endian[i] = static_cast<unsigned char>(value >> (8 * i));
    hash_ = fnv1a64(little_endian, sizeof(little_endian), hash_);
    return *this;
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 1469598103934665603ull;
};

/// Hashes what decides the ids: vocab, options and the added tokens with their resolved ids.
uint64_t fingerprint_of(const std::vector<std::string>& vocab, const TokenizerOptions& o,
                        std::vector<std::pair<int32_t, AddedToken>> added) {
  Fingerprint f;
  f.add("negatron-wordpiece-v1").add_integer(vocab.size());
  for (const auto& token : vocab) f.add(token);
  f.add_integer(o.clean_text).add_integer(o.handle_chinese_chars).add_integer(o.strip_accents);
  f.add_integer(o.lowercase).add(o.unk_token).add(o.continuing_subword_prefix);
  f.add_integer(static_cast<uint64_t>(o.max_input_chars_per_word)).add(o.pad_token);
  for (const auto* list : {&o.prefix_tokens, &o.suffix_tokens}) {
    f.add_integer(list->size());
    for (const auto& token : *list) f.add(token);
  }
  std::sort(added.begin(), added.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.content) < std::tie(b.first, b.second.content);
  });
  f.add_integer(added.size());
  for (const auto& [id, t] : added) {
    f.add(t.content).add_integer(static_cast<uint64_t>(id)).add_integer(t.normalized);
    f.add_integer(t.lstrip).add_integer(t.rstrip).add_integer(t.single_word);
  }
  return f.value();
}

// ---- loading a model folder ----

using nlohmann::json;

struct LoadedTokenizer {
  std::vector<std::string> vocab;
  TokenizerOptions options;
  std::string source;  // the file the configuration came from, for error messages
  std::vector<int32_t> expected_prefix_ids, expected_suffix_ids;
};

json read_json_object(const std::string& path) {
  json root = read_json_file(path);
  NEG_CHECK(root.is_object(), path, ": expected a JSON object at the top level");
  return root;
}

void read_wordpiece_model(const JsonFile& file, const json& model, LoadedTokenizer& out) {
  const auto type = file.get_or<std::string>(model, "type", "WordPiece", "model.");
  NEG_CHECK(type == "WordPiece", file.origin(), ": model.type is '", type,
            "'; only WordPiece models are supported");
  const json& vocab = file.require(model, "vocab", "model.");
  NEG_CHECK(vocab.is_object(), file.origin(), ": model.vocab must map tokens to ids");
  out.vocab.assign(vocab.size(), std::string());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& item : vocab.items()) {
    const json& id = item.value();
    const bool valid = id.is_number_integer() && id.get<int64_t>() >= 0 &&
                       id.get<uint64_t>() < vocab.size() && !seen[id.get<size_t>()];
    NEG_CHECK(valid, file.origin(), ": model.vocab: token '", item.key(), "' has id ", id.dump(),
              " (ids must be 0..", vocab.size() - 1, ", each used once)");
    seen[id.get<size_t>()] = true;
    out.vocab[id.get<size_t>()] = item.key();
  }
  TokenizerOptions& o = out.options;
  o.unk_token = file.get_or<std::string>(model, "unk_token", "[UNK]", "model.");
  o.continuing_subword_prefix = file.get_or<std::string>(model, "continuing_subword_prefix", "##", "model.");
  o.max_input_chars_per_word = file.get_or<int>(model, "max_input_chars_per_word", 100, "model.");
}

void read_normalizer(const JsonFile& file, const json& root, TokenizerOptions& o) {
  const json* normalizer = JsonFile::find(root, "normalizer");
  if (!normalizer) {
    o.clean_text = o.handle_chinese_chars = o.strip_accents = o.lowercase = false;
    return;
  }
  const auto type = file.get_or<std::string>(*normalizer, "type", "", "normalizer.");
  NEG_CHECK(type == "BertNormalizer", file.origin(), ": normalizer.type '", type,
            "' is not supported (only BertNormalizer)");
  o.clean_text = file.get_or<bool>(*normalizer, "clean_text", true, "normalizer.");
  o.handle_chinese_chars = file.get_or<bool>(*normalizer, "handle_chinese_chars", true, "normalizer.");
  o.lowercase = file.get_or<bool>(*normalizer, "lowercase", true, "normalizer.");
  o.strip_accents = file.get_or<bool>(*normalizer, "strip_accents", o.lowercase, "normalizer.");
}

void read_pre_tokenizer(const JsonFile& file, const json& root) {
  const json& pre_tokenizer = file.require(root, "pre_tokenizer", "");
  const auto type = file.get_or<std::string>(pre_tokenizer, "type", "", "pre_tokenizer.");
  NEG_CHECK(type == "BertPreTokenizer", file.origin(), ": pre_tokenizer.type '", type,
            "' is not supported (only BertPreTokenizer)");
}

void read_template(const JsonFile& file, const json& processor, LoadedTokenizer& out) {
  const json& single = file.require(processor, "single", "post_processor.");
  NEG_CHECK(single.is_array(), file.origin(), ": post_processor.single must be an array");
  const json* specials = JsonFile::find(processor, "special_tokens");
  bool after_sequence = false;
  for (const json& piece : single) {
    if (const json* sequence = JsonFile::find(piece, "Sequence")) {
      const auto id = file.get_or<std::string>(*sequence, "id", "A", "post_processor.single.Sequence.");
      NEG_CHECK(id == "A" && !after_sequence, file.origin(),
                ": post_processor.single must hold sequence A once");
      after_sequence = true;
      continue;
    }
    const json& special = file.require(piece, "SpecialToken", "post_processor.single[].");
    const auto name =
        file.get<std::string>(file.require(special, "id", "post_processor.single[].SpecialToken."), "id");
    NEG_CHECK(specials && JsonFile::find(*specials, name.c_str()), file.origin(),
              ": post_processor.special_tokens has no entry '", name, "'");
    const json& entry = (*specials)[name];
    const auto tokens = file.get<std::vector<std::string>>(
        file.require(entry, "tokens", "post_processor.special_tokens."), "tokens");
    const auto ids =
        file.get<std::vector<int32_t>>(file.require(entry, "ids", "post_processor.special_tokens."), "ids");
    NEG_CHECK(tokens.size() == ids.size(), file.origin(), ": post_processor.special_tokens['", name, "'] has ",
              tokens.size(), " tokens but ", ids.size(), " ids");
    auto& target_tokens = after_sequence ? out.options.suffix_tokens : out.options.prefix_tokens;
    auto& target_ids = after_sequence ? out.expected_suffix_ids : out.expected_prefix_ids;
    target_tokens.insert(target_tokens.end(), tokens.begin(), tokens.end());
    target_ids.insert(target_ids.end(), ids.begin(), ids.end());
  }
  NEG_CHECK(after_sequence, file.origin(), ": post_processor.single has no Sequence A");
}

void read_post_processor(const JsonFile& file, const json& root, LoadedTokenizer& out) {
  out.options.prefix_tokens.clear();
  out.options.suffix_tokens.clear();
  const json* processor = JsonFile::find(root, "post_processor");
  if (!processor) return;
  const auto type = file.get_or<std::string>(*processor, "type", "", "post_processor.");
  if (type == "TemplateProcessing") return read_template(file, *processor, out);
  NEG_CHECK(type == "BertProcessing" || type == "RobertaProcessing", file.origin(), ": post_processor.type '",
            type, "' is not supported (TemplateProcessing, BertProcessing or RobertaProcessing)");
  // Both hold "cls": [token, id] and "sep": [token, id]; a single sequence is cls A sep.
  for (const char* key : {"cls", "sep"}) {
    const json& pair = file.require(*processor, key, "post_processor.");
    NEG_CHECK(pair.is_array() && pair.size() == 2, file.origin(), ": post_processor.", key,
              " must be [token, id]");
    const std::string where = std::string("post_processor.") + key;
    const bool is_cls = std::string(key) == "cls";
    (is_cls ? out.options.prefix_tokens : out.options.suffix_tokens)
        .push_back(file.get<std::string>(pair[0], where));
    (is_cls ? out.expected_prefix_ids : out.expected_suffix_ids).push_back(file.get<int32_t>(pair[1], where));
  }
}

AddedToken read_added_token(const JsonFile& file, const json& entry, const std::string& where) {
  AddedToken token;
  token.content = file.get<std::string>(file.require(entry, "content", where), where + "content");
  token.special = file.get_or<bool>(entry, "special", false, where);
  token.normalized = file.get_or<bool>(entry, "normalized", !token.special, where);
  token.lstrip = file.get_or<bool>(entry, "lstrip", false, where);
  token.rstrip = file.get_or<bool>(entry, "rstrip", false, where);
  token.single_word = file.get_or<bool>(entry, "single_word", false, where);
  return token;
}

/// Added tokens take the ids after the vocabulary (or ids inside it): a larger id would only make
/// the id table grow without end.
void check_added_token_id(int64_t id, size_t vocab_size, size_t added_count, const std::string& origin,
                          const std::string& key) {
  const auto limit = static_cast<int64_t>(vocab_size + added_count);
  NEG_CHECK(id >= 0 && id < limit, origin, ": ", key, " = ", id, " must be in [0, ", limit,
            ") (vocabulary size plus the number of added tokens)");
}

void read_added_tokens(const JsonFile& file, const json& root, size_t vocab_size, TokenizerOptions& o) {
  o.added_tokens.clear();
  const json* list = JsonFile::find(root, "added_tokens");
  if (!list) return;
  NEG_CHECK(list->is_array(), file.origin(), ": added_tokens must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "added_tokens[" + std::to_string(i) + "].";
    const json& entry = (*list)[i];
    AddedToken token = read_added_token(file, entry, where);
    token.id = file.get<int32_t>(file.require(entry, "id", where), where + "id");
    check_added_token_id(token.id, vocab_size, list->size(), file.origin(), where + "id");
    o.added_tokens.push_back(std::move(token));
  }
}

/// A special token of tokenizer_config.json / special_tokens_map.json: a string or an
/// AddedToken object. Returns false when absent.
bool read_special_token(const JsonFile& file, const json& config, const char* key, AddedToken* token) {
  const json* value = JsonFile::find(config, key);
  if (!value) return false;
  if (value->is_string()) {
    *token = AddedToken{value->get<std::string>()};
  } else {
    *token = read_added_token(file, *value, std::string(key) + ".");
    token->special = true;
  }
  return true;
}

// POSIX stat rather than std::filesystem: libtorch.so exports its own, partly broken, copies of
// std::filesystem functions, which win at link time in binaries that load it.
bool is_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_folder(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string folder_file(const std::string& dir, const char* name) {
  return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

/// The pad token: tokenizer.json padding, then tokenizer_config.json / special_tokens_map.json.
std::string find_pad_token(const std::string& dir, const json& root, const std::vector<std::string>& vocab) {
  if (const json* padding = JsonFile::find(root, "padding")) {
    if (const json* pad = JsonFile::find(*padding, "pad_token"); pad && pad->is_string())
      return pad->get<std::string>();
  }
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    const std::string path = folder_file(dir, name);
    AddedToken pad;
    if (is_file(path) && read_special_token(JsonFile(path), read_json_object(path), "pad_token", &pad)) {
      return pad.content;
    }
  }
  const bool has_bert_pad = std::find(vocab.begin(), vocab.end(), "[PAD]") != vocab.end();
  return has_bert_pad || std::find(vocab.begin(), vocab.end(), "<pad>") == vocab.end() ? "[PAD]" : "<pad>";
}

LoadedTokenizer load_tokenizer_json(const std::string& dir, const std::string& path) {
  const JsonFile file(path);
  const json root = read_json_object(path);
  LoadedTokenizer out;
  out.source = path;
  read_wordpiece_model(file, file.require(root, "model", ""), out);
  read_normalizer(file, root, out.options);
  read_pre_tokenizer(file, root);
  read_post_processor(file, root, out);
  read_added_tokens(file, root, out.vocab.size(), out.options);
  out.options.pad_token = find_pad_token(dir, root, out.vocab);
  return out;
}

/// The slow-tokenizer layout: vocab.txt + tokenizer_config.json (+ special_tokens_map.json),
/// read as transformers' BertTokenizer / MPNetTokenizer would.
LoadedTokenizer load_vocab_txt(const std::string& dir, const std::string& vocab_path) {
  LoadedTokenizer out;
  out.source = vocab_path;
  out.vocab = read_vocab_file(vocab_path);
  const std::string config_path = folder_file(dir, "tokenizer_config.json");
  const std::string map_path = folder_file(dir, "special_tokens_map.json");
  const JsonFile config_file(config_path), map_file(map_path);
  const json config = is_file(config_path) ? read_json_object(config_path) : json::object();
  const json map = is_file(map_path) ? read_json_object(map_path) : json::object();
  const bool mpnet =
      config_file.get_or<std::string>(config, "tokenizer_class", "", "").rfind("MPNet", 0) == 0;

  TokenizerOptions& o = out.options;
  o.clean_text = true;
  o.lowercase = config_file.get_or<bool>(config, "do_lower_case", true, "");
  o.strip_accents = config_file.get_or<bool>(config, "strip_accents", o.lowercase, "");
  o.handle_chinese_chars = config_file.get_or<bool>(config, "tokenize_chinese_chars", true, "");

  const auto special = [&](const char* key, const char* bert_default, const char* mpnet_default) {
    AddedToken token{mpnet ? mpnet_default : bert_default};
    if (std::string(key) == "mask_token" && mpnet) token.lstrip = true;
    if (!read_special_token(map_file, map, key, &token)) read_special_token(config_file, config, key, &token);
    token.normalized = false;
    return token;
  };
  const AddedToken pad = special("pad_token", "[PAD]", "<pad>"), unk = special("unk_token", "[UNK]", "[UNK]");
  const AddedToken cls = special("cls_token", "[CLS]", "<s>"), sep = special("sep_token", "[SEP]", "</s>");
  const AddedToken mask = special("mask_token", "[MASK]", "<mask>");
  o.unk_token = unk.content;
  o.pad_token = pad.content;
  o.prefix_tokens = {cls.content};
  o.suffix_tokens = {sep.content};
  o.added_tokens = {pad, unk, cls, sep, mask};
  if (const json* decoder = JsonFile::find(config, "added_tokens_decoder")) {
    o.added_tokens.clear();
    for (const auto& item : decoder->items()) {
      const std::string& id = item.key();
      NEG_CHECK(!id.empty() && id.size() < 10 && id.find_first_not_of("0123456789") == std::string::npos,
                config_path, ": added_tokens_decoder key '", id, "' is not a token id");
      AddedToken token = read_added_token(config_file, item.value(), "added_tokens_decoder." + id + ".");
      token.id = std::stoi(id);
      check_added_token_id(token.id, out.vocab.size(), decoder->size(), config_path, "added_tokens_decoder." + id);
      o.added_tokens.push_back(std::move(token));
    }
  }
  return out;
}

LoadedTokenizer load_tokenizer_files(const std::string& dir) {
  NEG_CHECK(is_folder(dir), "tokenizer folder ", dir, " does not exist");
  const std::string json_path = folder_file(dir, "tokenizer.json");
  if (is_file(json_path)) return load_tokenizer_json(dir, json_path);
  const std::string vocab_path = folder_file(dir, "vocab.txt");
  NEG_CHECK(is_file(vocab_path), dir, ": neither tokenizer.json nor vocab.txt found");
  return load_vocab_txt(dir, vocab_path);
}

}  // namespace

struct Tokenizer::Impl {
  Impl(std::vector<std::string> vocab, TokenizerOptions opts)
      : options(std::move(opts)),
        normalizer(BertNormalizerOptions{options.clean_text, options.handle_chinese_chars,
                                         options.strip_accents, options.lowercase}),
        model(vocab, options.unk_token, options.continuing_subword_prefix, options.max_input_chars_per_word),
        id_to_token(std::move(vocab)) {
    NEG_CHECK(options.max_input_chars_per_word >= 0, "Tokenizer: max_input_chars_per_word is negative");
    std::vector<std::pair<int32_t, AddedToken>> added;
    for (const AddedToken& token : options.added_tokens) {
      const int32_t id = register_added_token(token);
      if (id >= 0) added.emplace_back(id, token);
    }
    fingerprint = fingerprint_of(id_to_token, options, std::move(added));
    for (const auto& token : options.prefix_tokens) prefix_ids.push_back(special_id(token));
    for (const auto& token : options.suffix_tokens) suffix_ids.push_back(special_id(token));
  }

  /// Returns the token's id, or -1 if it is skipped (empty, or id -1 and not in the vocab).
  int32_t register_added_token(const AddedToken& token) {
    const int32_t id = token.id >= 0 ? token.id : model.token_to_id(token.content);
    if (id < 0 || token.content.empty()) return -1;
    if (static_cast<size_t>(id) >= id_to_token.size()) id_to_token.resize(static_cast<size_t>(id) + 1);
    id_to_token[static_cast<size_t>(id)] = token.content;
    added_ids[token.content] = id;
    AddedTokenSplitter::Pattern pattern{token.content, id, token.lstrip, token.rstrip, token.single_word};
    if (!token.normalized) {
      raw_splitter.add(std::move(pattern));
    } else {
      std::string scratch;
      pattern.text.clear();
      normalizer.normalize(repair_utf8(token.content, scratch), pattern.text);
      normalized_splitter.add(std::move(pattern));
    }
    return id;
  }

  int32_t find_id(const std::string& token) const {
    const auto it = added_ids.find(token);
    return it != added_ids.end() ? it->second : model.token_to_id(token);
  }

  int32_t special_id(const std::string& token) const {
    const int32_t id = find_id(token);
    NEG_CHECK(id >= 0, "Tokenizer: special token '", token, "' is not in the vocabulary");
    return id;
  }

  /// Appends the content ids of text (no special tokens), stopping once ids holds `limit` ids.
  void append_content_ids(std::string_view text, size_t limit, std::vector<int32_t>& ids) const {
    thread_local std::string repaired, normalized;
    const auto on_token = [&](int32_t id) {
      if (ids.size() < limit) ids.push_back(id);
    };
    const auto on_words = [&](std::string_view normalized_text) {
      for_each_bert_word(normalized_text, [&](std::string_view word) {
        if (ids.size() < limit) model.append_ids(word, ids);
      });
    };
    const auto on_raw_text = [&](std::string_view raw) {
      if (ids.size() >= limit) return;
      normalized.clear();
      normalizer.normalize(raw, normalized);
      normalized_splitter.split(normalized, on_words, on_token);
    };
    raw_splitter.split(repair_utf8(text, repaired), on_raw_text, on_token);
    if (ids.size() > limit) ids.resize(limit);
  }

  TokenizerOptions options;
  BertNormalizer normalizer;
  WordPiece model;
  std::vector<std::string> id_to_token;
  std::unordered_map<std::string, int32_t> added_ids;
  AddedTokenSplitter raw_splitter, normalized_splitter;
  std::vector<int32_t> prefix_ids, suffix_ids;
  uint64_t fingerprint = 0;
};

Tokenizer Tokenizer::from_folder(const std::string& dir) {
  LoadedTokenizer loaded = load_tokenizer_files(dir);
  Tokenizer tokenizer(std::move(loaded.vocab), std::move(loaded.options));
  const auto check_ids = [&](const std::vector<int32_t>& actual, const std::vector<int32_t>& expected) {
    NEG_CHECK(expected.empty() || actual == expected, loaded.source,
              ": post_processor special token ids do not match their tokens' ids in the vocabulary");
  };
  check_ids(tokenizer.impl_->prefix_ids, loaded.expected_prefix_ids);
  check_ids(tokenizer.impl_->suffix_ids, loaded.expected_suffix_ids);
  return tokenizer;
}

Tokenizer::Tokenizer(std::vector<std::string> vocab, TokenizerOptions options)
    : impl_(std::make_unique<Impl>(std::move(vocab), std::move(options))) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, int64_t max_length) const {
  const size_t specials = impl_->prefix_ids.size() + impl_->suffix_ids.size();
  size_t limit = SIZE_MAX;
  if (max_length > 0) {
    NEG_CHECK(static_cast<size_t>(max_length) >= specials, "Tokenizer::encode: max_length ", max_length,
              " leaves no room for the ", specials, " special tokens");
    limit = static_cast<size_t>(max_length) - specials;
  }
  std::vector<int32_t> ids(impl_->prefix_ids);
  ids.reserve(std::min<size_t>(limit, text.size() / 3 + 8) + specials);
  impl_->append_content_ids(text, limit == SIZE_MAX ? SIZE_MAX : limit + ids.size(), ids);
  ids.insert(ids.end(), impl_->suffix_ids.begin(), impl_->suffix_ids.end());
  return ids;
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<int32_t> ids;
  impl_->append_content_ids(text, SIZE_MAX, ids);
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (const int32_t id : ids) pieces.push_back(id_to_token(id));
  return pieces;
}

int32_t Tokenizer::pad_id() const { return impl_->special_id(impl_->options.pad_token); }

int32_t Tokenizer::token_to_id(const std::string& token) const { return impl_->find_id(token); }

const std::string& Tokenizer::id_to_token(int32_t id) const {
  NEG_CHECK(id >= 0 && static_cast<size_t>(id) < impl_->id_to_token.size(), "Tokenizer::id_to_token: id ", id,
            " is outside the vocabulary of ", impl_->id_to_token.size());
  return impl_->id_to_token[static_cast<size_t>(id)];
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_to_token.size()); }

const TokenizerOptions& Tokenizer::options() const { return impl_->options; }

uint64_t Tokenizer::fingerprint() const { return impl_->fingerprint; }

}  // namespace negatron::model
