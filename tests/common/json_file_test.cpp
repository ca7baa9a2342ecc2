// parse_json / read_json_file / JsonFile: library errors become errors naming the file (and key).
#include "common/json_file.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "support/file_limit.h"

namespace negatron {
namespace {

using testing::error_of;

TEST(JsonFile, ParseErrorsNameTheOrigin) {
  for (const char* text : {"{\"a\": 1e999}", "{\"a\": }", "[1, 2", "\"\xff\"", ""}) {
    const std::string error = error_of([&] { parse_json(text, "data.jsonl:7"); });
    EXPECT_EQ(error.rfind("data.jsonl:7: invalid JSON", 0), 0u) << text << " -> " << error;
    EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
  }
  EXPECT_NE(error_of([] { parse_json("[1e999]", "x"); }).find("out of range"), std::string::npos);
}

TEST(JsonFile, TypedReadsNameTheKey) {
  const JsonFile file("config.json");
  const nlohmann::json json = parse_json(R"({"n": 5, "big": 3000000000, "neg": -1, "f": 2.5, "s": "x", "b": true,
                                             "list": [1, "two"]})", "config.json");
  EXPECT_EQ(file.required<int64_t>(json, "n"), 5);
  EXPECT_EQ(file.get_or<int>(json, "absent", 9), 9);
  EXPECT_DOUBLE_EQ(file.required<double>(json, "n"), 5.0);
  const auto expect = [](const std::function<void()>& call, const std::string& text) {
    const std::string error = error_of(call);
    EXPECT_NE(error.find(text), std::string::npos) << error;
    EXPECT_NE(error.find("config.json"), std::string::npos) << error;
  };
  expect([&] { file.required<int32_t>(json, "big"); }, "'big' must be an integer in range");
  expect([&] { file.required<uint64_t>(json, "neg"); }, "'neg' must be a non-negative integer");
  expect([&] { file.required<int64_t>(json, "f"); }, "'f' must be an integer");
  expect([&] { file.required<std::string>(json, "n"); }, "'n' must be a string");
  expect([&] { file.required<bool>(json, "s"); }, "'s' must be true or false");
  expect([&] { file.required<std::vector<int>>(json, "list"); }, "'list[1]' must be an integer");
  expect([&] { file.required<int>(json, "missing", "outer."); }, "missing key 'outer.missing'");
  expect([&] { file.required<int>(nlohmann::json::array(), "x", "outer."); }, "'outer.' must be a JSON object");
}

TEST(JsonFile, ReadFileNamesTheFile) {
  testing::ScratchFolder dir;
  EXPECT_NE(error_of([&] { read_json_file(dir / "absent.json"); }).find("cannot open"), std::string::npos);
  EXPECT_NE(error_of([&] { read_json_file(dir.path()); }).find("it is a folder"), std::string::npos);
  testing::write_plain_file(dir / "bad.json", "{\"a\": [1,");
  EXPECT_NE(error_of([&] { read_json_file(dir / "bad.json"); }).find(dir / "bad.json"), std::string::npos);
}

}  // namespace
}  // namespace negatron
