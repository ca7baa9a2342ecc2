#pragma once
// Parquet input, the format Hugging Face datasets are stored in, read with Apache Arrow's C++ reader
// and handed out as TextRecords like the text formats: one record per row, `line` = 1-based row.
// Values become text the way prepare's label parsing reads them back: strings (also large and
// dictionary-encoded) as they are, integers in decimal, booleans as 0/1, floats in round-trip form
// (%.9g float32, %.17g float64), lists of numbers as "[a, b, ...]" (float32_vector labels).
// A null value makes the row a bad record. A selected column of another type (struct, binary, map,
// date, ...) is an error naming file, column and type.
// Only the selected columns are decoded (column projection), and rows are streamed in record batches
// (at most kParquetBatchRows rows, never more than one row group), so memory stays bounded by a batch
// whatever the file size. This interface is C++17; parquet_table.cpp alone includes Arrow, whose
// headers need C++20.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/text_table.h"

namespace negatron::data {

constexpr int64_t kParquetBatchRows = 8192;

class ParquetRows {
 public:
  /// Opens `path` and selects `columns` (in this order; empty: every column of a readable type),
  /// starting at row `first_row`. Errors name the file (and the column).
  ParquetRows(const std::string& path, const std::vector<std::string>& columns, int64_t first_row = 0);
  ~ParquetRows();
  ParquetRows(ParquetRows&&) noexcept;

  const std::vector<std::string>& columns() const;
  /// Arrow type of a selected column, e.g. "string", "list<element: float>".
  const std::string& column_type(size_t index) const;
  /// Whether a selected column holds strings (plain, large, view or dictionary-encoded).
  bool is_text(size_t index) const;
  /// Rows in the file, and the first row of each row group followed by that total.
  int64_t total_rows() const;
  std::vector<int64_t> row_group_starts() const;

  /// The next row (false at the end). A row with a null in a selected column is passed to
  /// `on_bad_record` ("file:row: column 'c' is null") and skipped, or throws without a handler.
  bool next(TextRecord& out, const std::function<void(int64_t line, const std::string& message)>& on_bad_record);
  /// Index of the row next() reads next.
  int64_t position() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace negatron::data
