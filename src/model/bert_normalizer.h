#pragma once
// The text side of a BERT tokenizer, matching Hugging Face `tokenizers`: UTF-8 repair, the
// BertNormalizer (clean text, space CJK ideographs, strip accents, lowercase) and the
// BertPreTokenizer (split on whitespace, isolate punctuation). Everything after repair_utf8
// expects valid UTF-8. Unicode data comes from utf8proc.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace negatron::model {

/// Replaces each ill-formed subsequence with U+FFFD as Python's
/// bytes.decode("utf-8", errors="replace") does (the Unicode "maximal subpart" practice).
/// Returns `bytes` itself when it is valid, else a view of `scratch`, which it overwrites.
std::string_view repair_utf8(std::string_view bytes, std::string& scratch);

/// Decodes the code point of valid UTF-8 starting at text[pos] and moves pos past it.
inline char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return ++pos, lead;
  if (lead < 0xE0) {
    const char32_t c = ((lead & 0x1Fu) << 6) | (byte(pos + 1) & 0x3Fu);
    return pos += 2, c;
  }
  if (lead < 0xF0) {
    const char32_t c = ((lead & 0x0Fu) << 12) | ((byte(pos + 1) & 0x3Fu) << 6) | (byte(pos + 2) & 0x3Fu);
    return pos += 3, c;
  }
  const char32_t c = ((lead & 0x07u) << 18) | ((byte(pos + 1) & 0x3Fu) << 12) |
                     ((byte(pos + 2) & 0x3Fu) << 6) | (byte(pos + 3) & 0x3Fu);
  return pos += 4, c;
}

void append_utf8(char32_t c, std::string& out);

/// Rust's char::is_whitespace: the Unicode White_Space property.
bool is_unicode_whitespace(char32_t c);
/// HF's is_bert_punc: ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) or
/// any Unicode punctuation category (P*).
bool is_bert_punctuation(char32_t c);
/// The regex class \w (letters, marks, decimal digits, connector punctuation, joiners), which
/// HF uses to decide whether a single_word added token stands alone.
bool is_word_char(char32_t c);

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

/// HF's BertNormalizer. Thread-safe.
class BertNormalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options) : options_(options) {}
  /// Appends the normalized form of valid UTF-8 `text` to `out`.
  void normalize(std::string_view text, std::string& out) const;

 private:
  void normalize_ascii(std::string_view text, std::string& out) const;
  void normalize_unicode(std::string_view text, std::string& out) const;

  BertNormalizerOptions options_;
};

/// HF's BertPreTokenizer on normalized text: calls on_word(std::string_view) for every run of
/// characters between whitespace and for every punctuation character, in order.
template <typename OnWord>
void for_each_bert_word(std::string_view text, OnWord&& on_word);

// ---- implementation details ----

namespace detail {
enum class CharClass : uint8_t { kWord, kSpace, kPunct };
extern const std::array<CharClass, 128> kAsciiClass;
inline CharClass classify(char32_t c) {
  if (c < 128) return kAsciiClass[c];
  if (is_unicode_whitespace(c)) return CharClass::kSpace;
  return is_bert_punctuation(c) ? CharClass::kPunct : CharClass::kWord;
}
}  // namespace detail

template <typename OnWord>
void for_each_bert_word(std::string_view text, OnWord&& on_word) {
  size_t word_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t char_start = pos;
    const auto byte = static_cast<unsigned char>(text[pos]);
    const detail::CharClass cls =
        byte < 0x80 ? (++pos, detail::kAsciiClass[byte]) : detail::classify(next_code_point(text, pos));
    if (cls == detail::CharClass::kWord) continue;
    if (word_start < char_start) on_word(text.substr(word_start, char_start - word_start));
    if (cls == detail::CharClass::kPunct) on_word(text.substr(char_start, pos - char_start));
    word_start = pos;
  }
  if (word_start < text.size()) on_word(text.substr(word_start));
}

}  // namespace negatron::model
