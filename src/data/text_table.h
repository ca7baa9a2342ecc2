#pragma once
// Reads tabular text input: .txt (one text a line), .jsonl, .csv (RFC 4180, quote-aware, CRLF,
// fields spanning lines), .tsv (split on TAB only, no quoting) and .parquet (data/parquet_table.h).
// Headers are required for .csv/.tsv unless has_header is false, in which case columns are named
// "0", "1", ... .label files (TREC style) hold "LABEL<space>text" per line: columns "label" and "text".
// Every record remembers the line it started on (for Parquet: its 1-based row), so errors can name
// file and line. A reader can read one part of a file (TextTableOptions::begin/end, positions found by
// data/input_split.h), which is how ranks of `mpirun negatron prepare` share one input.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace negatron::data {

struct TextRecord {
  int64_t line = 0;                 // 1-based line where the record starts (Parquet: 1-based row)
  std::vector<std::string> fields;  // one per column of the table
  int64_t offset = 0;               // where the record starts: byte offset (Parquet: 0-based row)
};

/// A record boundary of an input file: a byte offset (Parquet: a row index) and the line there.
struct InputPosition {
  int64_t offset = 0;
  int64_t line = 1;
  bool operator==(const InputPosition& other) const { return offset == other.offset && line == other.line; }
};

struct TextTable {
  std::string path;
  std::vector<std::string> columns;
  std::vector<TextRecord> records;

  /// Index of a column; throws naming the file and the available columns.
  size_t column_index(const std::string& name) const;
};

struct TextTableOptions {
  /// "" = from the file extension (txt, jsonl, csv, tsv, label, parquet).
  std::string format;
  bool has_header = true;
  /// For .jsonl: the keys to extract (others are ignored); empty = keys of the first good line.
  /// For .parquet: the columns to read (the others are never decoded); empty = every column.
  std::vector<std::string> select_columns;
  /// "utf-8" (bytes kept as they are) or "latin-1" (converted to UTF-8 before parsing).
  std::string encoding = "utf-8";
  /// If set, a malformed record (bad JSON, missing key, too few fields) is reported here
  /// ("file:line: why") and skipped instead of throwing. Structural CSV errors still throw.
  std::function<void(int64_t line, const std::string& message)> on_bad_record;
  /// Reads only the records that start at or after `begin` and before `end` (end < 0: to the end of
  /// the file). `begin` must be a record boundary: the file start or a position from split_input.
  /// The header (and for .jsonl without select_columns, the columns) still come from the file start.
  InputPosition begin;
  int64_t end = -1;
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
  /// The format in use: txt, jsonl, csv, tsv, label or parquet.
  const std::string& format() const;
  const std::vector<std::string>& columns() const;
  /// Index of a column; throws naming the file and the available columns.
  size_t column_index(const std::string& name) const;
  /// Throws, naming the file, the column and its type, unless column `name` holds strings (Parquet
  /// columns have types; the text formats' fields are all text).
  void check_text_column(const std::string& name) const;
  /// Appends up to `max_records` records to `out`; returns how many (0 only at the end of the input).
  size_t read(std::vector<TextRecord>& out, size_t max_records);
  /// Where the next record would start (byte offset; Parquet: row index): for progress.
  int64_t position() const;
  /// Size of the file in the same unit as position(): bytes (Parquet: rows).
  int64_t file_size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The format a reader uses for `path`: `format` if given, else the file's extension.
std::string input_format(const std::string& path, const std::string& format = "");

/// Reads the whole file. Malformed records throw negatron::Error naming file:line.
TextTable read_text_table(const std::string& path, const TextTableOptions& options = {});

/// Convenience for one column: .txt needs no column; others need `column` (or use the only one),
/// which must hold text (a Parquet string column).
std::vector<std::string> read_text_column(const std::string& path, const std::string& column,
                                          std::vector<int64_t>* lines = nullptr);

}  // namespace negatron::data
