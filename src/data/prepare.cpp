#include "data/prepare.h"

#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "common/check.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/remove_tree.h"
#include "data/hashing.h"
#include "data/prepare_labels.h"
#include "data/row_checks.h"
#include "data/shard.h"
#include "data/text_table.h"

namespace negatron::data {
namespace {

namespace fs = std::filesystem;

TextTable read_input(const PrepareOptions& o, BadRows& bad) {
  TextTableOptions table_options;
  table_options.format = o.format;
  table_options.has_header = o.has_header;
  table_options.encoding = o.encoding;
  if (o.skip_bad_rows) table_options.on_bad_record = [&bad](int64_t, const std::string& message) { bad.report(message); };
  return read_text_table(o.input, table_options);
}

/// Rows whose texts pass the checks; the others are reported.
std::vector<InputRow> checked_rows(const TextTable& table, const PrepareOptions& o, BadRows& bad) {
  std::vector<size_t> text_index;
  for (const auto& name : o.columns) text_index.push_back(table.column_index(name));
  const std::optional<size_t> label_index =
      o.label_column.empty() ? std::nullopt : std::optional<size_t>(table.column_index(o.label_column));
  std::vector<InputRow> rows;
  rows.reserve(table.records.size());
  for (const auto& record : table.records) {
    InputRow row{record.line, {}, label_index ? record.fields[*label_index] : ""};
    std::string problem;
    for (size_t c = 0; c < text_index.size() && problem.empty(); ++c) {
      row.texts.push_back(record.fields[text_index[c]]);
      problem = text_problem(row.texts.back());
      if (!problem.empty()) problem = "column '" + o.columns[c] + "': " + problem;
    }
    if (!problem.empty()) {
      bad.report(detail::concat(o.input, ":", record.line, ": ", problem));
      continue;
    }
    rows.push_back(std::move(row));
  }
  return rows;
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

/// Token ids of every text of rows[begin, end), on `threads` threads: ids[column][row - begin].
std::vector<std::vector<std::vector<int32_t>>> tokenize_block(const model::Tokenizer& tokenizer,
                                                              const std::vector<InputRow>& rows, size_t begin,
                                                              size_t end, int64_t max_length, int threads) {
  const size_t columns = rows[begin].texts.size(), count = end - begin;
  std::vector<std::vector<std::vector<int32_t>>> ids(columns, std::vector<std::vector<int32_t>>(count));
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (size_t i = t; i < count; i += threads) {
          for (size_t c = 0; c < columns; ++c) ids[c][i] = tokenizer.encode(rows[begin + i].texts[c], max_length);
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

ShardBlock build_block(const model::Tokenizer& tokenizer, const std::vector<InputRow>& rows, size_t begin, size_t end,
                       const PrepareOptions& o, int threads) {
  auto ids = tokenize_block(tokenizer, rows, begin, end, o.max_seq_length, threads);
  ShardBlock block;
  block.ids.resize(ids.size());
  block.hashes.resize(ids.size());
  if (o.keep_text) block.texts.resize(ids.size());
  for (size_t c = 0; c < ids.size(); ++c) {
    for (size_t i = begin; i < end; ++i) {
      block.ids[c].push(ids[c][i - begin]);
      block.hashes[c].push_back(text_hash(rows[i].texts[c]));
      if (o.keep_text) block.texts[c].push(rows[i].texts[c]);
    }
  }
  return block;
}

void attach_labels(ShardBlock& block, const LabelPlan& labels, size_t begin, size_t end) {
  if (labels.kind == LabelKind::kInt64) {
    block.int_labels.assign(labels.int_values.begin() + begin, labels.int_values.begin() + end);
  } else if (labels.kind != LabelKind::kNone) {
    const size_t width = labels.kind == LabelKind::kFloat32Vector ? labels.dimension : 1;
    block.float_labels.assign(labels.float_values.begin() + begin * width, labels.float_values.begin() + end * width);
  }
}

std::vector<std::vector<std::string>> block_texts(const std::vector<InputRow>& rows, size_t begin, size_t end) {
  std::vector<std::vector<std::string>> texts(rows[begin].texts.size());
  for (size_t c = 0; c < texts.size(); ++c) {
    for (size_t i = begin; i < end; ++i) texts[c].push_back(rows[i].texts[c]);
  }
  return texts;
}

/// Moves the finished temporary directory to `output`, replacing an older dataset there.
void publish(const fs::path& tmp, const fs::path& output) {
  if (fs::exists(output)) {
    NEG_CHECK(fs::exists(output / kManifestFile), output.string(),
              " exists and is not a negatron dataset; refusing to replace it");
    remove_tree(output.string());
  }
  fs::rename(tmp, output);
}

}  // namespace

PrepareResult prepare_dataset(const PrepareOptions& o, const model::Tokenizer& tokenizer, const Teacher* teacher) {
  const auto start = std::chrono::steady_clock::now();
  NEG_CHECK(!o.columns.empty(), "prepare: no --columns given");
  NEG_CHECK(o.shard_rows > 0, "prepare: --shard-rows must be positive, got ", o.shard_rows);
  BadRows bad{o.skip_bad_rows};
  const TextTable table = read_input(o, bad);
  std::vector<InputRow> rows = checked_rows(table, o, bad);
  LabelPlan labels = teacher ? LabelPlan{teacher->kind, teacher->dimension} : plan_labels(rows, o, bad);
  NEG_CHECK(!rows.empty(), o.input, ": no usable rows (", bad.count, " skipped)");

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
  const fs::path tmp = output.string() + ".tmp-" + std::to_string(::getpid());
  remove_tree(tmp.string());
  fs::create_directories(tmp);
  try {
    const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    Progress progress("prepare", static_cast<int64_t>(rows.size()), o.progress, "rows");
    for (size_t begin = 0; begin < rows.size(); begin += o.shard_rows) {
      const size_t end = std::min(rows.size(), begin + static_cast<size_t>(o.shard_rows));
      ShardBlock block = build_block(tokenizer, rows, begin, end, o, threads);
      if (teacher) {
        labels.float_values = teacher->label(block_texts(rows, begin, end));
        attach_labels(block, labels, 0, end - begin);
      } else {
        attach_labels(block, labels, begin, end);
      }
      char name[32];
      std::snprintf(name, sizeof name, "shard-%05zu.h5", manifest.shards.size());
      manifest.shards.push_back(write_shard((tmp / name).string(), block, manifest));
      manifest.rows += block.rows();
      progress.advance(block.rows());
    }
    progress.finish();
    manifest.skipped_rows = bad.count;
    write_manifest(tmp.string(), manifest);
    publish(tmp, output);
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
