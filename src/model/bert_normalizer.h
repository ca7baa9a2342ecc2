#pragma once
// The text side of a BERT tokenizer, matching Hugging Face `tokenizers`: UTF-8 repair, splitting
// out added tokens, the BertNormalizer (clean text, space CJK ideographs, strip accents,
// lowercase) and the BertPreTokenizer (split on whitespace, isolate punctuation). Everything after
// repair_utf8 expects valid UTF-8.
//
// Unicode data comes from utf8proc (its Unicode version, 15.0 for utf8proc 2.8). HF takes general
// categories from the unicode_categories crate (Unicode 8.0 tables) and lowercases with Rust's std,
// so the two can only differ on characters assigned, or recategorized, after Unicode 8.0 (2015):
// marks and punctuation of recently encoded scripts.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

/// Splits text around added tokens as HF's AddedVocabulary does: leftmost-longest
/// non-overlapping matches, dropped when single_word and inside a word, widened over the
/// whitespace on their left (lstrip) or right (rstrip).
class AddedTokenSplitter {
 public:
  struct Pattern {
    std::string text;
    int32_t id = -1;
    bool lstrip = false, rstrip = false, single_word = false;
  };
  void add(Pattern pattern);
  bool empty() const { return patterns_.empty(); }

  /// Calls on_text(std::string_view) for each non-empty stretch between tokens and
  /// on_token(int32_t id) for each token, in text order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText&& on_text, OnToken&& on_token) const;

 private:
  struct Match {
    const Pattern* pattern = nullptr;  // nullptr: no match
    size_t start = 0, stop = 0;        // the token's span, after lstrip / rstrip
    size_t search_from = 0;            // where the next search starts (the unwidened end)
  };
  /// The leftmost-longest match at or after `from`.
  Match find(std::string_view text, size_t from) const;
  /// Applies single_word (false: drop the match), then lstrip (never before `emitted_up_to`)
  /// and rstrip.
  static bool resolve(std::string_view text, size_t emitted_up_to, Match& match);

  std::vector<Pattern> patterns_;
  std::array<bool, 256> first_bytes_{};
};

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

template <typename OnText, typename OnToken>
void AddedTokenSplitter::split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
  size_t emitted_up_to = 0;
  for (Match match = find(text, 0); match.pattern; match = find(text, match.search_from)) {
    if (!resolve(text, emitted_up_to, match)) continue;
    if (emitted_up_to < match.start) on_text(text.substr(emitted_up_to, match.start - emitted_up_to));
    on_token(match.pattern->id);
    emitted_up_to = match.stop;
  }
  if (emitted_up_to < text.size()) on_text(text.substr(emitted_up_to));
}

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
