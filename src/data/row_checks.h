#pragma once
// Checks and conversions for one input row of `negatron prepare`; each returns "" when fine, or
// a message (without file:line, which the caller adds).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace negatron::data {

/// "" if `text` is well-formed UTF-8, else where the first bad byte is.
std::string utf8_problem(std::string_view text);
/// "" if the text is usable: not empty or whitespace only, valid UTF-8.
std::string text_problem(std::string_view text);

std::optional<int64_t> parse_int64(std::string_view text);
std::optional<double> parse_double(std::string_view text);
/// A JSON array of numbers "[0.1, 2]" or numbers separated by spaces or commas.
std::optional<std::vector<float>> parse_float_vector(std::string_view text);

/// The label map of a label_map file (JSON array of strings) -> id by name.
std::map<std::string, int64_t> read_label_map(const std::string& path, std::vector<std::string>* names);

}  // namespace negatron::data
