// Splitting an input at record boundaries: for every format and every part count, readers of the
// parts, one after the other, return exactly the records (fields, lines, offsets) and the bad-record
// reports of one reader of the whole file. Inputs are built to trip a splitter: CSV newlines and
// escaped quotes inside quoted fields, CRLF, blank lines, a last line without a newline, latin-1.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <unistd.h>

#include "common/remove_tree.h"
#include "data/input_split.h"
#include "data/text_table.h"

namespace negatron::data {
namespace {

namespace fs = std::filesystem;

struct Read {
  std::vector<TextRecord> records;
  std::vector<std::string> reports;
};

Read read_part(const std::string& path, TextTableOptions options, const InputPosition& begin, int64_t end) {
  Read out;
  options.begin = begin;
  options.end = end;
  options.on_bad_record = [&out](int64_t, const std::string& message) { out.reports.push_back(message); };
  TextTableReader reader(path, options);
  reader.read(out.records, std::numeric_limits<size_t>::max());
  return out;
}

void expect_parts_read_like_the_whole(const std::string& path, const TextTableOptions& options) {
  const std::string format = input_format(path, options.format);
  const Read whole = read_part(path, options, {}, -1);
  ASSERT_GT(whole.records.size(), 3u);
  for (int parts = 1; parts <= 7; ++parts) {
    SCOPED_TRACE("parts=" + std::to_string(parts));
    const std::vector<InputPosition> starts = split_input(path, format, parts);
    ASSERT_EQ(starts.size(), static_cast<size_t>(parts));
    Read joined;
    for (int p = 0; p < parts; ++p) {
      const int64_t end = p + 1 < parts ? starts[p + 1].offset : -1;
      ASSERT_LE(starts[p].offset, p + 1 < parts ? end : std::numeric_limits<int64_t>::max());
      Read part = read_part(path, options, starts[p], end);
      for (auto& record : part.records) joined.records.push_back(std::move(record));
      for (auto& report : part.reports) joined.reports.push_back(std::move(report));
    }
    ASSERT_EQ(joined.records.size(), whole.records.size());
    for (size_t i = 0; i < whole.records.size(); ++i) {
      EXPECT_EQ(joined.records[i].fields, whole.records[i].fields) << "record " << i;
      EXPECT_EQ(joined.records[i].line, whole.records[i].line) << "record " << i;
      EXPECT_EQ(joined.records[i].offset, whole.records[i].offset) << "record " << i;
    }
    EXPECT_EQ(joined.reports, whole.reports);
  }
}

class InputSplit : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("negatron_split_test_" + std::to_string(::getpid()));
    remove_tree(dir_.string());
    fs::create_directories(dir_);
  }
  void TearDown() override { remove_tree(dir_.string()); }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(InputSplit, CsvWithQuotedNewlinesEscapedQuotesCrlfAndBlankLines) {
  std::string csv = "text,label\r\n";
  for (int i = 0; i < 40; ++i) {
    csv += "\"row " + std::to_string(i) + " spans\nlines, with \"\"quotes\"\"\n\",a\r\n";
    csv += "plain " + std::to_string(i) + ",b\n";
    if (i % 7 == 0) csv += "\n\r\n";                       // blank lines between records
    if (i % 5 == 0) csv += "\"\"\"\n\"\"\",c\n";           // a field of a quote, a newline, a quote
    if (i % 9 == 0) csv += "too few fields\n";             // a bad record (reported, skipped)
  }
  csv += "\"last\nrecord\",z";  // no newline at the end
  expect_parts_read_like_the_whole(write("t.csv", csv), {});
}

TEST_F(InputSplit, CsvWithoutHeader) {
  std::string csv;
  for (int i = 0; i < 30; ++i) csv += "\"a\n" + std::to_string(i) + "\",b\n";
  TextTableOptions options;
  options.has_header = false;
  expect_parts_read_like_the_whole(write("t.csv", csv), options);
}

TEST_F(InputSplit, JsonlWithBadLinesAndColumnsFromTheFirstGoodLine) {
  std::string jsonl = "{broken\n";
  for (int i = 0; i < 50; ++i) {
    jsonl += "{\"a\": \"text with \\\"quote\\\" " + std::to_string(i) + "\", \"b\": " + std::to_string(i) + "}\n";
    if (i % 6 == 0) jsonl += "   \n{\"a\": \"no b\"}\n";
  }
  expect_parts_read_like_the_whole(write("t.jsonl", jsonl), {});
}

TEST_F(InputSplit, TsvTxtAndLabelFiles) {
  std::string tsv = "a\tb\n", txt, label;
  for (int i = 0; i < 60; ++i) {
    tsv += "x \"" + std::to_string(i) + "\tsecond\r\n" + (i % 8 == 0 ? "\nonly one field\n" : "");
    txt += "line \" " + std::to_string(i) + "\n" + (i % 10 == 0 ? "\n" : "");
    label += "LOC:city what is " + std::to_string(i) + "\n" + (i % 11 == 0 ? "nospace\n" : "");
  }
  expect_parts_read_like_the_whole(write("t.tsv", tsv), {});
  expect_parts_read_like_the_whole(write("t.txt", txt), {});
  expect_parts_read_like_the_whole(write("t.label", label), {});
}

TEST_F(InputSplit, Latin1OffsetsAreFileOffsets) {
  std::string csv = "text,n\n";
  for (int i = 0; i < 40; ++i) csv += "\"caf\xe9 \xf0\n" + std::to_string(i) + "\",1\n";
  TextTableOptions options;
  options.encoding = "latin-1";
  const std::string path = write("t.csv", csv);
  expect_parts_read_like_the_whole(path, options);
  EXPECT_EQ(read_part(path, options, {}, -1).records[0].fields[0], "caf\u00e9 \u00f0\n0");
}

TEST_F(InputSplit, ShortFilesGiveEmptyPartsNotDuplicates) {
  const std::string path = write("t.csv", "text\n\"a\nb\"\nc\n");
  for (int parts = 2; parts <= 40; ++parts) {
    size_t total = 0;
    const auto starts = split_input(path, "csv", parts);
    for (int p = 0; p < parts; ++p) {
      total += read_part(path, {}, starts[p], p + 1 < parts ? starts[p + 1].offset : -1).records.size();
    }
    EXPECT_EQ(total, 2u) << parts;
  }
}

TEST(RowPartStarts, EqualRowCounts) {
  const auto starts = row_part_starts(10, 3);
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(starts[0].offset, 0);
  EXPECT_EQ(starts[1].offset, 3);
  EXPECT_EQ(starts[2].offset, 6);
  EXPECT_EQ(starts[2].line, 7);
}

}  // namespace
}  // namespace negatron::data
