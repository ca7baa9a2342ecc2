// negatron mine: hard negatives for (anchor, positive) rows, with sentence-transformers'
// mine_hard_negatives options (src/mining/mine.h); under mpirun the corpus is encoded and searched
// across ranks.
#include <cmath>
#include <cstdlib>
#include <optional>

#include "cli/collective_failure.h"
#include "cli/commands.h"
#include "common/log.h"
#include "distributed/bootstrap.h"
#include "mining/mine.h"

namespace negatron::cli {
namespace {

struct MineArgs {
  mining::MineOptions options;
  std::string on_error = "fail", backend = "auto";
  bool no_header = false;
  // Not given: range_max -1, the scores and margins NaN (CLI11 has no std::optional).
  int64_t range_max = -1;
  double max_score = NAN, min_score = NAN, absolute_margin = NAN, relative_margin = NAN;
};

std::optional<double> given(double value) { return std::isnan(value) ? std::nullopt : std::optional<double>(value); }

int run_mine(MineArgs& args) {
  mining::MineOptions& o = args.options;
  NEG_CHECK(args.on_error == "skip" || args.on_error == "fail", "--on-error must be skip or fail, got ", args.on_error);
  o.skip_bad_rows = args.on_error == "skip";
  o.has_header = !args.no_header;
  if (args.range_max >= 0) o.range_max = args.range_max;
  o.max_score = given(args.max_score);
  o.min_score = given(args.min_score);
  o.absolute_margin = given(args.absolute_margin);
  o.relative_margin = given(args.relative_margin);
  distributed::BootstrapOptions boot;
  boot.backend = args.backend;
  const distributed::Runtime runtime = distributed::bootstrap(boot);
  auto encoder = model::SentenceEncoder::load(o.model);
  if (o.max_seq_length > 0) encoder->set_max_seq_length(o.max_seq_length);
  encoder->to(runtime.device);
  encoder->eval();
  mining::MineResult result;
  if (run_reporting_collective_failure(*runtime.comm, [&] {
        result = mining::mine_hard_negatives(o, *encoder, runtime.device, *runtime.comm);
      }) != 0) {
    return 1;
  }
  log::info0("mined ", result.rows, " rows for ", result.queries, " anchor(s) from a corpus of ", result.corpus,
             " texts in ", result.seconds, " s on ", runtime.comm->world_size(), " rank(s); skipped ",
             result.skipped_rows, " bad row(s); wrote ", o.output);
  return 0;
}

}  // namespace

void register_mine_command(CLI::App& app) {
  auto args = std::make_shared<MineArgs>();
  mining::MineOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "mine", "Mine hard negatives for (anchor, positive) rows into a prepared dataset (mpirun -np N: N ranks)");
  cmd->add_option("--model", o.model, "sentence-transformers model folder (embeds anchors and corpus)")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--input", o.input, "(anchor, positive) rows: .jsonl, .csv, .tsv or .parquet")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", o.output, "dataset directory to create (replaced if it is a dataset)")->required();
  cmd->add_option("--anchor-column,--anchor_column_name", o.anchor_column_name, "anchor column (default: the first)");
  cmd->add_option("--positive-column,--positive_column_name", o.positive_column_name,
                  "positive column (default: the second)");
  cmd->add_option("--corpus", o.corpus, "more candidate negatives: .txt (one per line) or a table")
      ->check(CLI::ExistingFile);
  cmd->add_option("--corpus-column", o.corpus_column, "corpus text column (default: the only one, or 'text')");
  cmd->add_option("--range-min,--range_min", o.range_min, "skip the closest range_min candidates")->capture_default_str();
  cmd->add_option("--range-max,--range_max", args->range_max,
                  "consider the closest range_max candidates (default: derived as sentence-transformers does)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-score,--max_score", args->max_score, "drop candidates scoring above this");
  cmd->add_option("--min-score,--min_score", args->min_score, "drop candidates scoring below this");
  cmd->add_option("--absolute-margin,--absolute_margin", args->absolute_margin,
                  "drop candidates with score + margin > the anchor's positive score");
  cmd->add_option("--relative-margin,--relative_margin", args->relative_margin,
                  "drop candidates with score > positive - |positive| * margin");
  cmd->add_option("--num-negatives,--num_negatives", o.num_negatives, "negatives per anchor")->capture_default_str();
  cmd->add_option("--sampling-strategy,--sampling_strategy", o.sampling_strategy, "top | random")->capture_default_str();
  cmd->add_option("--seed", o.seed, "random sampling: seed (anchor q draws from its own generator)")->capture_default_str();
  cmd->add_flag("--include-positives,--include_positives", o.include_positives,
                "keep positives among the candidates (output becomes n-tuple)");
  cmd->add_option("--output-format,--output_format", o.output_format, "triplet | n-tuple")->capture_default_str();
  cmd->add_flag("--output-scores,--output_scores", o.output_scores,
                "add a float32_vector label 'scores': [positive, negatives...]");
  cmd->add_option("--batch-size,--batch_size", o.batch_size, "texts per encoder forward")->capture_default_str();
  cmd->add_option("--max-seq-length", o.max_seq_length, "tokens per text (0: the model's)")->capture_default_str();
  cmd->add_option("--score-memory-mb", o.score_memory_mb, "query x corpus scores held at once per rank")
      ->capture_default_str();
  cmd->add_option("--shard-rows", o.shard_rows, "rows per output shard file")->capture_default_str();
  cmd->add_flag("--keep-text", o.keep_text, "store the raw text next to the token ids");
  cmd->add_option("--on-error", args->on_error, "bad input rows: fail (default) or skip")->capture_default_str();
  cmd->add_option("--format", o.format, "input format: txt|jsonl|csv|tsv|parquet (default: from the extension)");
  cmd->add_flag("--no-header", args->no_header, "csv/tsv without a header: columns are named 0, 1, ...");
  cmd->add_option("--encoding", o.encoding, "utf-8 | latin-1")->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads per rank (0: the cores divided among the ranks)")
      ->capture_default_str();
  cmd->add_option("--backend", args->backend, "auto | mpi | nccl | local")->capture_default_str();
  cmd->add_flag("!--no-progress", o.progress, "hide the progress bars");
  cmd->callback([args] {
    const int rc = distributed::run_guarded([&] { return run_mine(*args); });
    if (rc != 0) std::exit(rc);
  });
}

NEGATRON_COMMAND(register_mine_command);

}  // namespace negatron::cli
