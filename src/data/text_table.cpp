#include "data/text_table.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <utility>
#include <nlohmann/json.hpp>

#include "common/check.h"
#include "common/json_file.h"
#include "data/parquet_table.h"

namespace negatron::data {
namespace {

std::string extension_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(dot + 1);
}

// The file's bytes through a 1 MiB buffer, converted to UTF-8 on the fly for latin-1 (which maps
// byte by byte: a byte >= 0x80 becomes two), so position() is always an offset into the file.
class ByteSource {
 public:
  ByteSource(const std::string& path, bool latin1) : in_(path, std::ios::binary), latin1_(latin1) {
    struct stat info {};
    NEG_CHECK(::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode), "input ", path, " is a folder, not a file");
    NEG_CHECK(in_, "cannot open input file ", path);
    in_.seekg(0, std::ios::end);
    file_bytes_ = static_cast<int64_t>(in_.tellg());
    in_.seekg(0, std::ios::beg);
  }
  int get() {
    if (pending_ >= 0) return std::exchange(pending_, -1);
    if (pos_ == buffer_.size() && !fill()) return EOF;
    const unsigned char c = static_cast<unsigned char>(buffer_[pos_++]);
    if (!latin1_ || c < 0x80) return c;
    pending_ = 0x80 | (c & 0x3F);
    return 0xC0 | (c >> 6);
  }
  int peek() {
    if (pending_ >= 0) return pending_;
    if (pos_ == buffer_.size() && !fill()) return EOF;
    const unsigned char c = static_cast<unsigned char>(buffer_[pos_]);
    return !latin1_ || c < 0x80 ? c : 0xC0 | (c >> 6);
  }
  /// The next line without its "\n"; false at the end of the input (nothing left to read).
  bool read_line(std::string& line) {
    line.clear();
    bool any = false;
    while (true) {
      if (pos_ == buffer_.size() && !fill()) return any;
      any = true;
      const char* begin = buffer_.data() + pos_;
      const size_t available = buffer_.size() - pos_;
      const void* newline = std::memchr(begin, '\n', available);
      const size_t length = newline ? static_cast<const char*>(newline) - begin : available;
      append(line, begin, length);
      pos_ += length;
      if (newline) {
        ++pos_;
        return true;
      }
    }
  }
  /// File offset of the next byte (between characters: never inside a converted latin-1 byte).
  int64_t position() const { return buffer_offset_ + static_cast<int64_t>(pos_); }
  void seek(int64_t offset) {
    NEG_CHECK(offset >= 0 && offset <= file_bytes_, "seek to ", offset, " outside the file");
    in_.clear();
    in_.seekg(offset);
    buffer_.clear();
    pos_ = 0;
    pending_ = -1;
    buffer_offset_ = offset;
  }
  int64_t file_bytes() const { return file_bytes_; }

 private:
  bool fill() {
    constexpr size_t kBlock = size_t{1} << 20;
    buffer_offset_ += static_cast<int64_t>(buffer_.size());
    buffer_.resize(kBlock);
    in_.read(buffer_.data(), static_cast<std::streamsize>(kBlock));
    buffer_.resize(static_cast<size_t>(in_.gcount()));
    pos_ = 0;
    // A UTF-8 byte order mark at the start of the file is not part of the first field.
    if (buffer_offset_ == 0 && buffer_.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      pos_ = 3;
      if (pos_ == buffer_.size()) return fill();
    }
    return !buffer_.empty();
  }
  void append(std::string& out, const char* bytes, size_t size) const {
    if (!latin1_) {
      out.append(bytes, size);
      return;
    }
    for (size_t i = 0; i < size; ++i) {
      const unsigned char c = static_cast<unsigned char>(bytes[i]);
      if (c < 0x80) {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
  }

  std::ifstream in_;
  bool latin1_;
  std::string buffer_;         // raw file bytes
  size_t pos_ = 0;
  int pending_ = -1;           // second UTF-8 byte of a latin-1 character, not yet returned
  int64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  int64_t file_bytes_ = 0;
};

// RFC 4180 records one at a time: quote-aware, CRLF, fields spanning lines.
class CsvParser {
 public:
  CsvParser(ByteSource& in, const std::string& path) : in_(in), path_(path) {}

  void start_at(const InputPosition& position) {
    in_.seek(position.offset);
    line_ = position.line;
  }

  /// The next record, unless it starts at or after `stop_at` (>= 0), where nothing of it is read.
  bool next(TextRecord& out, int64_t stop_at = -1) {
    TextRecord current;
    std::string field;
    bool in_quotes = false, field_started_quoted = false, row_has_content = false;
    int64_t quote_line = 0;
    current.line = line_;
    auto end_field = [&] {
      current.fields.push_back(std::move(field));
      field.clear();
      field_started_quoted = false;
    };
    auto has_row = [&] { return row_has_content || !current.fields.empty() || !field.empty(); };
    while (true) {
      if (!row_has_content && current.fields.empty() && field.empty()) {
        if (stop_at >= 0 && in_.position() >= stop_at) return false;
        current.offset = in_.position();
      }
      const int ci = in_.get();
      if (ci == EOF) {
        NEG_CHECK(!in_quotes, path_, ":", quote_line, ": quoted CSV field is never closed");
        if (!has_row()) return false;
        end_field();
        out = std::move(current);
        return true;
      }
      const char c = static_cast<char>(ci);
      if (in_quotes) {
        if (c == '"') {
          if (in_.peek() == '"') {
            field.push_back('"');
            in_.get();
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line_;
          field.push_back(c);
        }
        continue;
      }
      if (!row_has_content) current.line = line_;
      if (c == '"') {
        NEG_CHECK(field.empty() && !field_started_quoted, path_, ":", line_,
                  ": stray '\"' inside an unquoted CSV field");
        in_quotes = field_started_quoted = row_has_content = true;
        quote_line = line_;
      } else if (c == ',') {
        row_has_content = true;
        end_field();
      } else if (c == '\r' && in_.peek() == '\n') {
        continue;
      } else if (c == '\n') {
        ++line_;
        if (has_row()) {
          end_field();
          out = std::move(current);
          return true;
        }
        current = TextRecord{};
        current.line = line_;
        row_has_content = false;
      } else {
        NEG_CHECK(!field_started_quoted, path_, ":", line_, ": text after a closing quote in a CSV field");
        row_has_content = true;
        field.push_back(c);
      }
    }
  }

 private:
  ByteSource& in_;
  const std::string& path_;
  int64_t line_ = 1;
};

std::string json_field_text(const nlohmann::json& value, const std::string& path, int64_t line,
                            const std::string& key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean() || value.is_array()) return value.dump();
  NEG_FAIL(path, ":", line, ": field '", key, "' is ", value.type_name(), ", expected a string or number");
}

// Runs parse() and, with options.on_bad_record set, turns its negatron::Error into a report.
// Returns whether parse() succeeded.
template <typename F>
bool guarded(const TextTableOptions& options, int64_t line, F&& parse) {
  if (!options.on_bad_record) {
    parse();
    return true;
  }
  try {
    parse();
    return true;
  } catch (const Error& e) {
    options.on_bad_record(line, e.what());
    return false;
  }
}

size_t find_column(const std::string& path, const std::vector<std::string>& columns, const std::string& name) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  std::string available;
  for (const auto& c : columns) available += (available.empty() ? "" : ", ") + c;
  NEG_FAIL(path, ": no column '", name, "' (columns: ", available, ")");
}

}  // namespace

size_t TextTable::column_index(const std::string& name) const { return find_column(path, columns, name); }

struct TextTableReader::Impl {
  std::string path;
  TextTableOptions options;
  std::string format;
  std::unique_ptr<ByteSource> source;
  std::unique_ptr<CsvParser> csv;
  std::unique_ptr<ParquetRows> parquet;
  std::vector<std::string> columns;
  size_t width = 0;                 // csv/tsv: fields a record needs
  int64_t line = 0;                 // line-based formats: the last line read
  int64_t line_offset = 0;          // ... and where it starts
  std::string text;                 // the current line
  std::deque<TextRecord> pending;   // read ahead by the constructor

  bool before_end(int64_t offset) const { return options.end < 0 || offset < options.end; }

  // Line-based formats: the next line (1-based number in `line`, "\r" before "\n" dropped), unless
  // it starts at or after options.end.
  bool next_line() {
    line_offset = source->position();
    if (!before_end(line_offset) || !source->read_line(text)) return false;
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return true;
  }

  void start_lines_at(const InputPosition& position) {
    source->seek(position.offset);
    line = position.line - 1;
  }

  // csv/tsv records before the width check: TSV splits on TAB, skipping empty lines.
  bool next_split(TextRecord& out) {
    if (format == "csv") return csv->next(out, options.end);
    while (next_line()) {
      if (text.empty()) continue;
      TextRecord record{line, {}, line_offset};
      std::string_view row(text);
      size_t start = 0;
      while (true) {
        size_t tab = row.find('\t', start);
        record.fields.emplace_back(row.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
      }
      out = std::move(record);
      return true;
    }
    return false;
  }

  void jsonl_record(TextRecord& out) {
    const nlohmann::json object = parse_json(text, path + ":" + std::to_string(line));
    NEG_CHECK(object.is_object(), path, ":", line, ": expected a JSON object per line");
    if (columns.empty()) {
      for (auto& item : object.items()) columns.push_back(item.key());
    }
    TextRecord record{line, {}, line_offset};
    for (const auto& key : columns) {
      auto it = object.find(key);
      NEG_CHECK(it != object.end(), path, ":", line, ": missing key '", key, "'");
      record.fields.push_back(json_field_text(*it, path, line, key));
    }
    out = std::move(record);
  }

  // The next good record (bad ones throw, or are reported and skipped); false at the end.
  bool next(TextRecord& out) {
    if (!pending.empty()) {
      out = std::move(pending.front());
      pending.pop_front();
      return true;
    }
    if (parquet) return before_end(parquet->position()) && parquet->next(out, options.on_bad_record);
    if (format == "label") {
      while (next_line()) {
        if (text.empty()) continue;
        if (guarded(options, line, [&] {
              const size_t space = text.find(' ');
              NEG_CHECK(space != std::string::npos && space > 0, path, ":", line,
                        ": expected 'LABEL text' (no space after the label)");
              out = TextRecord{line, {text.substr(0, space), text.substr(space + 1)}, line_offset};
            })) {
          return true;
        }
      }
      return false;
    }
    if (format == "jsonl" || format == "json") {
      while (next_line()) {
        if (text.find_first_not_of(" \t") == std::string::npos) continue;
        if (guarded(options, line, [&] { jsonl_record(out); })) return true;
      }
      return false;
    }
    if (format == "txt" || format == "text") {
      if (!next_line()) return false;
      out = TextRecord{line, {text}, line_offset};
      return true;
    }
    TextRecord record;
    while (next_split(record)) {
      if (guarded(options, record.line, [&] {
            NEG_CHECK(record.fields.size() >= width, path, ":", record.line, ": ", record.fields.size(),
                      " fields, expected ", width);
          })) {
        record.fields.resize(width);  // extra trailing fields (e.g. STS-B source notes) are ignored
        out = std::move(record);
        return true;
      }
    }
    return false;
  }

  // jsonl without select_columns: the keys of the file's first good line (read quietly when this
  // reader starts later in the file: those lines are another reader's to report).
  void open_jsonl() {
    columns = options.select_columns;
    if (!columns.empty()) return start_lines_at(options.begin);
    if (options.begin.offset > 0) {
      TextTableOptions quiet = options;
      quiet.begin = {};
      quiet.end = -1;
      quiet.on_bad_record = [](int64_t, const std::string&) {};
      columns = TextTableReader(path, quiet).columns();
      return start_lines_at(options.begin);
    }
    TextRecord first;
    if (next(first)) pending.push_back(std::move(first));
  }

  // csv/tsv: the header (or, without one, the width of the first record) from the file start.
  void open_delimited() {
    if (format == "csv") csv = std::make_unique<CsvParser>(*source, path);
    const int64_t end = std::exchange(options.end, -1);
    TextRecord first;
    const bool any = next_split(first);
    options.end = end;
    if (options.has_header) {
      NEG_CHECK(any, path, ": empty file, expected a header line");
      columns = std::move(first.fields);
    } else if (any) {
      for (size_t i = 0; i < first.fields.size(); ++i) columns.push_back(std::to_string(i));
      if (options.begin.offset == 0 && before_end(first.offset)) pending.push_back(std::move(first));
    }
    width = columns.size();
    if (options.begin.offset == 0) return;
    NEG_CHECK(!options.has_header || options.begin.offset >= source->position(), path, ": start offset ",
              options.begin.offset, " lies inside the header");
    if (csv) {
      csv->start_at(options.begin);
    } else {
      start_lines_at(options.begin);
    }
  }
};

TextTableReader::TextTableReader(const std::string& path, const TextTableOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.options = options;
  m.format = input_format(path, options.format);
  NEG_CHECK(options.encoding == "utf-8" || options.encoding == "latin-1", path, ": unknown encoding '",
            options.encoding, "' (expected utf-8 or latin-1)");
  NEG_CHECK(options.begin.offset >= 0 && options.begin.line >= 1, path, ": invalid start position");
  if (m.format == "parquet") {
    m.parquet = std::make_unique<ParquetRows>(path, options.select_columns, options.begin.offset);
    m.columns = m.parquet->columns();
    return;
  }
  m.source = std::make_unique<ByteSource>(path, options.encoding == "latin-1");
  if (m.format == "label") {
    m.columns = {"label", "text"};
    m.start_lines_at(options.begin);
  } else if (m.format == "jsonl" || m.format == "json") {
    m.open_jsonl();
  } else if (m.format == "txt" || m.format == "text") {
    m.columns = {"text"};
    m.start_lines_at(options.begin);
  } else {
    NEG_CHECK(m.format == "csv" || m.format == "tsv", path, ": unknown input format '", m.format,
              "' (expected txt, jsonl, csv, tsv, label or parquet)");
    m.open_delimited();
  }
}

TextTableReader::~TextTableReader() = default;
TextTableReader::TextTableReader(TextTableReader&&) noexcept = default;

const std::string& TextTableReader::path() const { return impl_->path; }
const std::string& TextTableReader::format() const { return impl_->format; }
const std::vector<std::string>& TextTableReader::columns() const { return impl_->columns; }
size_t TextTableReader::column_index(const std::string& name) const {
  return find_column(impl_->path, impl_->columns, name);
}
void TextTableReader::check_text_column(const std::string& name) const {
  const size_t index = column_index(name);
  if (!impl_->parquet || impl_->parquet->is_text(index)) return;
  NEG_FAIL(impl_->path, ": column '", name, "' has type ", impl_->parquet->column_type(index),
           ", expected a string column");
}
int64_t TextTableReader::position() const {
  return impl_->parquet ? impl_->parquet->position() : impl_->source->position();
}
int64_t TextTableReader::file_size() const {
  return impl_->parquet ? impl_->parquet->total_rows() : impl_->source->file_bytes();
}

size_t TextTableReader::read(std::vector<TextRecord>& out, size_t max_records) {
  size_t count = 0;
  TextRecord record;
  while (count < max_records && impl_->next(record)) {
    out.push_back(std::move(record));
    ++count;
  }
  return count;
}

std::string input_format(const std::string& path, const std::string& format) {
  return format.empty() ? extension_of(path) : format;
}

TextTable read_text_table(const std::string& path, const TextTableOptions& options) {
  TextTableReader reader(path, options);
  TextTable table;
  table.path = path;
  while (reader.read(table.records, std::numeric_limits<size_t>::max()) > 0) {
  }
  table.columns = reader.columns();
  return table;
}

std::vector<std::string> read_text_column(const std::string& path, const std::string& column,
                                          std::vector<int64_t>* lines) {
  TextTableOptions options;
  if (!column.empty() && extension_of(path) == "parquet") options.select_columns = {column};
  TextTableReader reader(path, options);
  size_t index = 0;
  if (!column.empty()) {
    index = reader.column_index(column);
  } else {
    NEG_CHECK(reader.columns().size() == 1, path, ": has ", reader.columns().size(),
              " columns; choose one with --column");
  }
  reader.check_text_column(reader.columns()[index]);
  std::vector<TextRecord> records;
  while (reader.read(records, std::numeric_limits<size_t>::max()) > 0) {
  }
  std::vector<std::string> texts;
  texts.reserve(records.size());
  for (auto& record : records) {
    texts.push_back(std::move(record.fields[index]));
    if (lines) lines->push_back(record.line);
  }
  return texts;
}

}  // namespace negatron::data
