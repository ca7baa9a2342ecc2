#include "data/dataset_writer.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/check.h"
#include "common/owned_folder.h"
#include "common/remove_tree.h"
#include "data/hashing.h"
#include "distributed/collective_step.h"
#include "distributed/config_agreement.h"

namespace negatron::data {
namespace {

namespace fs = std::filesystem;

/// Every rank's written shards, by index; throws unless they are exactly 0..n-1.
std::vector<ShardInfo> gather_shards(distributed::Communicator& comm,
                                     const std::vector<std::pair<int64_t, ShardInfo>>& mine) {
  nlohmann::json local = nlohmann::json::array();
  for (const auto& [index, info] : mine) {
    local.push_back({index, info.file, info.rows, info.bytes, hex64(info.checksum), info.max_token_id});
  }
  std::map<int64_t, ShardInfo> by_index;
  for (const std::string& text : distributed::all_gather_strings(comm, local.dump())) {
    for (const auto& entry : nlohmann::json::parse(text)) {
      const auto index = entry[0].get<int64_t>();
      ShardInfo info{entry[1].get<std::string>(), entry[2].get<int64_t>(), entry[3].get<int64_t>(),
                     parse_hex64(entry[4].get<std::string>(), "shard checksum"), entry[5].get<int64_t>()};
      NEG_CHECK(by_index.emplace(index, info).second, "internal: shard ", index, " was written twice");
    }
  }
  std::vector<ShardInfo> shards;
  for (const auto& [index, info] : by_index) {
    NEG_CHECK(index == static_cast<int64_t>(shards.size()), "internal: shard ", shards.size(), " was never written");
    shards.push_back(info);
  }
  return shards;
}

}  // namespace

std::string shard_file_name(int64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "shard-%05lld.h5", static_cast<long long>(index));
  return name;
}

DatasetWriter::DatasetWriter(const std::string& output, const DatasetManifest& layout,
                             distributed::Communicator& comm)
    : layout_(layout), comm_(comm) {
  const fs::path out = fs::absolute(output).lexically_normal();
  output_ = out.string();
  tmp_ = output_ + ".tmp-" + distributed::all_gather_strings(comm, std::to_string(::getpid())).front();
  distributed::run_collectively(comm, [&] {
    if (comm.rank() != 0) return;
    check_replaceable(output_, "dataset", is_dataset_folder);  // before the work, not after it
    std::error_code error;
    fs::create_directories(out.parent_path(), error);  // --output may name a folder in a new folder
    NEG_CHECK(!error, "cannot create the folder ", out.parent_path().string(), " (", error.message(), ")");
    create_owned_folder(tmp_, "dataset");
  });
}

DatasetWriter::~DatasetWriter() {
  wait();
  if (published_ || comm_.rank() != 0) return;
  try {
    remove_tree(tmp_);
  } catch (const Error&) {  // keep the error that brought us here
  }
}

void DatasetWriter::wait() {
  if (writer_.joinable()) writer_.join();
}

void DatasetWriter::write_shard(int64_t index, ShardBlock block) {
  wait();
  if (write_error_) std::rethrow_exception(write_error_);
  writer_ = std::thread([this, index, block = std::move(block)] {
    try {
      written_.emplace_back(index, data::write_shard((fs::path(tmp_) / shard_file_name(index)).string(), block, layout_));
    } catch (...) {
      write_error_ = std::current_exception();
    }
  });
}

void DatasetWriter::verify_own_shards() const {
  for (const auto& [index, info] : written_) {
    const std::string path = (fs::path(tmp_) / info.file).string();
    ShardReader reader(path, info, layout_);  // sizes, structure and row counts
    NEG_CHECK(file_checksum(path) == info.checksum, path, ": changed on disk after it was written");
  }
}

DatasetManifest DatasetWriter::publish(int64_t skipped_rows) {
  distributed::run_collectively(comm_, [&] {
    wait();
    if (write_error_) std::rethrow_exception(write_error_);
    verify_own_shards();
  });
  const std::vector<ShardInfo> shards = gather_shards(comm_, written_);
  DatasetManifest manifest = layout_;
  manifest.shards = shards;
  manifest.rows = 0;
  for (const auto& shard : shards) manifest.rows += shard.rows;
  manifest.skipped_rows = skipped_rows;
  distributed::run_collectively(comm_, [&] {
    if (comm_.rank() != 0) return;
    for (const auto& shard : shards) {  // written by other ranks: the directory must be shared
      const fs::path path = fs::path(tmp_) / shard.file;
      std::error_code error;
      const auto bytes = fs::file_size(path, error);
      NEG_CHECK(!error && static_cast<int64_t>(bytes) == shard.bytes, path.string(),
                ": missing or of the wrong size on rank 0 (do all ranks see the same output directory?)");
    }
    write_manifest(tmp_, manifest);
    publish_folder(tmp_, output_, "dataset", is_dataset_folder);
  });
  published_ = true;
  return manifest;
}

}  // namespace negatron::data
