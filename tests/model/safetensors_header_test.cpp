// The safetensors header parser refuses every malformed header with the file and tensor named:
// shapes that are objects, negative or overflowing dimensions, unknown dtypes, offsets outside
// the data or not matching the shape, non-JSON and numbers out of range.
#include "model/safetensors_header.h"

#include <gtest/gtest.h>

#include "support/error_of.h"

namespace negatron::model {
namespace {

using testing::error_of;

std::string error_for(const std::string& header, uint64_t data_size = 24) {
  return error_of([&] { parse_safetensors_header(header, data_size, "w.safetensors"); });
}

TEST(SafetensorsHeader, ParsesAValidHeader) {
  const auto entries = parse_safetensors_header(
      R"({"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})", 24,
      "w.safetensors");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].name, "a");
  EXPECT_EQ(entries[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(entries[0].end, 24u);
}

TEST(SafetensorsHeader, EveryMalformedEntryNamesFileAndTensor) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"a": {"dtype": "F32", "shape": {"x": 2}, "data_offsets": [0, 8]}})", "not a list"},
      {R"({"a": {"dtype": "F32", "shape": 6, "data_offsets": [0, 24]}})", "not a list"},
      {R"({"a": {"dtype": "F32", "shape": [-2, 3], "data_offsets": [0, 24]}})", "negative dimension"},
      {R"({"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}})", "a.shape[0]"},
      {R"({"a": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}})", "a.shape[0]"},
      {R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}})", "too large"},
      {R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})", "too large"},
      {R"({"a": {"dtype": 7, "shape": [2], "data_offsets": [0, 8]}})", "a.dtype"},
      {R"({"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})", "unsupported dtype 'Q4'"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 80]}})", "out of range"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", "out of range"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "shape needs 8"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-1, 7]}})", "a.data_offsets[0]"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": {"begin": 0}}})", "malformed data_offsets"},
      {R"({"a": {"dtype": "F32", "shape": [2]}})", "missing key 'a.data_offsets'"},
      {R"({"a": [1, 2]})", "tensor 'a' must be an object"},
      {R"({"a": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}})", "out of range"},
      {R"(["not", "an", "object"])", "not a JSON object"},
      {R"({not json)", "invalid JSON"},
  };
  for (const auto& [header, expected] : cases) {
    const std::string error = error_for(header);
    EXPECT_NE(error.find("w.safetensors"), std::string::npos) << header << " -> " << error;
    EXPECT_NE(error.find(expected), std::string::npos) << header << " -> " << error;
  }
}

TEST(SafetensorsHeader, HeaderLengthIsCheckedAgainstTheFile) {
  const unsigned char huge[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_NE(error_of([&] { safetensors_header_size(huge, 100, "w.safetensors"); }).find("exceeds the file size"),
            std::string::npos);
  const unsigned char small[8] = {16, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_NE(error_of([&] { safetensors_header_size(small, 7, "w.safetensors"); }).find("too short"), std::string::npos);
  EXPECT_EQ(safetensors_header_size(small, 24, "w.safetensors"), 16u);
}

}  // namespace
}  // namespace negatron::model
