#include "data/prepare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "common/check.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/owned_folder.h"
#include "common/remove_tree.h"
#include "data/hashing.h"
#include "data/prepare_labels.h"
#include "data/row_checks.h"
#include "data/shard.h"
#include "data/text_table.h"

namespace negatron::data {
namespace {

namespace fs = std::filesystem;

TextTableOptions table_options(const PrepareOptions& o) {
  TextTableOptions table_options;
  table_options.format = o.format;
  table_options.has_header = o.has_header;
  table_options.encoding = o.encoding;
  return table_options;
}

/// Where the selected columns are in the input.
struct ColumnPlan {
  std::vector<size_t> text_index;
  std::optional<size_t> label_index;
  bool distinct = true;  // no input column is selected twice, so fields can be moved out
};

ColumnPlan plan_columns(const TextTableReader& reader, const PrepareOptions& o) {
  ColumnPlan plan;
  for (const auto& name : o.columns) plan.text_index.push_back(reader.column_index(name));
  if (!o.label_column.empty()) plan.label_index = reader.column_index(o.label_column);
  std::vector<size_t> all = plan.text_index;
  if (plan.label_index) all.push_back(*plan.label_index);
  std::sort(all.begin(), all.end());
  plan.distinct = std::adjacent_find(all.begin(), all.end()) == all.end();
  return plan;
}

/// Rows of `records` whose texts pass the checks (their fields are moved out); the others are
/// reported to `bad`, or dropped silently when `bad` is null.
std::vector<InputRow> checked_rows(std::vector<TextRecord>& records, const ColumnPlan& plan, const PrepareOptions& o,
                                   BadRows* bad) {
  std::vector<InputRow> rows;
  rows.reserve(records.size());
  auto take = [&](std::string& field) -> std::string {
    if (plan.distinct) return std::move(field);
    return field;
  };
  for (auto& record : records) {
    InputRow row{record.line, {}, plan.label_index ? take(record.fields[*plan.label_index]) : ""};
    std::string problem;
    for (size_t c = 0; c < plan.text_index.size() && problem.empty(); ++c) {
      row.texts.push_back(take(record.fields[plan.text_index[c]]));
      problem = text_problem(row.texts.back());
      if (!problem.empty()) problem = "column '" + o.columns[c] + "': " + problem;
    }
    if (!problem.empty()) {
      if (bad) bad->report(detail::concat(o.input, ":", record.line, ": ", problem));
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

/// A first pass over the input for the label kind and map (label type auto, or int without a
/// map); rows that the main pass will skip or fail on are left out here, silently.
LabelScan scan_labels(const PrepareOptions& o, size_t chunk) {
  TextTableOptions options = table_options(o);
  options.on_bad_record = [](int64_t, const std::string&) {};
  TextTableReader reader(o.input, options);
  const ColumnPlan columns = plan_columns(reader, o);
  LabelScan scan;
  scan.map_only_without_numbers = o.label_type == "auto";
  std::vector<TextRecord> records;
  while (reader.read(records, chunk) > 0) {
    for (const auto& row : checked_rows(records, columns, o, nullptr)) scan.add(row.label);
    records.clear();
  }
  return scan;
}

std::vector<std::string> stored_names(const PrepareOptions& o) {
  std::vector<std::string> names = o.columns;
  for (const auto& [from, to] : o.renames) {
    bool found = false;
    for (auto& name : names) {
      if (name == from) name = to, found = true;
    }
    NEG_CHECK(found || from == o.label_column, "--rename ", from, "=", to, ": '", from, "' is not a selected column");
  }
  for (const auto& name : names) {
    NEG_CHECK(!name.empty() && name.find('/') == std::string::npos, "column name '", name, "' is empty or has a '/'");
  }
  return names;
}

/// Token ids of every text of `rows`, on `threads` threads: ids[column][row].
std::vector<std::vector<std::vector<int32_t>>> tokenize_rows(const model::Tokenizer& tokenizer,
                                                             const std::vector<InputRow>& rows, int64_t max_length,
                                                             int threads) {
  const size_t columns = rows.front().texts.size(), count = rows.size();
  threads = static_cast<int>(std::min<size_t>(std::max(threads, 1), count));
  std::vector<std::vector<std::vector<int32_t>>> ids(columns, std::vector<std::vector<int32_t>>(count));
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (size_t i = t; i < count; i += threads) {
          for (size_t c = 0; c < columns; ++c) ids[c][i] = tokenizer.encode(rows[i].texts[c], max_length);
        }
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return ids;
}

ShardBlock empty_block(size_t columns, bool keep_text) {
  ShardBlock block;
  block.ids.resize(columns);
  block.hashes.resize(columns);
  if (keep_text) block.texts.resize(columns);
  return block;
}

/// Appends `rows` (tokenized here) and their labels to the shard being filled.
void append_rows(ShardBlock& block, const std::vector<InputRow>& rows, const LabelPlan& labels,
                 const model::Tokenizer& tokenizer, const PrepareOptions& o, int threads) {
  const auto ids = tokenize_rows(tokenizer, rows, o.max_seq_length, threads);
  for (size_t c = 0; c < ids.size(); ++c) {
    for (size_t i = 0; i < rows.size(); ++i) {
      block.ids[c].push(ids[c][i]);
      block.hashes[c].push_back(text_hash(rows[i].texts[c]));
      if (o.keep_text) block.texts[c].push(rows[i].texts[c]);
    }
  }
  if (labels.kind == LabelKind::kInt64) {
    block.int_labels.insert(block.int_labels.end(), labels.int_values.begin(), labels.int_values.end());
  } else if (labels.kind != LabelKind::kNone) {
    block.float_labels.insert(block.float_labels.end(), labels.float_values.begin(), labels.float_values.end());
  }
}

std::vector<std::vector<std::string>> column_texts(const std::vector<InputRow>& rows) {
  std::vector<std::vector<std::string>> texts(rows.front().texts.size());
  for (size_t c = 0; c < texts.size(); ++c) {
    for (const auto& row : rows) texts[c].push_back(row.texts[c]);
  }
  return texts;
}

}  // namespace

PrepareResult prepare_dataset(const PrepareOptions& o, const model::Tokenizer& tokenizer, const Teacher* teacher) {
  const auto start = std::chrono::steady_clock::now();
  NEG_CHECK(!o.columns.empty(), "prepare: no --columns given");
  NEG_CHECK(o.shard_rows > 0, "prepare: --shard-rows must be positive, got ", o.shard_rows);
  NEG_CHECK(o.chunk_rows > 0, "prepare: --chunk-rows must be positive, got ", o.chunk_rows);
  NEG_CHECK(o.max_seq_length >= 0, "prepare: --max-seq-length must be >= 0, got ", o.max_seq_length);
  NEG_CHECK(o.threads >= 0, "prepare: --threads must be >= 0 (0: all cores), got ", o.threads);
  NEG_CHECK(std::isfinite(o.label_scale) && o.label_scale != 0, "prepare: --label-scale must be a finite non-zero "
            "number, got ", o.label_scale);
  check_replaceable(o.output, "dataset", is_dataset_folder);  // before the work, not after it
  const size_t chunk = static_cast<size_t>(std::min(o.chunk_rows, o.shard_rows));
  BadRows bad{o.skip_bad_rows};
  TextTableOptions options = table_options(o);
  if (o.skip_bad_rows) options.on_bad_record = [&bad](int64_t, const std::string& message) { bad.report(message); };
  TextTableReader reader(o.input, options);
  const ColumnPlan columns = plan_columns(reader, o);
  std::optional<LabelScan> scan;
  if (!teacher && labels_need_scan(o)) scan = scan_labels(o, chunk);
  LabelPlan labels;
  if (teacher) {
    labels.kind = teacher->kind;
    labels.dimension = teacher->dimension;
  } else {
    labels = make_label_plan(o, scan ? &*scan : nullptr);
  }
  scan.reset();

  DatasetManifest manifest;
  manifest.text_columns = stored_names(o);
  manifest.label_column = teacher ? "teacher" : o.label_column;
  for (const auto& [from, to] : o.renames) {
    if (from == manifest.label_column) manifest.label_column = to;
  }
  manifest.label_kind = labels.kind;
  manifest.label_dimension = labels.dimension;
  manifest.label_map = labels.names;
  manifest.tokenizer_fingerprint = tokenizer.fingerprint();
  manifest.max_seq_length = o.max_seq_length;
  manifest.has_text = o.keep_text;
  manifest.source = o.source;
  if (teacher) manifest.source["teacher"] = teacher->description;

  const fs::path output = fs::absolute(o.output).lexically_normal();
  const fs::path tmp = building_folder_for(output.string());
  create_owned_folder(tmp.string(), "dataset");
  try {
    const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    Progress progress("prepare", std::max<int64_t>(1, reader.file_bytes() >> 10), o.progress, "KiB");
    ShardBlock block = empty_block(o.columns.size(), o.keep_text);
    std::vector<TextRecord> records;
    int64_t progress_kib = 0;
    while (true) {
      // A chunk never overfills the shard, so every shard but the last has exactly shard_rows rows.
      records.clear();
      const size_t want = std::min(chunk, static_cast<size_t>(o.shard_rows - block.rows()));
      const size_t got = reader.read(records, want);
      if (got > 0) {
        std::vector<InputRow> rows = checked_rows(records, columns, o, &bad);
        if (!teacher) parse_labels(rows, o, labels, bad);
        if (!rows.empty()) {
          if (teacher) labels.float_values = teacher->label(column_texts(rows));
          append_rows(block, rows, labels, tokenizer, o, threads);
        }
        labels.int_values.clear();
        labels.float_values.clear();
      }
      if (block.rows() > 0 && (block.rows() == o.shard_rows || got == 0)) {
        manifest.label_dimension = labels.dimension;  // float32_vector: known from the first row
        char name[32];
        std::snprintf(name, sizeof name, "shard-%05zu.h5", manifest.shards.size());
        manifest.shards.push_back(write_shard((tmp / name).string(), block, manifest));
        manifest.rows += block.rows();
        block = empty_block(o.columns.size(), o.keep_text);
      }
      const int64_t kib = reader.bytes_read() >> 10;
      progress.advance(kib - progress_kib, std::to_string(manifest.rows + block.rows()) + " rows");
      progress_kib = kib;
      if (got == 0) break;
    }
    progress.finish();
    NEG_CHECK(manifest.rows > 0, o.input, ": no usable rows (", bad.count, " skipped)");
    manifest.label_dimension = labels.dimension;
    manifest.skipped_rows = bad.count;
    write_manifest(tmp.string(), manifest);
    publish_folder(tmp.string(), output.string(), "dataset", is_dataset_folder);
  } catch (...) {
    try {
      remove_tree(tmp.string());
    } catch (const Error&) {  // keep the original error
    }
    throw;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {manifest.rows, bad.count, static_cast<int64_t>(manifest.shards.size()), seconds};
}

}  // namespace negatron::data
