#include "data/text_table.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/check.h"

namespace negatron::data {
namespace {

std::string extension_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(dot + 1);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, "cannot open input file ", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Splits into lines, dropping "\r" before "\n"; reports 1-based line numbers.
template <typename F>
void for_each_line(const std::string& text, F&& f) {
  size_t start = 0;
  int64_t line = 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    f(line, std::string_view(text).substr(start, stop - start));
    start = end + 1;
    ++line;
  }
}

std::vector<TextRecord> parse_csv(const std::string& path, const std::string& text) {
  std::vector<TextRecord> records;
  TextRecord current;
  std::string field;
  bool in_quotes = false, field_started_quoted = false, row_has_content = false;
  int64_t line = 1, quote_line = 0;
  current.line = 1;
  auto end_field = [&] {
    current.fields.push_back(std::move(field));
    field.clear();
    field_started_quoted = false;
  };
  auto end_row = [&] {
    if (row_has_content || !current.fields.empty() || !field.empty()) {
      end_field();
      records.push_back(std::move(current));
    }
    current = TextRecord{};
    row_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (!row_has_content) current.line = line;
    if (c == '"') {
      NEG_CHECK(field.empty() && !field_started_quoted, path, ":", line,
                ": stray '\"' inside an unquoted CSV field");
      in_quotes = field_started_quoted = row_has_content = true;
      quote_line = line;
    } else if (c == ',') {
      row_has_content = true;
      end_field();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else {
      NEG_CHECK(!field_started_quoted, path, ":", line, ": text after a closing quote in a CSV field");
      row_has_content = true;
      field.push_back(c);
    }
  }
  NEG_CHECK(!in_quotes, path, ":", quote_line, ": quoted CSV field is never closed");
  end_row();
  return records;
}

std::vector<TextRecord> parse_tsv(const std::string& text) {
  std::vector<TextRecord> records;
  for_each_line(text, [&](int64_t line, std::string_view row) {
    if (row.empty()) return;
    TextRecord record{line, {}};
    size_t start = 0;
    while (true) {
      size_t tab = row.find('\t', start);
      record.fields.emplace_back(row.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    records.push_back(std::move(record));
  });
  return records;
}

std::string json_field_text(const nlohmann::json& value, const std::string& path, int64_t line,
                            const std::string& key) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean() || value.is_array()) return value.dump();
  NEG_FAIL(path, ":", line, ": field '", key, "' is ", value.type_name(), ", expected a string or number");
}

// Runs parse(record) and, with options.on_bad_record set, turns its negatron::Error into a report.
template <typename F>
void guarded(const TextTableOptions& options, int64_t line, F&& parse) {
  if (!options.on_bad_record) return parse();
  try {
    parse();
  } catch (const Error& e) {
    options.on_bad_record(line, e.what());
  }
}

std::string latin1_to_utf8(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

void read_label_text(TextTable& table, const std::string& text, const TextTableOptions& options) {
  table.columns = {"label", "text"};
  for_each_line(text, [&](int64_t line, std::string_view row) {
    if (row.empty()) return;
    guarded(options, line, [&] {
      size_t space = row.find(' ');
      NEG_CHECK(space != std::string_view::npos && space > 0, table.path, ":", line,
                ": expected 'LABEL text' (no space after the label)");
      table.records.push_back(TextRecord{line, {std::string(row.substr(0, space)), std::string(row.substr(space + 1))}});
    });
  });
}

void read_jsonl_record(TextTable& table, int64_t line, std::string_view row) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(row);
  } catch (const nlohmann::json::parse_error& e) {
    NEG_FAIL(table.path, ":", line, ": invalid JSON (", e.what(), ")");
  }
  NEG_CHECK(object.is_object(), table.path, ":", line, ": expected a JSON object per line");
  if (table.columns.empty()) {
    for (auto& item : object.items()) table.columns.push_back(item.key());
  }
  TextRecord record{line, {}};
  for (const auto& key : table.columns) {
    auto it = object.find(key);
    NEG_CHECK(it != object.end(), table.path, ":", line, ": missing key '", key, "'");
    record.fields.push_back(json_field_text(*it, table.path, line, key));
  }
  table.records.push_back(std::move(record));
}

void read_jsonl(TextTable& table, const std::string& text, const TextTableOptions& options) {
  table.columns = options.jsonl_columns;
  for_each_line(text, [&](int64_t line, std::string_view row) {
    if (row.find_first_not_of(" \t") == std::string_view::npos) return;
    guarded(options, line, [&] { read_jsonl_record(table, line, row); });
  });
}

}  // namespace

size_t TextTable::column_index(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  std::string available;
  for (const auto& c : columns) available += (available.empty() ? "" : ", ") + c;
  NEG_FAIL(path, ": no column '", name, "' (columns: ", available, ")");
}

TextTable read_text_table(const std::string& path, const TextTableOptions& options) {
  TextTable table;
  table.path = path;
  const std::string format = options.format.empty() ? extension_of(path) : options.format;
  NEG_CHECK(options.encoding == "utf-8" || options.encoding == "latin-1", path, ": unknown encoding '",
            options.encoding, "' (expected utf-8 or latin-1)");
  const std::string text = options.encoding == "latin-1" ? latin1_to_utf8(slurp(path)) : slurp(path);
  if (format == "label") {
    read_label_text(table, text, options);
    return table;
  }
  if (format == "jsonl" || format == "json") {
    read_jsonl(table, text, options);
    return table;
  }
  if (format == "txt" || format == "text") {
    table.columns = {"text"};
    for_each_line(text, [&](int64_t line, std::string_view row) {
      table.records.push_back(TextRecord{line, {std::string(row)}});
    });
    return table;
  }
  NEG_CHECK(format == "csv" || format == "tsv", path, ": unknown input format '", format,
            "' (expected txt, jsonl, csv, tsv or label)");
  std::vector<TextRecord> records = format == "csv" ? parse_csv(path, text) : parse_tsv(text);
  size_t width = 0;
  if (options.has_header) {
    NEG_CHECK(!records.empty(), path, ": empty file, expected a header line");
    table.columns = records.front().fields;
    records.erase(records.begin());
    width = table.columns.size();
  } else if (!records.empty()) {
    width = records.front().fields.size();
    for (size_t i = 0; i < width; ++i) table.columns.push_back(std::to_string(i));
  }
  for (auto& record : records) {
    guarded(options, record.line, [&] {
      NEG_CHECK(record.fields.size() >= width, path, ":", record.line, ": ", record.fields.size(),
                " fields, expected ", width);
      record.fields.resize(width);  // extra trailing fields (e.g. STS-B source notes) are ignored
      table.records.push_back(std::move(record));
    });
  }
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
