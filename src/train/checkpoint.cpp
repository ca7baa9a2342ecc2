#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/json_file.h"
#include "common/log.h"
#include "common/owned_folder.h"
#include "model/safetensors.h"
#include "train/torch_file.h"

namespace fs = std::filesystem;

namespace negatron::train {
namespace {

int64_t checkpoint_step(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stoll(digits);
}

}  // namespace

nlohmann::json TrainerState::to_json() const {
  nlohmann::json json{{"step", step}, {"sampler", sampler}, {"skipped_steps", skipped_steps},
                      {"best_checkpoint", best_checkpoint}};
  json["best_metric"] = best_metric ? nlohmann::json(*best_metric) : nlohmann::json(nullptr);
  return json;
}

TrainerState TrainerState::from_json(const nlohmann::json& json, const std::string& origin) {
  const JsonFile file(origin);
  NEG_CHECK(json.is_object(), origin, ": malformed trainer state (expected a JSON object)");
  TrainerState state;
  state.step = file.required<int64_t>(json, "step");
  NEG_CHECK(state.step >= 0, origin, ": 'step' = ", state.step, " must be >= 0");
  state.sampler = file.require(json, "sampler");
  NEG_CHECK(state.sampler.is_object(), origin, ": 'sampler' must be an object");
  state.skipped_steps = file.get_or<int64_t>(json, "skipped_steps", 0);
  NEG_CHECK(state.skipped_steps >= 0 && state.skipped_steps <= state.step, origin, ": 'skipped_steps' = ",
            state.skipped_steps, " must be in [0, step=", state.step, "]");
  state.best_checkpoint = file.get_or<std::string>(json, "best_checkpoint", "");
  if (const nlohmann::json* best = JsonFile::find(json, "best_metric")) {
    state.best_metric = file.get<double>(*best, "best_metric");
    NEG_CHECK(std::isfinite(*state.best_metric), origin, ": 'best_metric' must be finite");
  }
  return state;
}

bool is_checkpoint_folder(const std::string& dir) {
  return fs::exists(fs::path(dir) / "trainer_state.json") && model::is_model_folder_written_by_negatron(dir);
}

std::vector<NamedParameter> select_loss_parameters(const std::vector<NamedParameter>& parameters) {
  std::vector<NamedParameter> out;
  for (const auto& p : parameters) {
    if (p.name.rfind("loss.", 0) == 0) out.push_back(p);
  }
  return out;
}

void save_loss_parameters(const std::string& dir, const std::vector<NamedParameter>& loss_parameters) {
  if (loss_parameters.empty()) return;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : loss_parameters) tensors.emplace_back(p.name, p.tensor.detach());
  model::save_safetensors((fs::path(dir) / kLossParametersFile).string(), tensors);
}

namespace {

void load_loss_parameters(const fs::path& dir, const std::vector<NamedParameter>& loss_parameters) {
  if (loss_parameters.empty()) return;
  const fs::path file = dir / kLossParametersFile;
  NEG_CHECK(fs::exists(file), file.string(), " is missing: the checkpoint was written for losses without parameters");
  const model::TensorMap stored = model::load_safetensors(file.string());
  at::NoGradGuard no_grad;
  for (const auto& p : loss_parameters) {
    auto it = stored.find(p.name);
    NEG_CHECK(it != stored.end(), file.string(), " has no tensor '", p.name, "' (was the loss configuration changed?)");
    NEG_CHECK(it->second.sizes() == p.tensor.sizes(), file.string(), ": tensor '", p.name, "' has shape ",
              it->second.sizes(), ", the loss expects ", p.tensor.sizes());
    const_cast<at::Tensor&>(p.tensor).copy_(it->second);
  }
}

}  // namespace

namespace {

fs::path generator_file(const fs::path& dir, const std::string& prefix, int rank) {
  return dir / (prefix + "rng_state_" + std::to_string(rank) + ".pt");
}

/// The CPU generator, and the device's when the rank trains on one (dropout masks come from it).
void save_generators(const fs::path& dir, int rank, const at::Device& device) {
  save_torch_file(at::detail::getDefaultCPUGenerator().get_state(), generator_file(dir, "", rank).string());
  if (device.is_cuda()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(cuda.mutex());
    save_torch_file(cuda.get_state(), generator_file(dir, "cuda_", rank).string());
  }
}

void set_generator_state(at::Generator generator, const at::Tensor& state, const fs::path& file, const char* kind) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  try {
    generator.set_state(state);
  } catch (const c10::Error& e) {
    NEG_FAIL(file.string(), ": not a ", kind, " generator state (", torch_error_summary(e), ")");
  }
}

void load_generators(const fs::path& dir, int rank, const at::Device& device) {
  const fs::path cpu_file = generator_file(dir, "", rank);
  NEG_CHECK(fs::exists(cpu_file), cpu_file.string(), " is missing: resume with the same number of ranks");
  at::Tensor state;
  load_torch_file(state, cpu_file.string(), "the random-number generator state");
  set_generator_state(at::detail::getDefaultCPUGenerator(), state, cpu_file, "CPU");
  if (!device.is_cuda()) return;
  const fs::path cuda_file = generator_file(dir, "cuda_", rank);
  if (!fs::exists(cuda_file)) {
    log::warn("rank ", rank, ": ", cuda_file.string(), " is missing (checkpoint written on CPU?): the CUDA generator "
              "starts from the seed, so dropout masks differ from an uninterrupted run");
    return;
  }
  load_torch_file(state, cuda_file.string(), "the CUDA random-number generator state");
  set_generator_state(at::globalContext().defaultGenerator(device), state, cuda_file, "CUDA");
}

}  // namespace

std::string save_checkpoint(const std::string& output_dir, model::SentenceEncoder& model,
                            AdamW& optimizer, const TrainerState& state, distributed::Communicator& comm,
                            const std::vector<NamedParameter>& loss_parameters) {
  const fs::path final_dir = fs::path(output_dir) / ("checkpoint-" + std::to_string(state.step));
  const fs::path tmp = final_dir.string() + ".partial";
  if (comm.rank() == 0) {
    check_replaceable(final_dir.string(), "checkpoint", is_checkpoint_folder);
    create_owned_folder(tmp.string(), "checkpoint");
    try {
      model.write_folder(tmp.string());
      save_loss_parameters(tmp.string(), loss_parameters);
      optimizer.save((tmp / "optimizer.pt").string());
      write_file_atomically((tmp / "trainer_state.json").string(), state.to_json().dump(2) + "\n");
    } catch (...) {
      try {
        remove_owned_folder(tmp.string(), "checkpoint");
      } catch (const std::exception&) {  // keep the original error
      }
      throw;
    }
  }
  comm.barrier();
  save_generators(tmp, comm.rank(), optimizer.parameters().front().device());
  comm.barrier();
  if (comm.rank() == 0) publish_folder(tmp.string(), final_dir.string(), "checkpoint", is_checkpoint_folder);
  comm.barrier();
  return final_dir.string();
}

TrainerState load_checkpoint(const std::string& dir, AdamW& optimizer, int rank,
                             const std::vector<NamedParameter>& loss_parameters) {
  const fs::path path(dir);
  const fs::path state_file = path / "trainer_state.json";
  NEG_CHECK(fs::exists(state_file), "cannot open ", state_file.string(), " (not a negatron checkpoint?)");
  TrainerState state = TrainerState::from_json(read_json_file(state_file.string()), state_file.string());
  optimizer.load((path / "optimizer.pt").string());
  load_loss_parameters(path, loss_parameters);
  load_generators(path, rank, optimizer.parameters().front().device());
  return state;
}

std::vector<std::string> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> found;
  if (fs::is_directory(output_dir)) {
    for (const auto& entry : fs::directory_iterator(output_dir)) {
      const int64_t step = checkpoint_step(entry.path());
      if (step >= 0 && fs::exists(entry.path() / "trainer_state.json")) found.emplace_back(step, entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [step, path] : found) out.push_back(path);
  return out;
}

std::string resolve_resume(const std::string& resume, const std::string& output_dir) {
  if (resume != "latest") return resume;
  const auto all = list_checkpoints(output_dir);
  return all.empty() ? std::string() : all.back();
}

void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep) {
  if (limit <= 0) return;
  auto all = list_checkpoints(output_dir);
  int64_t excess = static_cast<int64_t>(all.size()) - limit;
  for (const auto& path : all) {
    if (excess <= 0) break;
    if (fs::path(path) == fs::path(keep)) continue;
    remove_owned_folder(path, "checkpoint", is_checkpoint_folder);
    --excess;
  }
}

}  // namespace negatron::train
