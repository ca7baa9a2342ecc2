#pragma once
// The WordPiece model of Hugging Face `tokenizers`: greedy longest-match-first segmentation of a
// pre-tokenized word into vocabulary pieces, non-initial pieces carrying a prefix ("##"); a word
// that cannot be fully segmented, or has more than max_input_chars_per_word characters, becomes
// the unknown token.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace negatron::model {

/// Reads a vocab.txt: one token a line, id = line number - 1, lines ending in "\n" or "\r\n"
/// (as transformers' BertTokenizer reads it). Throws naming the file if it is missing or empty.
std::vector<std::string> read_vocab_file(const std::string& path);

/// Open-addressing hash map from string_view to id; the keys live in storage owned elsewhere.
class TokenIndex {
 public:
  void build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids);
  int32_t find(std::string_view key) const;  // -1 if absent
  size_t max_key_length() const { return max_key_length_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    int32_t key_index = -1;  // index into keys_, -1 for an empty slot
  };
  std::vector<Slot> slots_;
  std::vector<std::string_view> keys_;
  std::vector<int32_t> ids_;
  uint64_t mask_ = 0;
  size_t max_key_length_ = 0;
};

class WordPiece {
 public:
  /// vocab[i] is the token of id i; a token listed twice keeps its last id, as HF's vocab.txt
  /// reader does. Throws if unk_token is not in the vocab.
  WordPiece(std::vector<std::string> vocab, std::string unk_token, std::string continuing_prefix,
            int max_input_chars_per_word);

  /// Appends the ids of the pieces of `word` (one pre-token of valid UTF-8) to `ids`.
  void append_ids(std::string_view word, std::vector<int32_t>& ids) const;
  int32_t token_to_id(std::string_view token) const { return tokens_.find(token); }
  const std::vector<std::string>& vocab() const { return vocab_; }
  int32_t unk_id() const { return unk_id_; }

 private:
  std::vector<std::string> vocab_;
  std::string continuing_prefix_;
  int max_input_chars_per_word_;
  TokenIndex tokens_;         // every token
  TokenIndex continuations_;  // tokens that start with the prefix, keyed without it
  int32_t unk_id_ = -1;
};

}  // namespace negatron::model
