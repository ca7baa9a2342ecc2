#pragma once
// WordPiece tokenizer compatible with Hugging Face `tokenizers` for BERT- and MPNet-style models.
//
// Reads a model folder's tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece model,
// TemplateProcessing / BertProcessing / RobertaProcessing post-processor, added tokens); without
// tokenizer.json it falls back to vocab.txt + tokenizer_config.json (+ special_tokens_map.json).
// The "truncation" and "padding" sections of tokenizer.json are ignored: callers pass max_length.
// Pure C++ (no torch), thread-safe for concurrent encode() calls.
//
// Invalid UTF-8 rule: each ill-formed byte sequence (its maximal valid prefix, or one byte) is
// replaced by U+FFFD before anything else, exactly as Python's
// bytes.decode("utf-8", errors="replace") does; with clean_text the normalizer then drops U+FFFD.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace negatron::model {

/// A token matched in the text before the model sees it (HF "added_tokens").
struct AddedToken {
  std::string content;
  /// -1: the id of `content` in the vocab (the token is skipped if the vocab lacks it).
  int32_t id = -1;
  bool special = true;
  /// false: matched in the raw text; true: matched in the normalized text.
  bool normalized = false;
  bool lstrip = false;       // the match swallows the whitespace on its left
  bool rstrip = false;       // the match swallows the whitespace on its right
  bool single_word = false;  // only matches when not inside a word
};

struct TokenizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  /// Unset in tokenizer.json means "follow lowercase", as in HF.
  bool strip_accents = true;
  bool lowercase = true;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int max_input_chars_per_word = 100;
  /// Special tokens around a single sequence: prefix + tokens + suffix, e.g. [CLS] ... [SEP].
  std::vector<std::string> prefix_tokens = {"[CLS]"};
  std::vector<std::string> suffix_tokens = {"[SEP]"};
  std::string pad_token = "[PAD]";
  /// Split out of the text before normalization (or after it, for normalized ones); the default
  /// is BERT's special tokens.
  std::vector<AddedToken> added_tokens = {{"[PAD]"}, {"[UNK]"}, {"[CLS]"}, {"[SEP]"}, {"[MASK]"}};
};

class Tokenizer {
 public:
  /// Loads from a model folder (tokenizer.json, else vocab.txt + tokenizer_config.json).
  /// Errors name the file and the offending key.
  static Tokenizer from_folder(const std::string& dir);
  /// vocab[i] is the token of id i.
  Tokenizer(std::vector<std::string> vocab, TokenizerOptions options);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  /// Token ids with special tokens, truncated so the whole sequence (specials included) has at
  /// most max_length ids (max_length <= 0: no truncation). Truncation drops tokens from the end,
  /// keeping the suffix special tokens, as HF does with truncation=True.
  std::vector<int32_t> encode(std::string_view text, int64_t max_length) const;
  /// Word pieces without special tokens or truncation (for tests and debugging).
  std::vector<std::string> tokenize(std::string_view text) const;

  /// Throws if the pad token is not in the vocabulary.
  int32_t pad_id() const;
  int32_t token_to_id(const std::string& token) const;  // -1 if absent
  const std::string& id_to_token(int32_t id) const;     // throws for an unknown id
  /// Number of ids (vocab plus added tokens beyond it), as HF get_vocab_size(True).
  int64_t vocab_size() const;
  const TokenizerOptions& options() const;
  /// Stable 64-bit hash of vocab + options; datasets record it to detect a tokenizer mismatch.
  uint64_t fingerprint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace negatron::model
