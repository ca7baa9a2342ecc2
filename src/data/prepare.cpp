#include "data/prepare.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

#include "common/check.h"
#include "common/log.h"
#include "common/progress.h"
#include "data/dataset_writer.h"
#include "data/input_split.h"
#include "data/prepare_labels.h"
#include "data/prepare_rows.h"
#include "data/shard_builder.h"
#include "distributed/collective_step.h"
#include "distributed/config_agreement.h"

namespace negatron::data {
namespace {

using distributed::Communicator;
using distributed::run_collectively;

/// Every rank's `values` (the same count on every rank), rank after rank.
std::vector<int64_t> all_gather_int64(Communicator& comm, std::vector<int64_t> values) {
  const at::Tensor local = at::from_blob(values.data(), {static_cast<int64_t>(values.size())}, at::kLong);
  const at::Tensor all = comm.all_gather(local.clone()).cpu().contiguous();
  return std::vector<int64_t>(all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel());
}

/// The part of the input each rank reads (data/input_split.h), the same list on every rank.
std::vector<InputPart> split_parts(const PrepareOptions& o, Communicator& comm) {
  const int parts = comm.world_size();
  if (parts == 1) return {InputPart{}};
  const std::string format = input_format(o.input, o.format);
  int64_t size = 0;
  ByteCounts mine;
  run_collectively(comm, [&] {
    size = input_size(o.input, format);
    if (format != "parquet") {
      mine = count_bytes(o.input, slice_begin(size, parts, comm.rank()), slice_begin(size, parts, comm.rank() + 1));
    }
  });
  std::vector<InputPosition> starts;
  if (format == "parquet") {
    starts = row_part_starts(size, parts);
  } else {
    const std::vector<int64_t> counts = all_gather_int64(comm, {mine.newlines, mine.quotes});
    std::vector<ByteCounts> slices;
    for (int p = 0; p < parts; ++p) slices.push_back({counts[2 * p], counts[2 * p + 1]});
    run_collectively(comm, [&] { starts = text_part_starts(o.input, format == "csv", slices); });
  }
  std::vector<InputPart> out;
  for (int p = 0; p < parts; ++p) out.push_back({starts[p], p + 1 < parts ? starts[p + 1].offset : -1});
  return out;
}

/// The label kind, map and (float32_vector) dimension, from every part of the input.
LabelPlan label_plan(const PrepareOptions& o, const InputPart& part, Communicator& comm, size_t chunk) {
  std::optional<LabelScan> scan;
  if (labels_need_scan(o)) {
    LabelScan local;
    run_collectively(comm, [&] { local = scan_labels(o, part, chunk); });
    for (const std::string& text : distributed::all_gather_strings(comm, local.to_json())) {
      if (!scan) {
        scan = LabelScan::from_json(text);
      } else {
        scan->merge(LabelScan::from_json(text));
      }
    }
  }
  LabelPlan plan;
  run_collectively(comm, [&] { plan = make_label_plan(o, scan ? &*scan : nullptr); });
  if (plan.kind == LabelKind::kFloat32Vector) {
    int64_t local = 0;
    run_collectively(comm, [&] { local = first_vector_dimension(o, part, chunk); });
    for (int64_t dimension : all_gather_int64(comm, {local})) {
      if (plan.dimension == 0) plan.dimension = dimension;
    }
  }
  return plan;
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

DatasetManifest dataset_layout(const PrepareOptions& o, const model::Tokenizer& tokenizer, const LabelPlan& labels,
                               const Teacher* teacher) {
  DatasetManifest manifest;
  manifest.text_columns = stored_names(o);
  manifest.label_column = teacher ? "teacher" : o.label_column;
  for (const auto& [from, to] : o.renames) {
    if (from == manifest.label_column) manifest.label_column = to;
  }
  manifest.label_kind = teacher ? teacher->kind : labels.kind;
  manifest.label_dimension = teacher ? teacher->dimension : labels.dimension;
  manifest.label_map = labels.names;
  manifest.tokenizer_fingerprint = tokenizer.fingerprint();
  manifest.max_seq_length = o.max_seq_length;
  manifest.has_text = o.keep_text;
  manifest.source = o.source;
  if (teacher) manifest.source["teacher"] = teacher->description;
  return manifest;
}

/// Progress of one rank through its part: KiB of text (rows of Parquet) from the part's start.
class PartProgress {
 public:
  PartProgress(const char* what, const PrepareOptions& o, const InputPart& part)
      : shift_(input_format(o.input, o.format) == "parquet" ? 0 : 10),
        begin_(part.begin.offset),
        end_(part.end >= 0 ? part.end : input_size(o.input, input_format(o.input, o.format))),
        progress_(what, std::max<int64_t>(1, (end_ - begin_) >> shift_), o.progress, shift_ ? "KiB" : "rows") {}
  void update(int64_t position, const std::string& suffix) {
    const int64_t done = (std::min(position, end_) - begin_) >> shift_;
    progress_.advance(done - shown_, suffix);
    shown_ = done;
  }
  void finish() { progress_.finish(); }

 private:
  int shift_;
  int64_t begin_, end_, shown_ = 0;
  Progress progress_;
};

/// Pass 2: the good rows of each rank's part. Returns [g_r, g_r+1) of this rank (end -1 for the last
/// rank, which does not count: it reads to the end of the input anyway).
std::pair<int64_t, int64_t> own_rows(const PrepareOptions& o, const LabelPlan& plan, const InputPart& part,
                                     Communicator& comm, BadRows& bad, size_t chunk) {
  if (comm.world_size() == 1) return {0, -1};
  int64_t count = 0;
  run_collectively(comm, [&] {
    if (comm.rank() + 1 == comm.world_size()) return;
    CheckedRows rows(o, plan, part, bad);
    PartProgress progress("prepare: count", o, part);
    while (true) {
      const size_t got = rows.next(chunk).rows.size();
      if (got == 0) break;
      count += static_cast<int64_t>(got);
      progress.update(rows.position(), std::to_string(count) + " rows");
    }
    progress.finish();
  });
  const std::vector<int64_t> counts = all_gather_int64(comm, {count});
  int64_t first = 0;
  for (int r = 0; r < comm.rank(); ++r) first += counts[r];
  return {first, comm.rank() + 1 == comm.world_size() ? -1 : first + count};
}

std::vector<std::vector<std::string>> column_texts(const std::vector<InputRow>& rows) {
  std::vector<std::vector<std::string>> texts(rows.front().texts.size());
  for (size_t c = 0; c < texts.size(); ++c) {
    for (const auto& row : rows) texts[c].push_back(row.texts[c]);
  }
  return texts;
}

struct WritePass {
  const PrepareOptions& o;
  const model::Tokenizer& tokenizer;
  const Teacher* teacher;
  const LabelPlan& plan;
  size_t chunk;
  int threads;

  /// Pass 3: writes the shards whose first row is in [rows.first, rows.second); returns rows written.
  int64_t run(const InputPart& part, std::pair<int64_t, int64_t> rows, BadRows& bad, DatasetWriter& writer) const {
    const int64_t shard_rows = o.shard_rows;
    int64_t shard = (rows.first + shard_rows - 1) / shard_rows;
    if (rows.second >= 0 && shard * shard_rows >= rows.second) return 0;
    CheckedRows input(o, plan, InputPart{part.begin, -1}, bad);
    input.skip(shard * shard_rows - rows.first, chunk);
    ShardBuilder builder(tokenizer, o.columns.size(), {o.max_seq_length, o.keep_text, threads});
    PartProgress progress("prepare", o, part);
    int64_t written = 0;
    for (; rows.second < 0 || shard * shard_rows < rows.second; ++shard) {
      while (builder.rows() < shard_rows) {
        RowBlock block = input.next(static_cast<size_t>(std::min<int64_t>(chunk, shard_rows - builder.rows())));
        if (block.rows.empty()) break;
        if (teacher) block.float_labels = teacher->label(column_texts(block.rows));
        std::vector<std::vector<std::string>> texts;
        texts.reserve(block.rows.size());
        for (auto& row : block.rows) texts.push_back(std::move(row.texts));
        builder.append(texts, block.int_labels, block.float_labels);
        progress.update(input.position(), std::to_string(written + builder.rows()) + " rows");
      }
      const int64_t filled = builder.rows();
      if (filled == 0) break;
      writer.write_shard(shard, builder.take());
      written += filled;
      if (filled < shard_rows) break;  // the end of the input
    }
    progress.finish();
    return written;
  }
};

}  // namespace

PrepareResult prepare_dataset(const PrepareOptions& o, const model::Tokenizer& tokenizer, Communicator& comm,
                              const Teacher* teacher) {
  const auto start = std::chrono::steady_clock::now();
  NEG_CHECK(!o.columns.empty(), "prepare: no --columns given");
  NEG_CHECK(o.shard_rows > 0, "prepare: --shard-rows must be positive, got ", o.shard_rows);
  NEG_CHECK(o.chunk_rows > 0, "prepare: --chunk-rows must be positive, got ", o.chunk_rows);
  NEG_CHECK(o.max_seq_length >= 0, "prepare: --max-seq-length must be >= 0, got ", o.max_seq_length);
  NEG_CHECK(o.threads >= 0, "prepare: --threads must be >= 0 (0: all cores), got ", o.threads);
  NEG_CHECK(std::isfinite(o.label_scale) && o.label_scale != 0, "prepare: --label-scale must be a finite non-zero "
            "number, got ", o.label_scale);
  const size_t chunk = static_cast<size_t>(std::min(o.chunk_rows, o.shard_rows));
  const std::vector<InputPart> parts = split_parts(o, comm);
  const InputPart& part = parts[comm.rank()];
  // Teacher labels replace the label column, so there is nothing to parse (o.label_column is empty).
  const LabelPlan plan = label_plan(o, part, comm, chunk);
  DatasetManifest layout;
  run_collectively(comm, [&] { layout = dataset_layout(o, tokenizer, plan, teacher); });
  DatasetWriter writer(o.output, layout, comm);

  BadRows bad{o.skip_bad_rows};
  const std::pair<int64_t, int64_t> rows = own_rows(o, plan, part, comm, bad, chunk);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const WritePass pass{o, tokenizer, teacher, plan, chunk, o.threads > 0 ? o.threads : std::max(1, cores / comm.world_size())};
  // Ranks that counted have reported their part's bad rows; what they read now is counted silently.
  BadRows quiet{true, true};
  int64_t written = 0;
  run_collectively(comm, [&] { written = pass.run(part, rows, rows.second < 0 ? bad : quiet, writer); });
  int64_t total_rows = 0, total_bad = 0;
  const std::vector<int64_t> counts = all_gather_int64(comm, {written, bad.count});
  for (size_t r = 0; r < counts.size(); r += 2) total_rows += counts[r], total_bad += counts[r + 1];
  run_collectively(comm, [&] { NEG_CHECK(total_rows > 0, o.input, ": no usable rows (", total_bad, " skipped)"); });
  const DatasetManifest manifest = writer.publish(total_bad);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {manifest.rows, manifest.skipped_rows, static_cast<int64_t>(manifest.shards.size()), seconds};
}

PrepareResult prepare_dataset(const PrepareOptions& options, const model::Tokenizer& tokenizer, const Teacher* teacher) {
  const auto comm = distributed::make_local_communicator();
  return prepare_dataset(options, tokenizer, *comm, teacher);
}

}  // namespace negatron::data
