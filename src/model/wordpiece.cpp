#include "model/wordpiece.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/check.h"
#include "common/hash.h"

namespace negatron::model {
namespace {

// FNV-1a, then mix64 so that the low bits used for the slot are well mixed.
uint64_t hash_bytes(std::string_view bytes) { return mix64(fnv1a64(bytes)); }

size_t count_chars(std::string_view utf8) {
  size_t count = 0;
  for (const char c : utf8) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

/// Length of the last UTF-8 character of a non-empty valid string.
size_t last_char_length(std::string_view utf8) {
  size_t length = 1;
  while (length < utf8.size() && (static_cast<unsigned char>(utf8[utf8.size() - length]) & 0xC0) == 0x80) {
    ++length;
  }
  return length;
}

}  // namespace

std::vector<std::string> read_vocab_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, "cannot open vocabulary file ", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> vocab;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const size_t stop = end > start && text[end - 1] == '\r' ? end - 1 : end;
    vocab.push_back(text.substr(start, stop - start));
    start = end + 1;
  }
  NEG_CHECK(!vocab.empty(), path, ": empty vocabulary");
  return vocab;
}

void TokenIndex::build(const std::vector<std::string_view>& keys, const std::vector<int32_t>& ids) {
  keys_ = keys;
  ids_ = ids;
  size_t capacity = 16;
  while (capacity < keys.size() * 2) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  max_key_length_ = 0;
  for (size_t k = 0; k < keys.size(); ++k) {
    const uint64_t hash = hash_bytes(keys[k]);
    max_key_length_ = std::max(max_key_length_, keys[k].size());
    for (uint64_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
      Slot& s = slots_[slot];
      if (s.key_index < 0) {
        s = Slot{hash, static_cast<int32_t>(k)};
        break;
      }
      if (s.hash == hash && keys_[s.key_index] == keys[k]) {
        s.key_index = static_cast<int32_t>(k);  // a later duplicate wins
        break;
      }
    }
  }
}

int32_t TokenIndex::find(std::string_view key) const {
  if (key.size() > max_key_length_ || slots_.empty()) return -1;
  const uint64_t hash = hash_bytes(key);
  for (uint64_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
    const Slot& s = slots_[slot];
    if (s.key_index < 0) return -1;
    if (s.hash == hash && keys_[s.key_index] == key) return ids_[s.key_index];
  }
}

WordPiece::WordPiece(std::vector<std::string> vocab, std::string unk_token, std::string continuing_prefix,
                     int max_input_chars_per_word)
    : vocab_(std::move(vocab)),
      continuing_prefix_(std::move(continuing_prefix)),
      max_input_chars_per_word_(max_input_chars_per_word) {
  std::vector<std::string_view> keys, continuation_keys;
  std::vector<int32_t> ids, continuation_ids;
  for (size_t id = 0; id < vocab_.size(); ++id) {
    const std::string_view token = vocab_[id];
    keys.push_back(token);
    ids.push_back(static_cast<int32_t>(id));
    if (token.size() > continuing_prefix_.size() &&
        token.substr(0, continuing_prefix_.size()) == continuing_prefix_) {
      continuation_keys.push_back(token.substr(continuing_prefix_.size()));
      continuation_ids.push_back(static_cast<int32_t>(id));
    }
  }
  tokens_.build(keys, ids);
  continuations_.build(continuation_keys, continuation_ids);
  unk_id_ = tokens_.find(unk_token);
  NEG_CHECK(unk_id_ >= 0, "WordPiece: the unknown token '", unk_token, "' is not in the vocabulary");
}

void WordPiece::append_ids(std::string_view word, std::vector<int32_t>& ids) const {
  if (count_chars(word) > static_cast<size_t>(max_input_chars_per_word_)) {
    ids.push_back(unk_id_);
    return;
  }
  const size_t first_piece = ids.size();
  for (size_t start = 0; start < word.size();) {
    const TokenIndex& index = start == 0 ? tokens_ : continuations_;
    std::string_view candidate = word.substr(start, index.max_key_length());
    int32_t id = -1;
    while (!candidate.empty()) {
      // A cut inside a character never matches a valid token, so step back one byte at a time
      // only until the candidate ends on a character boundary.
      if (start + candidate.size() == word.size() ||
          (static_cast<unsigned char>(word[start + candidate.size()]) & 0xC0) != 0x80) {
        id = index.find(candidate);
        if (id >= 0) break;
        candidate.remove_suffix(last_char_length(candidate));
      } else {
        candidate.remove_suffix(1);
      }
    }
    if (id < 0) {
      ids.resize(first_piece);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(id);
    start += candidate.size();
  }
}

}  // namespace negatron::model
