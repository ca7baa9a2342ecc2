#include "data/row_checks.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/check.h"

namespace negatron::data {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 if it is ill-formed (RFC 3629).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  const unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second >= 0xA0) return 0;  // surrogates
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second >= 0x90) return 0;  // beyond U+10FFFF
  return length;
}

}  // namespace

std::string utf8_problem(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) return "invalid UTF-8 at byte " + std::to_string(i);
    i += length;
  }
  return "";
}

std::string text_problem(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return "empty text";
  return utf8_problem(text);
}

std::optional<int64_t> parse_int64(std::string_view text) {
  const std::string s(text);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  const std::string s(text);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::vector<float>> parse_float_vector(std::string_view text) {
  std::string s(text);
  if (!s.empty() && s.front() == '[') {
    if (s.back() != ']') return std::nullopt;
    s = s.substr(1, s.size() - 2);
  }
  for (char& c : s) {
    if (c == ',') c = ' ';
  }
  std::vector<float> values;
  const char* p = s.c_str();
  while (true) {
    while (*p == ' ' || *p == '\t') ++p;
    if (*p == '\0') break;
    char* end = nullptr;
    const double value = std::strtod(p, &end);
    if (end == p || !std::isfinite(value)) return std::nullopt;
    values.push_back(static_cast<float>(value));
    p = end;
  }
  if (values.empty()) return std::nullopt;
  return values;
}

std::map<std::string, int64_t> read_label_map(const std::string& path, std::vector<std::string>* names) {
  std::ifstream in(path);
  NEG_CHECK(in, path, ": cannot open label map");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(path, ": invalid label map JSON (", e.what(), ")");
  }
  NEG_CHECK(json.is_array() && !json.empty(), path, ": label map must be a non-empty JSON array of strings");
  std::map<std::string, int64_t> ids;
  for (const auto& item : json) {
    NEG_CHECK(item.is_string(), path, ": label map entry ", item.dump(), " is not a string");
    NEG_CHECK(ids.emplace(item.get<std::string>(), ids.size()).second, path, ": label '", item.get<std::string>(),
              "' appears twice");
    names->push_back(item.get<std::string>());
  }
  return ids;
}

}  // namespace negatron::data
