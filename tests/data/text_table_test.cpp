// The table reader on inputs the battery met: a UTF-8 byte order mark before a CSV/TSV/JSONL header,
// JSON numbers out of range (1e999) that must fail naming file:line or be skipped under --on-error
// skip, and a folder given as the input file.
#include "data/text_table.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "support/file_limit.h"

namespace negatron::data {
namespace {

using testing::error_of;
using testing::ScratchFolder;
using testing::write_plain_file;

TEST(TextTable, ByteOrderMarkBeforeTheHeaderIsDropped) {
  ScratchFolder dir;
  for (const char* name : {"t.csv", "t.tsv", "t.jsonl", "t.txt"}) {
    const std::string format = std::string(name).substr(2);
    const std::string body = format == "csv"     ? "anchor,positive\na,b\n"
                             : format == "tsv"   ? "anchor\tpositive\na\tb\n"
                             : format == "jsonl" ? "{\"anchor\": \"a\", \"positive\": \"b\"}\n"
                                                 : "a\n";
    write_plain_file(dir / name, "\xEF\xBB\xBF" + body);
    const TextTable table = read_text_table(dir / name);
    EXPECT_EQ(table.columns.front(), format == "txt" ? "text" : "anchor") << name;
    EXPECT_EQ(table.records.at(0).fields.at(0), "a") << name;
  }
  write_plain_file(dir / "only.csv", "\xEF\xBB\xBF");
  EXPECT_NE(error_of([&] { read_text_table(dir / "only.csv"); }).find("empty file"), std::string::npos);
}

TEST(TextTable, NumberOutOfRangeIsAnErrorOrASkippedRow) {
  ScratchFolder dir;
  write_plain_file(dir / "in.jsonl", "{\"a\": \"x\"}\n{\"a\": 1e999}\n{\"a\": \"y\"}\n");
  const std::string error = error_of([&] { read_text_table(dir / "in.jsonl"); });
  EXPECT_NE(error.find(dir / "in.jsonl:2"), std::string::npos) << error;
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
  TextTableOptions skip;
  std::vector<int64_t> skipped;
  skip.on_bad_record = [&](int64_t line, const std::string&) { skipped.push_back(line); };
  EXPECT_EQ(read_text_table(dir / "in.jsonl", skip).records.size(), 2u);
  EXPECT_EQ(skipped, std::vector<int64_t>{2});
}

TEST(TextTable, AFolderIsNotAnInputFile) {
  ScratchFolder dir;
  EXPECT_NE(error_of([&] { read_text_table(dir.path() + "/"); }).find("is a folder"), std::string::npos);
}

}  // namespace
}  // namespace negatron::data
