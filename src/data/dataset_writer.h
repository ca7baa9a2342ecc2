#pragma once
// Writes a dataset directory (prepare, mine) from one rank or many. Every rank writes the shards it
// owns into one temporary directory next to the output, "<output>.tmp-<rank 0's pid>"; shard files
// are named by their index in the dataset (shard-00000.h5, ...), so which rank wrote a shard leaves no
// trace. publish() is collective: each rank verifies its shards (reopened and checked against what
// was written), rank 0 checks that shards 0..n-1 are all there with their sizes, writes the manifest
// and renames the directory to the output, replacing an older dataset there. Until then the output
// path is untouched, and on failure the temporary directory is removed (by rank 0, once every rank
// has stopped writing into it).
// Shards are written on a background thread, one at a time, so tokenizing the next shard's rows
// overlaps compressing and writing the previous one.
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "data/manifest.h"
#include "data/shard.h"
#include "distributed/communicator.h"

namespace negatron::data {

class DatasetWriter {
 public:
  /// Collective. `layout`: the manifest's columns, labels and tokenizer (shards and rows are filled
  /// in by publish). Creates the temporary directory.
  DatasetWriter(const std::string& output, const DatasetManifest& layout, distributed::Communicator& comm);
  /// Waits for a write in flight; rank 0 removes the temporary directory unless published.
  ~DatasetWriter();

  /// Starts writing shard `index` (owned by this rank) in the background, once the previous write
  /// has finished; a failed write throws here or from publish().
  void write_shard(int64_t index, ShardBlock block);
  /// Collective: finishes this rank's writes, verifies them, and publishes (see above) with
  /// `skipped_rows` (bad input rows of all ranks) in the manifest. Returns the published manifest.
  DatasetManifest publish(int64_t skipped_rows);

  const std::string& temporary_dir() const { return tmp_; }

 private:
  void wait();
  void verify_own_shards() const;

  std::string output_, tmp_;
  DatasetManifest layout_;
  distributed::Communicator& comm_;
  std::vector<std::pair<int64_t, ShardInfo>> written_;  // (index, info) of this rank's shards
  std::thread writer_;
  std::exception_ptr write_error_;
  bool published_ = false;
};

/// "shard-00012.h5".
std::string shard_file_name(int64_t index);

}  // namespace negatron::data
