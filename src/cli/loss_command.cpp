// negatron loss: evaluate one registered loss and its gradients, for parity tests and debugging.
//
// Embedding level (--input in.h5 holding columns/0..k [B, d] float32|float64, optional `labels`
// (int64 [B], float [B] or float [B, k]) and optional guide/0..k): writes `loss` (float64 scalar) and
// grad/0..k, the gradients w.r.t. each column, in the input's dtype.
//
// Model level (--model DIR, --input batch.jsonl with one {"columns": [texts], "label": ...} per row):
// tokenizes, runs loss->forward_backward(model, batch) with the model in train() mode, and writes
// `loss`, param/<name> (every model parameter, names as SentenceEncoder::named_parameters(), zeros
// where no gradient reached it). --no-dropout puts the model in eval() instead; for BERT-family
// encoders the only train/eval difference is dropout.
//
// Both levels also write loss_param/<name> (gradients) and loss_param_value/<name> (values) for the
// parameters the loss owns (SoftmaxLoss classifier, projections), so a test can give a reference
// implementation the same initial weights.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/check.h"
#include "common/log.h"
#include "common/options_json.h"
#include "data/tensor_file.h"
#include "losses/registry.h"
#include "model/sentence_encoder.h"

namespace negatron::cli {
namespace {

struct LossArgsCli {
  std::string name, params = "{}", input, output, model, dtype;
  bool no_dropout = false;
  int threads = 0;
  int repeat = 0;
};

at::ScalarType parse_dtype(const std::string& dtype, at::ScalarType fallback) {
  if (dtype.empty()) return fallback;
  if (dtype == "float32") return at::kFloat;
  if (dtype == "float64") return at::kDouble;
  NEG_FAIL("--dtype: expected float32 or float64, got '", dtype, "'");
}

// ---- model-level input ------------------------------------------------------------------------

/// Labels of a jsonl batch: all rows int -> int64 [B]; numbers -> float32 [B]; lists -> float32 [B, k].
at::Tensor jsonl_labels(const std::vector<nlohmann::json>& labels, const std::string& filename) {
  if (labels.empty() || labels.front().is_null()) {
    for (size_t i = 0; i < labels.size(); ++i)
      NEG_CHECK(labels[i].is_null(), filename, ": row ", i + 1, " has a label but row 1 has none");
    return {};
  }
  const bool vectors = labels.front().is_array();
  bool all_int = true;
  std::vector<double> values;
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& label = labels[i];
    NEG_CHECK(vectors ? label.is_array() && label.size() == labels.front().size() : label.is_number(), filename,
              ": row ", i + 1, ": 'label' must be ", vectors ? "a list as long as row 1's" : "a number", ", got ",
              label.dump());
    for (const auto& v : vectors ? label : nlohmann::json::array({label})) {
      NEG_CHECK(v.is_number(), filename, ": row ", i + 1, ": 'label' holds a non-number ", v.dump());
      all_int = all_int && v.is_number_integer();
      values.push_back(v.get<double>());
    }
  }
  const int64_t rows = static_cast<int64_t>(labels.size());
  at::Tensor out = at::tensor(values, at::kDouble);
  if (vectors) return out.view({rows, -1}).to(at::kFloat);
  return all_int ? out.to(at::kLong) : out.to(at::kFloat);
}

model::Batch read_jsonl_batch(const std::string& filename, model::SentenceEncoder& model) {
  std::ifstream in(filename);
  NEG_CHECK(in, "cannot open ", filename);
  model::Batch batch;
  std::vector<nlohmann::json> labels;
  std::string line;
  for (size_t row = 1; std::getline(in, line); ++row) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      NEG_FAIL(filename, ": line ", row, " is not JSON (", e.what(), ")");
    }
    NEG_CHECK(value.is_object() && value.contains("columns") && value["columns"].is_array(), filename, ": line ",
              row, " needs {\"columns\": [texts...], \"label\": ...}");
    const auto& columns = value["columns"];
    if (batch.texts.empty()) batch.texts.resize(columns.size());
    NEG_CHECK(columns.size() == batch.texts.size() && !columns.empty(), filename, ": line ", row, " has ",
              columns.size(), " columns, the first row has ", batch.texts.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      NEG_CHECK(columns[c].is_string(), filename, ": line ", row, ", column ", c, " is not a string");
      batch.texts[c].push_back(columns[c].get<std::string>());
    }
    labels.push_back(value.value("label", nlohmann::json()));
  }
  NEG_CHECK(!batch.texts.empty(), filename, ": no rows");
  for (const auto& texts : batch.texts) batch.columns.push_back(model.tokenize(texts));
  batch.labels = jsonl_labels(labels, filename);
  return batch;
}

// ---- the two levels -----------------------------------------------------------------------------

void write_loss_parameters(data::TensorFileWriter& out, losses::Loss& loss) {
  for (auto& [name, p] : loss.named_parameters()) {
    out.write("loss_param/" + name, p.grad().defined() ? p.grad() : at::zeros_like(p));
    out.write("loss_param_value/" + name, p);
  }
}

/// --repeat N: times N more compute + backward passes (benchmarks); logs the median.
void time_embedding_level(losses::Loss& loss, losses::EmbeddingBatch batch, int repeat) {
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    for (auto& c : batch.columns) c = c.detach().requires_grad_(true);
    const auto start = std::chrono::steady_clock::now();
    loss.compute(batch).backward();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  log::info(loss.spec().name, ": forward+backward median ", ms[ms.size() / 2], " ms over ", repeat, " runs");
}

void run_embedding_level(const LossArgsCli& args, const nlohmann::json& params) {
  losses::EmbeddingBatch batch;
  at::ScalarType input_dtype = at::kFloat;
  {
    const data::TensorFileReader in(args.input);
    batch.columns = in.read_numbered("columns");
    NEG_CHECK(!batch.columns.empty(), args.input, ": no dataset 'columns/0' (expected columns/0..k, [B, d] floats)");
    input_dtype = batch.columns.front().scalar_type();
    for (size_t c = 0; c < batch.columns.size(); ++c)
      NEG_CHECK(batch.columns[c].is_floating_point() && batch.columns[c].dim() == 2, args.input, ": dataset 'columns/",
                c, "' must be [B, d] float32 or float64");
    if (in.has("labels")) batch.labels = in.read("labels");
    batch.guide = in.read_numbered("guide");
  }
  const at::ScalarType dtype = parse_dtype(args.dtype, input_dtype);
  for (auto& column : batch.columns) column = column.to(dtype).requires_grad_(true);
  for (auto& guide : batch.guide) guide = guide.to(dtype);
  if (batch.labels.defined() && batch.labels.is_floating_point()) batch.labels = batch.labels.to(dtype);

  losses::LossArgs loss_args;
  loss_args.params = params;
  auto loss = losses::make_loss(args.name, loss_args);
  for (auto& p : loss->parameters()) p.set_data(p.detach().to(dtype));
  at::Tensor value = loss->compute(batch);
  NEG_CHECK(value.dim() == 0, args.name, ": compute() returned a tensor of rank ", value.dim(), ", not a scalar");
  value.backward();

  data::TensorFileWriter out(args.output);
  out.write("loss", value.to(at::kDouble));
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    at::Tensor grad = batch.columns[c].grad();
    out.write("grad/" + std::to_string(c), (grad.defined() ? grad : at::zeros_like(batch.columns[c])).to(input_dtype));
  }
  write_loss_parameters(out, *loss);
  out.close();
  log::info(args.name, ": loss ", value.item<double>(), " on ", batch.columns.size(), " column(s) of ",
            batch.columns.front().size(0), " rows");
  if (args.repeat > 0) time_embedding_level(*loss, batch, args.repeat);  // after the outputs are written
}

void run_model_level(const LossArgsCli& args, const nlohmann::json& params) {
  NEG_CHECK(args.dtype.empty(), "--dtype applies to embedding-level inputs only (not with --model)");
  auto model = model::SentenceEncoder::load(args.model);
  if (args.no_dropout) model->eval(); else model->train();
  model::Batch batch = read_jsonl_batch(args.input, *model);
  losses::LossArgs loss_args;
  loss_args.params = params;
  loss_args.model = model;
  auto loss = losses::make_loss(args.name, loss_args);
  model->zero_grad();
  at::Tensor value = loss->forward_backward(*model, batch);

  data::TensorFileWriter out(args.output);
  out.write("loss", value.to(at::kDouble));
  for (const auto& item : model->named_parameters()) {
    const at::Tensor& grad = item.value().grad();
    out.write("param/" + item.key(), grad.defined() ? grad : at::zeros_like(item.value()));
  }
  write_loss_parameters(out, *loss);
  out.close();
  log::info(args.name, ": loss ", value.item<double>(), " on ", batch.texts.size(), " column(s) of ",
            batch.texts.front().size(), " rows");
}

void run_loss(const LossArgsCli& args) {
  check_writable_destination(args.output);
  if (args.threads > 0) at::set_num_threads(args.threads);
  nlohmann::json params;
  try {
    params = nlohmann::json::parse(args.params);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL("--params is not JSON (", e.what(), "): ", args.params);
  }
  if (args.model.empty()) run_embedding_level(args, params);
  else run_model_level(args, params);
}

std::string loss_list() {
  std::string out = "registered losses (--name NAME --help lists NAME's parameters):";
  for (const auto& name : losses::loss_names()) out += "\n  " + name;
  return out;
}

/// `name`'s parameters with their defaults and docs, as --params (or a config's datasets.N.loss) takes them.
std::string loss_parameter_help(const std::string& name) {
  const std::vector<options::FieldDoc> fields = losses::loss_option_docs(name);
  if (fields.empty()) return name + " has no parameters.";
  std::vector<std::string> settings;
  size_t width = 0;
  for (const auto& field : fields) {
    settings.push_back(field.key + ": " + field.default_value.dump());
    width = std::max(width, settings.back().size());
  }
  std::string out = name + " parameters (--params JSON or a config's datasets.N.loss), with their defaults:";
  for (size_t i = 0; i < fields.size(); ++i)
    out += "\n  " + settings[i] + std::string(width - settings[i].size() + 2, ' ') + fields[i].doc;
  return out;
}

/// --help: the registered losses, or with --name the parameters of that loss (CLI11 stores --name
/// before it handles --help).
std::string loss_help_footer(const std::string& name) {
  if (name.empty()) return loss_list();
  try {
    return loss_parameter_help(name);
  } catch (const std::exception& error) {
    return error.what();
  }
}

}  // namespace

void register_loss_command(CLI::App& app) {
  auto args = std::make_shared<LossArgsCli>();
  CLI::App* cmd = app.add_subcommand("loss", "Evaluate a loss and its gradients (embedding or model level)");
  cmd->footer([args] { return loss_help_footer(args->name); });
  cmd->add_option("--name", args->name, "loss name (sentence-transformers class name)")->required();
  cmd->add_option("--params", args->params, "loss parameters as a JSON object")->capture_default_str();
  cmd->add_option("--input", args->input,
                  "embedding level: .h5 with columns/0..k, labels, guide/0..k; model level: .jsonl rows "
                  "{\"columns\": [...], \"label\": ...}")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--output", args->output, ".h5 with loss, grad/i or param/<name>, loss_param/<name>")->required();
  cmd->add_option("--dtype", args->dtype, "embedding level: compute in float32|float64 (default: input dtype)");
  cmd->add_option("--model", args->model, "sentence-transformers model folder (model level)")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--no-dropout", args->no_dropout, "model level: run the model in eval() mode (dropout off)");
  cmd->add_option("--threads", args->threads, "intra-op CPU threads (0: torch default)")->capture_default_str();
  cmd->add_option("--repeat", args->repeat, "embedding level: time this many extra forward+backward passes")
      ->capture_default_str();
  cmd->callback([args] { run_loss(*args); });
}

NEGATRON_COMMAND(register_loss_command);

}  // namespace negatron::cli
