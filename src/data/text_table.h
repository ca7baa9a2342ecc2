#pragma once
// Reads tabular text input: .txt (one text a line), .jsonl, .csv (RFC 4180, quote-aware, CRLF,
// fields spanning lines) and .tsv (split on TAB only, no quoting). Headers are required for
// .csv/.tsv unless has_header is false, in which case columns are named "0", "1", ...
// .label files (TREC style) hold "LABEL<space>text" per line: columns "label" and "text".
// Every record remembers the line it started on, so errors can name file and line.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace negatron::data {

struct TextRecord {
  int64_t line = 0;                 // 1-based line where the record starts
  std::vector<std::string> fields;  // one per column of the table
};

struct TextTable {
  std::string path;
  std::vector<std::string> columns;
  std::vector<TextRecord> records;

  /// Index of a column; throws naming the file and the available columns.
  size_t column_index(const std::string& name) const;
};

struct TextTableOptions {
  /// "" = from the file extension (txt, jsonl, csv, tsv).
  std::string format;
  bool has_header = true;
  /// For .jsonl: the keys to extract (others are ignored). Empty = keys of the first line.
  std::vector<std::string> jsonl_columns;
  /// "utf-8" (bytes kept as they are) or "latin-1" (converted to UTF-8 before parsing).
  std::string encoding = "utf-8";
  /// If set, a malformed record (bad JSON, missing key, too few fields) is reported here
  /// ("file:line: why") and skipped instead of throwing. Structural CSV errors still throw.
  std::function<void(int64_t line, const std::string& message)> on_bad_record;
};

/// Reads a table record by record, holding one input block (1 MiB) and the records asked for:
/// memory does not grow with the file. The header (csv/tsv) and, for .jsonl without given
/// columns, the first good record are read by the constructor, so columns() is known from then on.
/// Records, line numbers, errors and reports are those of read_text_table, in file order.
class TextTableReader {
 public:
  TextTableReader(const std::string& path, const TextTableOptions& options = {});
  ~TextTableReader();
  TextTableReader(TextTableReader&&) noexcept;

  const std::string& path() const;
  const std::vector<std::string>& columns() const;
  /// Index of a column; throws naming the file and the available columns.
  size_t column_index(const std::string& name) const;
  /// Appends up to `max_records` records to `out`; returns how many (0 only at the end of the input).
  size_t read(std::vector<TextRecord>& out, size_t max_records);
  /// Bytes of the file read so far, and its size (for progress).
  int64_t bytes_read() const;
  int64_t file_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads the whole file. Malformed records throw negatron::Error naming file:line.
TextTable read_text_table(const std::string& path, const TextTableOptions& options = {});

/// Convenience for one column: .txt needs no column; others need `column` (or use the only one).
std::vector<std::string> read_text_column(const std::string& path, const std::string& column,
                                          std::vector<int64_t>* lines = nullptr);

}  // namespace negatron::data
