// negatron prepare (and read-bench): a JSONL/CSV/TSV/Parquet table -> a dataset directory of tokenized
// HDF5 shards (docs/dataset_format.md), optionally with teacher labels computed by `negatron encode`'s
// code. Under mpirun the ranks split the input and write the same dataset one process would.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "cli/collective_failure.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/log.h"
#include "data/dataset_reader.h"
#include "data/deletion_noise.h"
#include "data/prefetcher.h"
#include "data/prepare.h"
#include "distributed/bootstrap.h"
#include "model/sentence_encoder.h"

namespace negatron::cli {
namespace {

struct PrepareArgs {
  data::PrepareOptions options;
  std::string model, columns, on_error = "fail", teacher, teacher_label = "embedding";
  std::vector<std::string> renames;
  bool no_header = false;
  bool deletion_noise = false;  // TSDAE: (noisy, text) pairs from one column, data/deletion_noise.h
  data::DeletionNoiseOptions noise;
};

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::vector<float> to_floats(const at::Tensor& tensor) {
  at::Tensor t = tensor.to(at::kFloat).contiguous();
  std::vector<float> out(t.numel());
  if (!out.empty()) std::memcpy(out.data(), t.data_ptr<float>(), out.size() * sizeof(float));
  return out;
}

// MSELoss: the teacher's embedding of the first column. MarginMSELoss: dot(q, pos) - dot(q, neg_i)
// for each negative column (float32 with one negative, float32_vector with several).
data::Teacher make_teacher(const PrepareArgs& args) {
  auto encoder = model::SentenceEncoder::load(args.teacher);
  data::Teacher teacher;
  if (args.teacher_label == "embedding") {
    teacher.kind = data::LabelKind::kFloat32Vector;
    teacher.dimension = encoder->embedding_dimension();
    teacher.description = "embedding of column 0 by " + args.teacher;
    teacher.label = [encoder](const std::vector<std::vector<std::string>>& texts) {
      return to_floats(encoder->encode(texts.at(0)));
    };
    return teacher;
  }
  NEG_CHECK(args.teacher_label == "margin", "--teacher-label must be embedding or margin, got ", args.teacher_label);
  const int64_t negatives = static_cast<int64_t>(args.options.columns.size()) - 2;
  NEG_CHECK(negatives >= 1, "--teacher-label margin needs columns query,positive,negative[,...]");
  teacher.kind = negatives == 1 ? data::LabelKind::kFloat32 : data::LabelKind::kFloat32Vector;
  teacher.dimension = negatives == 1 ? 0 : negatives;
  teacher.description = "margin dot(q,pos) - dot(q,neg) by " + args.teacher;
  teacher.label = [encoder](const std::vector<std::vector<std::string>>& texts) {
    at::Tensor query = encoder->encode(texts[0]), positive = (query * encoder->encode(texts[1])).sum(1);
    std::vector<at::Tensor> margins;
    for (size_t c = 2; c < texts.size(); ++c) margins.push_back(positive - (query * encoder->encode(texts[c])).sum(1));
    return to_floats(at::stack(margins, 1));
  };
  return teacher;
}

int run_prepare(PrepareArgs& args) {
  distributed::BootstrapOptions boot;
  boot.backend = "mpi";  // prepare runs on CPUs; the communicator only coordinates the ranks
  const distributed::Runtime runtime = distributed::bootstrap(boot);
  data::PrepareOptions& o = args.options;
  o.columns = split_commas(args.columns);
  o.has_header = !args.no_header;
  NEG_CHECK(args.on_error == "skip" || args.on_error == "fail", "--on-error must be skip or fail, got ", args.on_error);
  o.skip_bad_rows = args.on_error == "skip";
  for (const auto& rename : args.renames) {
    const auto eq = rename.find('=');
    NEG_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < rename.size(), "--rename expects OLD=NEW, got ", rename);
    o.renames.emplace_back(rename.substr(0, eq), rename.substr(eq + 1));
  }
  NEG_CHECK(o.max_seq_length >= 0, "--max-seq-length must be >= 0 (0: the model's), got ", o.max_seq_length);
  auto encoder = model::SentenceEncoder::load(args.model);
  if (o.max_seq_length == 0) o.max_seq_length = encoder->max_seq_length();
  o.source = {{"input", o.input}, {"model", args.model}, {"columns", o.columns}, {"label", o.label_column}};
  std::optional<data::DeletionNoiseInput> noisy_input;  // rewrites o.input/columns; deletes its file at exit
  if (args.deletion_noise) noisy_input.emplace(o, args.noise);
  std::unique_ptr<data::Teacher> teacher;
  if (!args.teacher.empty()) {
    NEG_CHECK(o.label_column.empty(), "--teacher replaces the label; do not also give --label");
    teacher = std::make_unique<data::Teacher>(make_teacher(args));
  }
  data::PrepareResult result;
  if (run_reporting_collective_failure(*runtime.comm, [&] {
        result = data::prepare_dataset(o, encoder->tokenizer(), *runtime.comm, teacher.get());
      }) != 0) {
    return 1;
  }
  log::info0("prepared ", result.rows, " rows in ", result.shards, " shard(s) in ", result.seconds, " s (",
             static_cast<int64_t>(result.rows / std::max(result.seconds, 1e-9)), " rows/s, ",
             runtime.comm->world_size(), " rank(s)); skipped ", result.skipped_rows, " bad row(s); wrote ", o.output);
  return 0;
}

}  // namespace

void register_prepare_command(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  data::PrepareOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "prepare", "Tokenize a JSONL/CSV/TSV/Parquet table into a sharded HDF5 dataset (mpirun -np N: N ranks)");
  cmd->add_option("--model", args->model, "model folder whose tokenizer is used")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--input", o.input, "table: .jsonl, .csv, .tsv (headers), .parquet or .label (TREC)")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", o.output, "dataset directory to create (replaced if it is a dataset)")->required();
  cmd->add_option("--columns", args->columns, "text columns, comma-separated, in order (e.g. anchor,positive)")->required();
  cmd->add_option("--rename", args->renames, "store column OLD as NEW (OLD=NEW, repeatable)");
  cmd->add_option("--label", o.label_column, "label column");
  cmd->add_option("--label-type", o.label_type, "auto|int|float|float-vector")->capture_default_str();
  cmd->add_option("--label-map", o.label_map_file, "JSON array of class names; label = index")->check(CLI::ExistingFile);
  cmd->add_option("--label-scale", o.label_scale, "multiply float labels (0.2: STS-B 0..5 -> 0..1)")->capture_default_str();
  cmd->add_option("--teacher", args->teacher, "teacher model folder: labels for MSELoss / MarginMSELoss")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--teacher-label", args->teacher_label, "embedding (of column 1) | margin")->capture_default_str();
  cmd->add_flag("--deletion-noise", args->deletion_noise,
                "TSDAE: store the one --columns text as (noisy, text) pairs, words deleted at --del-ratio");
  cmd->add_option("--del-ratio", args->noise.del_ratio, "deletion probability per word")->capture_default_str();
  cmd->add_option("--noise-seed", args->noise.seed, "seed of the deletion noise")->capture_default_str();
  cmd->add_option("--format", o.format, "txt|jsonl|csv|tsv|label|parquet (default: from the extension)");
  cmd->add_flag("--no-header", args->no_header, "csv/tsv without a header: columns are named 0, 1, ...");
  cmd->add_option("--encoding", o.encoding, "utf-8 | latin-1")->capture_default_str();
  cmd->add_option("--max-seq-length", o.max_seq_length, "tokens per text (0: the model's)")->capture_default_str();
  cmd->add_option("--shard-rows", o.shard_rows, "rows per shard file")->capture_default_str();
  cmd->add_option("--chunk-rows", o.chunk_rows, "input rows read and tokenized at a time (memory: chunk + shard)")
      ->capture_default_str();
  cmd->add_flag("--keep-text", o.keep_text, "store the raw text next to the token ids");
  cmd->add_option("--on-error", args->on_error, "bad rows: fail (default) or skip")->capture_default_str();
  cmd->add_option("--threads", o.threads, "tokenizer threads per rank (0: the cores divided among the ranks)")
      ->capture_default_str();
  cmd->add_flag("!--no-progress", o.progress, "hide the progress bar");
  cmd->callback([args] {
    const int rc = distributed::run_guarded([&] { return run_prepare(*args); });
    if (rc != 0) std::exit(rc);
  });
}

NEGATRON_COMMAND(register_prepare_command);

}  // namespace negatron::cli

// negatron read-bench: how fast one rank's Prefetcher delivers collated batches of a dataset
// (benchmarks/bench_data.py compares it with the trainer's consumption rate).
namespace negatron::cli {
namespace {

struct ReadBenchArgs {
  std::string dataset, sampler = "BATCH_SAMPLER";
  int64_t batch_size = 64, steps = 200, window = 8;
  int world_size = 1;
};

void run_read_bench(const ReadBenchArgs& args) {
  auto reader = data::DatasetReader::open(args.dataset);
  data::SamplerOptions options;
  options.kind = data::parse_batch_sampler_kind(args.sampler);
  options.batch_size_global = args.batch_size * args.world_size;
  options.world_size = args.world_size;
  auto sampler = std::make_shared<data::BatchSampler>(data::sampler_source(reader), options);
  data::Prefetcher prefetcher(data::MultiDatasetSampler({sampler}), {reader}, 0, {args.window, false});
  const auto start = std::chrono::steady_clock::now();
  int64_t rows = 0;
  for (int64_t step = 0; step < args.steps; ++step) rows += static_cast<int64_t>(prefetcher.next().rows.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("read-bench ", args.sampler, ": ", args.steps, " batches of ", args.batch_size, " rows in ", seconds,
            " s: BATCHES_PER_S ", args.steps / seconds, " ROWS_PER_S ", rows / seconds);
}

}  // namespace

void register_read_bench_command(CLI::App& app) {
  auto args = std::make_shared<ReadBenchArgs>();
  CLI::App* cmd = app.add_subcommand("read-bench", "Measure the prefetching reader's batches/s on a prepared dataset");
  cmd->add_option("--dataset", args->dataset, "dataset directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--sampler", args->sampler, "BATCH_SAMPLER|NO_DUPLICATES|GROUP_BY_LABEL")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "rows per batch on this rank")->capture_default_str();
  cmd->add_option("--world-size", args->world_size, "ranks the global batch is split over (this is rank 0)")
      ->capture_default_str();
  cmd->add_option("--steps", args->steps, "batches to read (across epochs if needed)")->capture_default_str();
  cmd->add_option("--window", args->window, "prefetch window")->capture_default_str();
  cmd->callback([args] { run_read_bench(*args); });
}

NEGATRON_COMMAND(register_read_bench_command);

}  // namespace negatron::cli
