#include "train/metrics_log.h"

namespace negatron::train {

MetricsLog::MetricsLog(const std::string& path, bool enabled) : path_(path), enabled_(enabled) {
  if (enabled_) out_ = std::make_unique<AppendFile>(path);
}

void MetricsLog::write(const nlohmann::json& record) {
  if (enabled_) out_->append(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace negatron::train
