// negatron evaluate: one evaluator on a model, metrics printed as JSON (also under mpirun: each rank
// embeds a shard).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/check.h"
#include "distributed/bootstrap.h"
#include "train/evaluator.h"

namespace negatron::cli {
namespace {

struct EvaluateArgs {
  std::string model;
  int64_t max_seq_length = 0;
  train::EvaluatorOptions evaluator;
  bool no_header = false;
};

int run_evaluate(EvaluateArgs args) {
  NEG_CHECK(args.max_seq_length >= 0, "--max-seq-length must be >= 0 (0: the model's own), got ", args.max_seq_length);
  const distributed::Runtime runtime = distributed::bootstrap();
  args.evaluator.has_header = !args.no_header;
  auto model = model::SentenceEncoder::load(args.model);
  if (args.max_seq_length > 0) model->set_max_seq_length(args.max_seq_length);
  model->to(runtime.device);
  const train::Metrics metrics = train::make_evaluator(args.evaluator)->evaluate(*model, *runtime.comm);
  if (runtime.comm->rank() == 0) std::cout << nlohmann::json(metrics).dump(2) << std::endl;
  return 0;
}

void register_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  auto& e = args->evaluator;
  CLI::App* cmd = app.add_subcommand("evaluate", "Run one evaluator on a model and print its metrics as JSON");
  cmd->add_option("--model", args->model, "model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--type", e.type,
                  "EmbeddingSimilarityEvaluator | TripletEvaluator | BinaryClassificationEvaluator | "
                  "InformationRetrievalEvaluator")
      ->capture_default_str();
  cmd->add_option("--name", e.name, "metric prefix")->capture_default_str();
  cmd->add_option("--input", e.path,
                  "input .tsv/.csv/.jsonl (InformationRetrievalEvaluator with --corpus: the queries, _id and text)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--columns", e.columns,
                  "text columns: 2 for pairs, 3 for triplets; InformationRetrievalEvaluator without --corpus: "
                  "query, relevant document[, more corpus-only columns]")
      ->delimiter(',');
  cmd->add_option("--score-column", e.score_column, "gold score column (pairs), 0/1 label (binary classification)");
  cmd->add_option("--score-scale", e.score_scale, "divide gold scores by this")->capture_default_str();
  cmd->add_option("--positive-label", e.positive_label,
                  "BinaryClassificationEvaluator: this label is 1, every other 0 (default: labels are 0/1)");
  cmd->add_option("--corpus", e.corpus_path, "InformationRetrievalEvaluator: corpus .jsonl/.tsv (_id, text)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--qrels", e.qrels_path,
                  "InformationRetrievalEvaluator: .tsv with query-id, corpus-id[, score] (with --corpus)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--similarity-fn-names", e.similarity_fn_names,
                  "cosine,dot,euclidean,manhattan subset (binary: all four; retrieval: cosine,dot)")
      ->delimiter(',');
  cmd->add_option("--corpus-chunk-size", e.corpus_chunk_size, "InformationRetrievalEvaluator: corpus chunk size")
      ->capture_default_str();
  cmd->add_option("--format", e.format, "txt | jsonl | csv | tsv (default: from the extension)");
  cmd->add_flag("--no-header", args->no_header, "the .tsv/.csv has no header (columns are 0, 1, ...)");
  cmd->add_option("--batch-size", e.batch_size, "encode batch size")->capture_default_str();
  cmd->add_option("--max-seq-length", args->max_seq_length, "truncate to this many tokens (0: the model's)");
  cmd->callback([args] {
    const int rc = distributed::run_guarded([&] { return run_evaluate(*args); });
    if (rc != 0) std::exit(rc);
  });
}

}  // namespace

NEGATRON_COMMAND(register_evaluate_command);

}  // namespace negatron::cli
