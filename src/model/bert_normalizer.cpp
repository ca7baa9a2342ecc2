#include "model/bert_normalizer.h"

#include <utf8proc.h>

#include <algorithm>

namespace negatron::model {
namespace {

constexpr char32_t kReplacementChar = 0xFFFD;

/// Length of the well-formed UTF-8 sequence at s[0, n) (n >= 1), or 0 if it is ill-formed, in
/// which case *bad_length receives the length of its maximal subpart (at least 1 byte).
size_t well_formed_length(const unsigned char* s, size_t n, size_t* bad_length) {
  const unsigned char lead = s[0];
  if (lead < 0x80) return 1;
  size_t continuation_bytes = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;  // the second byte's range depends on lead
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_bytes = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_bytes = 2;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
    if (lead == 0xED) second_max = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_bytes = 3;
    if (lead == 0xF0) second_min = 0x90;  // no overlong forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    *bad_length = 1;
    return 0;
  }
  for (size_t i = 1; i <= continuation_bytes; ++i) {
    const unsigned char min = i == 1 ? second_min : 0x80, max = i == 1 ? second_max : 0xBF;
    if (i >= n || s[i] < min || s[i] > max) {
      *bad_length = i;
      return 0;
    }
  }
  return continuation_bytes + 1;
}

/// Offset of the first ill-formed sequence, or bytes.size() if there is none.
size_t first_ill_formed(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t pos = 0, bad_length = 0;
  while (pos < bytes.size()) {
    if (s[pos] < 0x80) {
      ++pos;
      continue;
    }
    const size_t length = well_formed_length(s + pos, bytes.size() - pos, &bad_length);
    if (length == 0) return pos;
    pos += length;
  }
  return pos;
}

bool is_chinese_char(char32_t c) {
  // The CJK ranges hard-coded by HF's BertNormalizer (and Google's original BERT).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

/// clean_text drops these: control, format and private-use characters other than \t \n \r.
bool is_removed_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO;
}

int combining_class(char32_t c) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

/// NFD: full canonical decomposition of every character, then canonical ordering of marks.
void decompose_canonically(const std::u32string& chars, std::u32string& out) {
  out.clear();
  utf8proc_int32_t buffer[32];
  for (const char32_t c : chars) {
    const auto count =
        utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buffer, 32, UTF8PROC_DECOMPOSE, nullptr);
    for (utf8proc_ssize_t i = 0; i < count && i < 32; ++i) out.push_back(static_cast<char32_t>(buffer[i]));
  }
  // Stable insertion sort of each run of non-starters by combining class.
  for (size_t i = 1; i < out.size(); ++i) {
    const int cls = combining_class(out[i]);
    if (cls == 0) continue;
    for (size_t j = i; j > 0; --j) {
      const int previous = combining_class(out[j - 1]);
      if (previous == 0 || previous <= cls) break;
      std::swap(out[j - 1], out[j]);
    }
  }
}

/// Rust's char::to_lowercase: the simple mapping, except U+0130 which lowercases to two chars.
void append_lowercase(char32_t c, std::string& out) {
  if (c == 0x130) {
    out.push_back('i');
    append_utf8(0x307, out);
    return;
  }
  append_utf8(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))), out);
}

constexpr std::array<detail::CharClass, 128> make_ascii_classes() {
  std::array<detail::CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    const bool space = c == ' ' || (c >= '\t' && c <= '\r');
    const bool punct =
        (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    classes[c] =
        space ? detail::CharClass::kSpace : (punct ? detail::CharClass::kPunct : detail::CharClass::kWord);
  }
  return classes;
}

/// Start of the character that ends at `end` (> 0).
size_t previous_char_start(std::string_view text, size_t end) {
  size_t pos = end - 1;
  while (pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) --pos;
  return pos;
}

bool word_char_before(std::string_view text, size_t pos) {
  if (pos == 0) return false;
  size_t start = previous_char_start(text, pos);
  return is_word_char(next_code_point(text, start));
}

bool word_char_at(std::string_view text, size_t pos) {
  return pos < text.size() && is_word_char(next_code_point(text, pos));
}

size_t skip_whitespace_backward(std::string_view text, size_t end) {
  while (end > 0) {
    size_t start = previous_char_start(text, end);
    const size_t char_start = start;
    if (!is_unicode_whitespace(next_code_point(text, start))) break;
    end = char_start;
  }
  return end;
}

size_t skip_whitespace_forward(std::string_view text, size_t pos) {
  while (pos < text.size()) {
    size_t next = pos;
    if (!is_unicode_whitespace(next_code_point(text, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

namespace detail {
const std::array<CharClass, 128> kAsciiClass = make_ascii_classes();
}  // namespace detail

std::string_view repair_utf8(std::string_view bytes, std::string& scratch) {
  size_t pos = first_ill_formed(bytes);
  if (pos == bytes.size()) return bytes;
  scratch.assign(bytes.data(), pos);
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t bad_length = 0;
  while (pos < bytes.size()) {
    const size_t length = well_formed_length(s + pos, bytes.size() - pos, &bad_length);
    if (length > 0) {
      scratch.append(bytes.data() + pos, length);
      pos += length;
    } else {
      append_utf8(kReplacementChar, scratch);
      pos += bad_length;
    }
  }
  return scratch;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

void AddedTokenSplitter::add(Pattern pattern) {
  if (pattern.text.empty()) return;
  first_bytes_[static_cast<unsigned char>(pattern.text[0])] = true;
  patterns_.push_back(std::move(pattern));
}

AddedTokenSplitter::Match AddedTokenSplitter::find(std::string_view text, size_t from) const {
  Match match;
  for (size_t pos = from; pos < text.size() && !patterns_.empty(); ++pos) {
    if (!first_bytes_[static_cast<unsigned char>(text[pos])]) continue;
    for (const Pattern& p : patterns_) {
      const bool longer = !match.pattern || p.text.size() > match.pattern->text.size();
      if (longer && text.compare(pos, p.text.size(), p.text) == 0) match.pattern = &p;
    }
    if (match.pattern) {
      match.start = pos;
      match.stop = match.search_from = pos + match.pattern->text.size();
      return match;
    }
  }
  return match;
}

bool AddedTokenSplitter::resolve(std::string_view text, size_t emitted_up_to, Match& match) {
  const Pattern& p = *match.pattern;
  if (p.single_word && (word_char_before(text, match.start) || word_char_at(text, match.stop))) return false;
  if (p.lstrip) match.start = std::max(emitted_up_to, skip_whitespace_backward(text, match.start));
  if (p.rstrip) match.stop = skip_whitespace_forward(text, match.stop);
  return true;
}

bool is_unicode_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
  if (c == 0x85) return true;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) return detail::kAsciiClass[c] == detail::CharClass::kPunct;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_word_char(char32_t c) {
  if (c == 0x200C || c == 0x200D) return true;  // Join_Control
  const auto cat = category(c);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ND) || cat == UTF8PROC_CATEGORY_NL ||
         cat == UTF8PROC_CATEGORY_PC;
}

void BertNormalizer::normalize(std::string_view text, std::string& out) const {
  // ASCII characters are starters (combining class 0), so NFD never reorders across them and each
  // maximal non-ASCII run can be normalized on its own.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos;
    const bool ascii = static_cast<unsigned char>(text[pos]) < 0x80;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) < 0x80) == ascii) ++end;
    if (ascii) {
      normalize_ascii(text.substr(pos, end - pos), out);
    } else {
      normalize_unicode(text.substr(pos, end - pos), out);
    }
    pos = end;
  }
}

void BertNormalizer::normalize_ascii(std::string_view text, std::string& out) const {
  for (const char byte : text) {
    char c = byte;
    if (options_.clean_text) {
      const bool kept_control = c == '\t' || c == '\n' || c == '\r';
      if ((c < 0x20 && !kept_control) || c == 0x7F) continue;
      if (kept_control) c = ' ';
    }
    if (options_.lowercase && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
  }
}

void BertNormalizer::normalize_unicode(std::string_view text, std::string& out) const {
  thread_local std::u32string chars, decomposed;
  chars.clear();
  for (size_t pos = 0; pos < text.size();) {
    char32_t c = next_code_point(text, pos);
    if (options_.clean_text) {
      if (c == 0 || c == kReplacementChar || is_removed_control(c)) continue;
      if (is_unicode_whitespace(c)) c = ' ';
    }
    if (options_.handle_chinese_chars && is_chinese_char(c)) {
      chars.append({U' ', c, U' '});
    } else {
      chars.push_back(c);
    }
  }
  const std::u32string* result = &chars;
  if (options_.strip_accents) {
    decompose_canonically(chars, decomposed);
    size_t kept = 0;
    for (const char32_t c : decomposed) {
      if (category(c) != UTF8PROC_CATEGORY_MN) decomposed[kept++] = c;
    }
    decomposed.resize(kept);
    result = &decomposed;
  }
  for (const char32_t c : *result) {
    if (options_.lowercase) {
      append_lowercase(c, out);
    } else {
      append_utf8(c, out);
    }
  }
}

}  // namespace negatron::model
