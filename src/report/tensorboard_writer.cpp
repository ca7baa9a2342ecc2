#include "report/tensorboard_writer.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/check.h"
#include "report/crc32c.h"
#include "report/tensorboard_event.pb.h"

namespace negatron::report {
namespace {

double wall_time_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

void append_little_endian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) {
  std::error_code error;
  std::filesystem::create_directories(log_dir, error);
  NEG_CHECK(!error, log_dir, ": cannot create the TensorBoard log folder: ", error.message());
  const auto seconds = static_cast<int64_t>(wall_time_s());
  path_ = log_dir + "/events.out.tfevents." + std::to_string(seconds) + "." + host_name() + "." +
          std::to_string(getpid());
  out_ = std::make_unique<AppendFile>(path_);
  tensorboard::Event event;
  event.set_wall_time(wall_time_s());
  event.set_file_version("brain.Event:2");
  write_event(event.SerializeAsString());
}

void TensorBoardWriter::add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars) {
  if (scalars.empty()) return;
  tensorboard::Event event;
  event.set_wall_time(wall_time_s());
  event.set_step(step);
  for (const auto& [tag, value] : scalars) {
    tensorboard::SummaryValue* entry = event.mutable_summary()->add_value();
    entry->set_tag(tag);
    entry->set_simple_value(static_cast<float>(value));
  }
  write_event(event.SerializeAsString());
}

void TensorBoardWriter::write_event(const std::string& serialized) {
  std::string record;
  append_little_endian(record, serialized.size(), 8);
  const uint32_t length_crc = masked_crc32c(record.data(), 8);
  append_little_endian(record, length_crc, 4);
  record += serialized;
  append_little_endian(record, masked_crc32c(serialized.data(), serialized.size()), 4);
  out_->append(record);
}

}  // namespace negatron::report
