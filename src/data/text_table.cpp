#include "data/text_table.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/check.h"
#include "common/json_file.h"

namespace negatron::data {
namespace {

std::string extension_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(dot + 1);
}

void latin1_to_utf8(const char* bytes, size_t size, std::string& out) {
  out.clear();
  out.reserve(size);
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

// The file's bytes (converted to UTF-8 for latin-1, which maps byte by byte) through a 1 MiB buffer.
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
    if (pos_ == buffer_.size() && !fill()) return EOF;
    return static_cast<unsigned char>(buffer_[pos_++]);
  }
  int peek() {
    if (pos_ == buffer_.size() && !fill()) return EOF;
    return static_cast<unsigned char>(buffer_[pos_]);
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
      if (newline) {
        const size_t length = static_cast<const char*>(newline) - begin;
        line.append(begin, length);
        pos_ += length + 1;
        return true;
      }
      line.append(begin, available);
      pos_ = buffer_.size();
    }
  }
  int64_t bytes_read() const { return bytes_read_; }
  int64_t file_bytes() const { return file_bytes_; }

 private:
  bool fill() {
    // 1 MiB at a time, less for a small file (the +1 finds the end without another call); a
    // stream of unknown size (a pipe) reads 1 MiB blocks.
    const int64_t left = file_bytes_ > 0 ? std::max<int64_t>(0, file_bytes_ - bytes_read_) : int64_t{1} << 20;
    const size_t block = static_cast<size_t>(std::min<int64_t>(int64_t{1} << 20, left + 1));
    raw_.resize(block);
    in_.read(raw_.data(), static_cast<std::streamsize>(block));
    size_t got = static_cast<size_t>(in_.gcount());
    if (got == 0) return false;
    size_t skip = 0;
    if (bytes_read_ == 0 && got >= 3 && std::memcmp(raw_.data(), "\xEF\xBB\xBF", 3) == 0) skip = 3;  // UTF-8 BOM
    bytes_read_ += static_cast<int64_t>(got);
    if (skip > 0) {
      std::memmove(raw_.data(), raw_.data() + skip, got - skip);
      got -= skip;
      if (got == 0) return fill();
    }
    if (latin1_) {
      latin1_to_utf8(raw_.data(), got, buffer_);
    } else {
      raw_.resize(got);
      buffer_.swap(raw_);
    }
    pos_ = 0;
    return true;
  }

  std::ifstream in_;
  bool latin1_;
  std::string raw_, buffer_;
  size_t pos_ = 0;
  int64_t bytes_read_ = 0, file_bytes_ = 0;
};

// RFC 4180 records one at a time: quote-aware, CRLF, fields spanning lines.
class CsvParser {
 public:
  CsvParser(ByteSource& in, const std::string& path) : in_(in), path_(path) {}

  bool next(TextRecord& out) {
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
  std::vector<std::string> columns;
  size_t width = 0;                 // csv/tsv: fields a record needs
  int64_t line = 0;                 // line-based formats: the last line read
  std::string text;                 // the current line
  std::deque<TextRecord> pending;   // read ahead by the constructor

  // Line-based formats: the next line (1-based number in `line`, "\r" before "\n" dropped).
  bool next_line() {
    if (!source->read_line(text)) return false;
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return true;
  }

  // csv/tsv records before the width check: TSV splits on TAB, skipping empty lines.
  bool next_split(TextRecord& out) {
    if (format == "csv") return csv->next(out);
    while (next_line()) {
      if (text.empty()) continue;
      TextRecord record{line, {}};
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
    TextRecord record{line, {}};
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
    if (format == "label") {
      while (next_line()) {
        if (text.empty()) continue;
        if (guarded(options, line, [&] {
              const size_t space = text.find(' ');
              NEG_CHECK(space != std::string::npos && space > 0, path, ":", line,
                        ": expected 'LABEL text' (no space after the label)");
              out = TextRecord{line, {text.substr(0, space), text.substr(space + 1)}};
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
      out = TextRecord{line, {text}};
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
};

TextTableReader::TextTableReader(const std::string& path, const TextTableOptions& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.path = path;
  m.options = options;
  m.format = options.format.empty() ? extension_of(path) : options.format;
  NEG_CHECK(options.encoding == "utf-8" || options.encoding == "latin-1", path, ": unknown encoding '",
            options.encoding, "' (expected utf-8 or latin-1)");
  m.source = std::make_unique<ByteSource>(path, options.encoding == "latin-1");
  if (m.format == "label") {
    m.columns = {"label", "text"};
  } else if (m.format == "jsonl" || m.format == "json") {
    m.columns = options.jsonl_columns;
    TextRecord first;
    if (m.columns.empty() && m.next(first)) m.pending.push_back(std::move(first));  // columns from the first record
  } else if (m.format == "txt" || m.format == "text") {
    m.columns = {"text"};
  } else {
    NEG_CHECK(m.format == "csv" || m.format == "tsv", path, ": unknown input format '", m.format,
              "' (expected txt, jsonl, csv, tsv or label)");
    if (m.format == "csv") m.csv = std::make_unique<CsvParser>(*m.source, m.path);
    TextRecord first;
    const bool any = m.next_split(first);
    if (options.has_header) {
      NEG_CHECK(any, path, ": empty file, expected a header line");
      m.columns = std::move(first.fields);
    } else if (any) {
      for (size_t i = 0; i < first.fields.size(); ++i) m.columns.push_back(std::to_string(i));
      m.pending.push_back(std::move(first));
    }
    m.width = m.columns.size();
  }
}

TextTableReader::~TextTableReader() = default;
TextTableReader::TextTableReader(TextTableReader&&) noexcept = default;

const std::string& TextTableReader::path() const { return impl_->path; }
const std::vector<std::string>& TextTableReader::columns() const { return impl_->columns; }
size_t TextTableReader::column_index(const std::string& name) const {
  return find_column(impl_->path, impl_->columns, name);
}
int64_t TextTableReader::bytes_read() const { return impl_->source->bytes_read(); }
int64_t TextTableReader::file_bytes() const { return impl_->source->file_bytes(); }

size_t TextTableReader::read(std::vector<TextRecord>& out, size_t max_records) {
  size_t count = 0;
  TextRecord record;
  while (count < max_records && impl_->next(record)) {
    out.push_back(std::move(record));
    ++count;
  }
  return count;
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
  TextTable table = read_text_table(path);
  size_t index = 0;
  if (!column.empty()) {
    index = table.column_index(column);
  } else {
    NEG_CHECK(table.columns.size() == 1, path, ": has ", table.columns.size(),
              " columns; choose one with --column");
  }
  std::vector<std::string> texts;
  texts.reserve(table.records.size());
  for (auto& record : table.records) {
    texts.push_back(std::move(record.fields[index]));
    if (lines) lines->push_back(record.line);
  }
  return texts;
}

}  // namespace negatron::data
