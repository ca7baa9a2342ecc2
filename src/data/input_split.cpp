#include "data/input_split.h"

#include <algorithm>
#include <fstream>

#include "common/check.h"
#include "data/parquet_table.h"

namespace negatron::data {
namespace {

constexpr size_t kBlock = size_t{1} << 20;

/// Calls visit(byte) for bytes of `path` from `begin` until visit returns false or `end` is reached;
/// returns the offset after the last byte visited.
template <typename Visit>
int64_t scan(const std::string& path, int64_t begin, int64_t end, Visit&& visit) {
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, "cannot open input file ", path);
  in.seekg(begin);
  std::string block(kBlock, '\0');
  int64_t offset = begin;
  while (end < 0 || offset < end) {
    const auto want = static_cast<std::streamsize>(end < 0 ? kBlock : std::min<int64_t>(kBlock, end - offset));
    in.read(block.data(), want);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    for (size_t i = 0; i < got; ++i) {
      ++offset;
      if (!visit(block[i])) return offset;
    }
  }
  return offset;
}

int64_t file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  NEG_CHECK(in, "cannot open input file ", path);
  return static_cast<int64_t>(in.tellg());
}

}  // namespace

ByteCounts count_bytes(const std::string& path, int64_t begin, int64_t end) {
  ByteCounts counts;
  scan(path, begin, end, [&](char c) {
    counts.newlines += c == '\n';
    counts.quotes += c == '"';
    return true;
  });
  return counts;
}

int64_t slice_begin(int64_t size, int parts, int index) {
  return static_cast<int64_t>(static_cast<__int128>(size) * index / parts);
}

std::vector<InputPosition> text_part_starts(const std::string& path, bool quoted, const std::vector<ByteCounts>& slices) {
  const int parts = static_cast<int>(slices.size());
  const int64_t size = file_bytes(path);
  std::vector<InputPosition> starts{InputPosition{}};
  ByteCounts before = slices.empty() ? ByteCounts{} : slices[0];  // counts of the bytes before slice p
  for (int p = 1; p < parts; ++p) {
    const int64_t from = slice_begin(size, parts, p);
    int64_t newlines = before.newlines, quotes = before.quotes;
    bool found = false;
    const int64_t after = scan(path, from, -1, [&](char c) {
      if (c == '"') ++quotes;
      if (c != '\n') return true;
      ++newlines;
      found = !quoted || quotes % 2 == 0;
      return !found;
    });
    InputPosition start{found ? after : size, newlines + 1};
    starts.push_back(std::max(start, starts.back(), [](const auto& a, const auto& b) { return a.offset < b.offset; }));
    before.newlines += slices[p].newlines;
    before.quotes += slices[p].quotes;
  }
  return starts;
}

std::vector<InputPosition> row_part_starts(int64_t rows, int parts) {
  std::vector<InputPosition> starts;
  for (int p = 0; p < parts; ++p) {
    const int64_t row = slice_begin(rows, parts, p);
    starts.push_back({row, row + 1});
  }
  return starts;
}

int64_t input_size(const std::string& path, const std::string& format) {
  if (format == "parquet") return ParquetRows(path, {}).total_rows();
  return file_bytes(path);
}

std::vector<InputPosition> split_input(const std::string& path, const std::string& format, int parts) {
  NEG_CHECK(parts >= 1, "split_input: parts must be >= 1, got ", parts);
  const int64_t size = input_size(path, format);
  if (format == "parquet") return row_part_starts(size, parts);
  std::vector<ByteCounts> slices;
  for (int p = 0; p < parts; ++p) {
    slices.push_back(count_bytes(path, slice_begin(size, parts, p), slice_begin(size, parts, p + 1)));
  }
  return text_part_starts(path, format == "csv", slices);
}

}  // namespace negatron::data
