// negatron encode: texts in, float32 embeddings out (HDF5).
#include <ATen/Parallel.h>

#include <chrono>
#include <cstring>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/check.h"
#include "common/log.h"
#include "data/embedding_file.h"
#include "data/text_table.h"
#include "model/sentence_encoder.h"

namespace negatron::cli {
namespace {

struct EncodeArgs {
  std::string model, input, column, output;
  int64_t batch_size = 32;
  int64_t max_seq_length = 0;
  bool normalize = false;
  int threads = 0;
  bool progress = true;
};

void run_encode(const EncodeArgs& args) {
  NEG_CHECK(args.max_seq_length >= 0, "--max-seq-length must be >= 0 (0: the model's own), got ", args.max_seq_length);
  NEG_CHECK(args.threads >= 0, "--threads must be >= 0 (0: torch default), got ", args.threads);
  check_writable_destination(args.output);
  if (args.threads > 0) at::set_num_threads(args.threads);
  std::vector<int64_t> lines;
  const std::vector<std::string> texts = data::read_text_column(args.input, args.column, &lines);
  log::info("read ", texts.size(), " texts from ", args.input);
  auto model = model::SentenceEncoder::load(args.model);
  if (args.max_seq_length > 0) model->set_max_seq_length(args.max_seq_length);
  model::EncodeOptions options;
  options.batch_size = args.batch_size;
  options.normalize = args.normalize;
  options.show_progress = args.progress;
  const auto start = std::chrono::steady_clock::now();
  at::Tensor embeddings = model->encode(texts, options).contiguous();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("encoded ", texts.size(), " texts in ", seconds, " s (", texts.size() / std::max(seconds, 1e-9),
            " texts/s, ", at::get_num_threads(), " threads)");
  data::EmbeddingFile file;
  file.model = args.model;
  file.rows = embeddings.size(0);
  file.dimension = embeddings.size(1);
  file.normalized = args.normalize || model->normalizes();
  file.values.resize(embeddings.numel());
  if (!file.values.empty()) std::memcpy(file.values.data(), embeddings.data_ptr<float>(), file.values.size() * 4);
  data::write_embedding_file(args.output, file);
  log::info("wrote ", file.rows, " x ", file.dimension, " embeddings to ", args.output);
}

}  // namespace

void register_encode_command(CLI::App& app) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand("encode", "Embed texts with a sentence-transformers model into an HDF5 file");
  cmd->add_option("--model", args->model, "sentence-transformers model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--input", args->input, "texts: .txt (one per line), .jsonl, .csv, .tsv or .parquet")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--column", args->column, "column (key) holding the text for .jsonl/.csv/.tsv");
  cmd->add_option("--output", args->output, "output .h5 (dataset 'embeddings' [N, d] float32)")->required();
  cmd->add_option("--batch-size", args->batch_size, "texts per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--max-seq-length", args->max_seq_length, "truncate to this many tokens (0: the model's own)")
      ->capture_default_str();
  cmd->add_flag("--normalize", args->normalize, "L2-normalize embeddings even if the model does not");
  cmd->add_option("--threads", args->threads, "intra-op CPU threads (0: torch default)")->capture_default_str();
  cmd->add_flag("!--no-progress", args->progress, "hide the progress bar");
  cmd->callback([args] { run_encode(*args); });
}

NEGATRON_COMMAND(register_encode_command);

}  // namespace negatron::cli
