#include "report/metrics_log.h"

#include <utility>
#include <vector>

#include "common/check.h"
#include "report/tensorboard_writer.h"

namespace negatron::report {

MetricsLog::MetricsLog(const std::string& path, bool enabled, const std::string& tensorboard_dir)
    : path_(path), enabled_(enabled) {
  if (!enabled_) return;
  out_ = std::make_unique<AppendFile>(path);
  if (!tensorboard_dir.empty()) tensorboard_ = std::make_unique<TensorBoardWriter>(tensorboard_dir);
}

MetricsLog::~MetricsLog() = default;

std::string MetricsLog::tensorboard_path() const { return tensorboard_ ? tensorboard_->path() : ""; }

void MetricsLog::write(const nlohmann::json& record) {
  if (!enabled_) return;
  out_->append(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (tensorboard_) write_scalars(record);
}

void MetricsLog::write_scalars(const nlohmann::json& record) {
  const std::string type = record.value("type", "metrics");
  const int64_t step = record.value("step", int64_t{0});
  const std::string dataset = record.value("dataset", "");
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& [key, value] : record.items()) {
    if (key == "step" || !value.is_number()) continue;
    std::string tag = type + "/" + key;
    if (key == "loss" && !dataset.empty()) tag += "/" + dataset;
    auto [it, inserted] = last_step_of_tag_.emplace(tag, step);
    if (!inserted) {
      if (it->second == step) continue;
      it->second = step;
    }
    scalars.emplace_back(std::move(tag), value.get<double>());
  }
  tensorboard_->add_scalars(step, scalars);
}

}  // namespace negatron::report
