#include "data/prepare_rows.h"

#include <algorithm>

#include "common/check.h"
#include "data/row_checks.h"

namespace negatron::data {

TextTableOptions part_table_options(const PrepareOptions& o, const InputPart& part, BadRows& bad) {
  TextTableOptions options;
  options.format = o.format;
  options.has_header = o.has_header;
  options.encoding = o.encoding;
  options.begin = part.begin;
  options.end = part.end;
  if (input_format(o.input, o.format) == "parquet") {  // decode only the columns stored
    options.select_columns = o.columns;
    if (!o.label_column.empty()) options.select_columns.push_back(o.label_column);
    std::sort(options.select_columns.begin(), options.select_columns.end());
    options.select_columns.erase(std::unique(options.select_columns.begin(), options.select_columns.end()),
                                 options.select_columns.end());
  }
  if (bad.skip || bad.silent) options.on_bad_record = [&bad](int64_t, const std::string& message) { bad.report(message); };
  return options;
}

CheckedRows::CheckedRows(const PrepareOptions& o, const LabelPlan& plan, const InputPart& part, BadRows& bad)
    : options_(o), plan_(plan), bad_(bad), reader_(o.input, part_table_options(o, part, bad)) {
  for (const auto& name : o.columns) {
    text_index_.push_back(reader_.column_index(name));
    reader_.check_text_column(name);
  }
  if (!o.label_column.empty()) label_index_ = reader_.column_index(o.label_column);
  std::vector<size_t> all = text_index_;
  if (label_index_) all.push_back(*label_index_);
  std::sort(all.begin(), all.end());
  distinct_ = std::adjacent_find(all.begin(), all.end()) == all.end();
}

RowBlock CheckedRows::next(size_t count) {
  RowBlock block;
  std::vector<TextRecord> records;
  auto take = [&](std::string& field) -> std::string { return distinct_ ? std::move(field) : field; };
  // Never more records than rows still wanted: a record gives at most one row, so nothing is left over.
  while (block.rows.size() < count) {
    records.clear();
    if (reader_.read(records, count - block.rows.size()) == 0) break;
    std::vector<InputRow> rows;
    rows.reserve(records.size());
    for (auto& record : records) {
      InputRow row{record.line, {}, label_index_ ? take(record.fields[*label_index_]) : ""};
      std::string problem;
      for (size_t c = 0; c < text_index_.size() && problem.empty(); ++c) {
        row.texts.push_back(take(record.fields[text_index_[c]]));
        problem = text_problem(row.texts.back());
        if (!problem.empty()) problem = "column '" + options_.columns[c] + "': " + problem;
      }
      if (!problem.empty()) {
        bad_.report(detail::concat(options_.input, ":", record.line, ": ", problem));
        continue;
      }
      rows.push_back(std::move(row));
    }
    parse_labels(rows, options_, plan_, bad_);
    block.int_labels.insert(block.int_labels.end(), plan_.int_values.begin(), plan_.int_values.end());
    block.float_labels.insert(block.float_labels.end(), plan_.float_values.begin(), plan_.float_values.end());
    plan_.int_values.clear();
    plan_.float_values.clear();
    for (auto& row : rows) block.rows.push_back(std::move(row));
  }
  return block;
}

void CheckedRows::skip(int64_t count, size_t chunk) {
  while (count > 0) {
    const size_t got = next(static_cast<size_t>(std::min<int64_t>(count, static_cast<int64_t>(chunk)))).rows.size();
    if (got == 0) break;
    count -= static_cast<int64_t>(got);
  }
}

LabelScan scan_labels(const PrepareOptions& o, const InputPart& part, size_t chunk) {
  BadRows quiet;
  quiet.silent = true;
  CheckedRows rows(o, LabelPlan{}, part, quiet);  // rows the main pass will skip or fail on are left out
  LabelScan scan;
  scan.map_only_without_numbers = o.label_type == "auto";
  while (true) {
    const RowBlock block = rows.next(chunk);
    if (block.rows.empty()) break;
    for (const auto& row : block.rows) scan.add(row.label);
  }
  return scan;
}

int64_t first_vector_dimension(const PrepareOptions& o, const InputPart& part, size_t chunk) {
  BadRows quiet;
  quiet.silent = true;
  CheckedRows rows(o, LabelPlan{}, part, quiet);
  while (true) {
    const RowBlock block = rows.next(chunk);
    if (block.rows.empty()) return 0;
    for (const auto& row : block.rows) {
      if (auto values = parse_float_vector(row.label)) return static_cast<int64_t>(values->size());
    }
  }
}

}  // namespace negatron::data
