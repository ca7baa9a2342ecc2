#include "train/metrics_log.h"

#include "common/check.h"

namespace negatron::train {

MetricsLog::MetricsLog(const std::string& path, bool enabled) : path_(path), enabled_(enabled) {
  if (!enabled_) return;
  out_.open(path, std::ios::app);
  NEG_CHECK(out_, "cannot open metrics file ", path);
}

void MetricsLog::write(const nlohmann::json& record) {
  if (!enabled_) return;
  out_ << record.dump() << "\n";
  out_.flush();
}

}  // namespace negatron::train
