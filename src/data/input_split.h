#pragma once
// Splitting one input file into parts that ranks read side by side (`mpirun negatron prepare`).
// Each part starts at a record boundary, so a TextTableReader given [starts[p], starts[p + 1]) reads
// exactly the records of part p, and the parts together read what one reader of the whole file does.
// Text formats split near equal byte offsets: a boundary is just after a newline that ends a record.
// In CSV a newline inside a quoted field does not end one; since RFC 4180 quotes come in pairs ("" is
// an escaped quote), a newline is outside quotes exactly when the number of '"' before it is even.
// That count is the prefix sum of the per-slice counts, which ranks compute in parallel (each scans
// 1/N of the bytes). Parquet splits at equal row counts.
#include <cstdint>
#include <string>
#include <vector>

#include "data/text_table.h"

namespace negatron::data {

/// Newlines and double quotes in a range of bytes.
struct ByteCounts {
  int64_t newlines = 0, quotes = 0;
};

/// Counts bytes [begin, end) of `path`.
ByteCounts count_bytes(const std::string& path, int64_t begin, int64_t end);

/// First byte of slice `index` when `size` bytes (or rows) are cut into `parts` equal slices.
int64_t slice_begin(int64_t size, int parts, int index);

/// Where each part begins, given the ByteCounts of every slice of a text-format file (slice p is
/// [slice_begin(size, n, p), slice_begin(size, n, p + 1)), n = slices.size()). Part 0 begins at the
/// file start; part p > 0 just after the first record-ending newline at or after its slice begins
/// (or at the end of the file). `quoted`: CSV quoting rules apply.
std::vector<InputPosition> text_part_starts(const std::string& path, bool quoted, const std::vector<ByteCounts>& slices);

/// Where each of `parts` parts of a Parquet file with `rows` rows begins (equal row counts).
std::vector<InputPosition> row_part_starts(int64_t rows, int parts);

/// The whole split on one process (tests; what the ranks compute together): the start of each of
/// `parts` parts of `path` in `format` (txt, jsonl, csv, tsv, label, parquet).
std::vector<InputPosition> split_input(const std::string& path, const std::string& format, int parts);

/// Size of the file in split units: bytes, or rows for Parquet.
int64_t input_size(const std::string& path, const std::string& format);

}  // namespace negatron::data
