// negatron convert: load a model folder (sentence-transformers or plain Hugging Face) and save it in
// the sentence-transformers 6 layout, optionally with a new max_seq_length.
#include "cli/commands.h"
#include "common/check.h"
#include "common/log.h"
#include "common/owned_folder.h"
#include "model/sentence_encoder.h"

namespace negatron::cli {

void register_convert_command(CLI::App& app) {
  struct Args {
    std::string model, output;
    int64_t max_seq_length = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("convert", "Re-save a model folder in the sentence-transformers layout");
  cmd->add_option("--model", args->model, "input model folder")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--output", args->output,
                  "output folder (replaced atomically if negatron wrote it; any other existing folder is refused)")
      ->required();
  cmd->add_option("--max-seq-length", args->max_seq_length, "new max_seq_length (0: keep)")->capture_default_str();
  cmd->callback([args] {
    NEG_CHECK(args->max_seq_length >= 0, "--max-seq-length must be >= 0 (0: keep), got ", args->max_seq_length);
    check_replaceable(args->output, "model folder", model::is_model_folder_written_by_negatron);
    auto model = model::SentenceEncoder::load(args->model);
    if (args->max_seq_length > 0) model->set_max_seq_length(args->max_seq_length);
    model->save(args->output);
    log::info("saved ", args->model, " to ", args->output, " (dimension ", model->embedding_dimension(),
              ", max_seq_length ", model->max_seq_length(), ")");
  });
}

NEGATRON_COMMAND(register_convert_command);

}  // namespace negatron::cli
