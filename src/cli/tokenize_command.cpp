// negatron tokenize: texts in, token ids out (one JSON array a line, in input order), with the
// model folder's WordPiece tokenizer. Used for parity checks against Hugging Face tokenizers.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/check.h"
#include "common/log.h"
#include "data/text_table.h"
#include "model/sentence_encoder.h"
#include "model/tokenizer.h"

namespace negatron::cli {
namespace {

constexpr size_t kTextsPerBlock = 1 << 16;  // texts held as JSON text before writing
constexpr size_t kTextsPerChunk = 256;      // unit of work handed to a thread

struct TokenizeArgs {
  std::string model, input, column, output;
  int64_t max_seq_length = -1;  // -1: the model folder's own (model::model_max_seq_length)
  int threads = 0;              // 0: every hardware thread
};

void append_json_array(const std::vector<int32_t>& ids, std::string& out) {
  char digits[16];
  out.push_back('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(digits, std::to_chars(digits, digits + sizeof digits, ids[i]).ptr);
  }
  out += "]\n";
}

/// JSON lines of texts[begin, end), encoded by `threads` threads taking chunks in turn.
std::string encode_block(const model::Tokenizer& tokenizer, const std::vector<std::string>& texts,
                         size_t begin, size_t end, int64_t max_length, int threads) {
  const size_t chunks = (end - begin + kTextsPerChunk - 1) / kTextsPerChunk;
  std::vector<std::string> chunk_lines(chunks);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  std::atomic<size_t> next_chunk{0};
  const auto work = [&](size_t worker) {
    try {
      for (size_t chunk = next_chunk++; chunk < chunks; chunk = next_chunk++) {
        const size_t first = begin + chunk * kTextsPerChunk;
        const size_t last = std::min(end, first + kTextsPerChunk);
        for (size_t i = first; i < last; ++i)
          append_json_array(tokenizer.encode(texts[i], max_length), chunk_lines[chunk]);
      }
    } catch (...) {
      errors[worker] = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (size_t worker = 1; worker < static_cast<size_t>(threads); ++worker) pool.emplace_back(work, worker);
  work(0);
  for (auto& thread : pool) thread.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  std::string lines;
  for (const auto& part : chunk_lines) lines += part;
  return lines;
}

void run_tokenize(const TokenizeArgs& args) {
  check_writable_destination(args.output);
  const model::Tokenizer tokenizer = model::Tokenizer::from_folder(args.model);
  const int64_t max_length =
      args.max_seq_length >= 0 ? args.max_seq_length : model::model_max_seq_length(args.model);
  const std::vector<std::string> texts = data::read_text_column(args.input, args.column);
  const auto start = std::chrono::steady_clock::now();
  const int hardware_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = args.threads > 0 ? args.threads : hardware_threads;
  AtomicFile out(args.output);
  for (size_t begin = 0; begin < texts.size(); begin += kTextsPerBlock) {
    const size_t end = std::min(texts.size(), begin + kTextsPerBlock);
    out.write(encode_block(tokenizer, texts, begin, end, max_length, threads));
  }
  out.commit();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("tokenized ", texts.size(), " texts from ", args.input, " into ", args.output, " in ", seconds,
            " s (max_seq_length ", max_length, ", ", threads, " threads)");
}

}  // namespace

void register_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "Write the token ids of each input text (one JSON array a line, in input order)");
  cmd->add_option("--model", args->model,
                  "model folder with tokenizer.json (or vocab.txt + tokenizer_config.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--input", args->input, "texts: .txt (one per line), .jsonl, .csv or .tsv")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--column", args->column, "column (key) holding the text for .jsonl/.csv/.tsv");
  cmd->add_option("--max-seq-length", args->max_seq_length,
                  "truncate to this many ids, special tokens included (0: no truncation; default: "
                  "the model folder's own max_seq_length)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--output", args->output, "output .jsonl: one JSON array of ids per text")->required();
  cmd->add_option("--threads", args->threads, "worker threads (0: all hardware threads)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args] { run_tokenize(*args); });
}

NEGATRON_COMMAND(register_tokenize_command);

}  // namespace negatron::cli
