#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/check.h"
#include "common/log.h"
#include "common/remove_tree.h"
#include "model/safetensors.h"

namespace fs = std::filesystem;

namespace negatron::train {
namespace {

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void fsync_tree(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir)) fsync_path(entry.path());
  fsync_path(dir);
}

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
  TrainerState state;
  try {
    state.step = json.at("step").get<int64_t>();
    state.sampler = json.at("sampler");
    state.skipped_steps = json.value("skipped_steps", int64_t{0});
    state.best_checkpoint = json.value("best_checkpoint", std::string());
    if (json.contains("best_metric") && !json["best_metric"].is_null()) state.best_metric = json["best_metric"].get<double>();
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(origin, ": malformed trainer state (", e.what(), ")");
  }
  return state;
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
  torch::save(at::detail::getDefaultCPUGenerator().get_state(), generator_file(dir, "", rank).string());
  if (device.is_cuda()) {
    at::Generator cuda = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(cuda.mutex());
    torch::save(cuda.get_state(), generator_file(dir, "cuda_", rank).string());
  }
}

void load_generators(const fs::path& dir, int rank, const at::Device& device) {
  const fs::path cpu_file = generator_file(dir, "", rank);
  NEG_CHECK(fs::exists(cpu_file), cpu_file.string(), " is missing: resume with the same number of ranks");
  at::Tensor state;
  torch::load(state, cpu_file.string());
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_state(state);
  }
  if (!device.is_cuda()) return;
  const fs::path cuda_file = generator_file(dir, "cuda_", rank);
  if (!fs::exists(cuda_file)) {
    log::warn("rank ", rank, ": ", cuda_file.string(), " is missing (checkpoint written on CPU?): the CUDA generator "
              "starts from the seed, so dropout masks differ from an uninterrupted run");
    return;
  }
  torch::load(state, cuda_file.string());
  at::Generator cuda = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(cuda.mutex());
  cuda.set_state(state);
}

}  // namespace

std::string save_checkpoint(const std::string& output_dir, model::SentenceEncoder& model,
                            AdamW& optimizer, const TrainerState& state, distributed::Communicator& comm,
                            const std::vector<NamedParameter>& loss_parameters) {
  const fs::path final_dir = fs::path(output_dir) / ("checkpoint-" + std::to_string(state.step));
  const fs::path tmp = final_dir.string() + ".partial";
  if (comm.rank() == 0) {
    remove_tree(tmp.string());
    model.save(tmp.string());
    save_loss_parameters(tmp.string(), loss_parameters);
    optimizer.save((tmp / "optimizer.pt").string());
    std::ofstream(tmp / "trainer_state.json") << state.to_json().dump(2) << "\n";
  }
  comm.barrier();
  save_generators(tmp, comm.rank(), optimizer.parameters().front().device());
  comm.barrier();
  if (comm.rank() == 0) {
    fsync_tree(tmp);
    remove_tree(final_dir.string());
    fs::rename(tmp, final_dir);
    fsync_path(output_dir);
  }
  comm.barrier();
  return final_dir.string();
}

TrainerState load_checkpoint(const std::string& dir, AdamW& optimizer, int rank,
                             const std::vector<NamedParameter>& loss_parameters) {
  const fs::path path(dir);
  const fs::path state_file = path / "trainer_state.json";
  std::ifstream in(state_file);
  NEG_CHECK(in, "cannot open ", state_file.string(), " (not a negatron checkpoint?)");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(state_file.string(), ": invalid JSON (", e.what(), ")");
  }
  TrainerState state = TrainerState::from_json(json, state_file.string());
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
    remove_tree(path);
    --excess;
  }
}

}  // namespace negatron::train
