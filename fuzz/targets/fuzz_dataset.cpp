// A prepared dataset: manifest.json and its first shard. Input: 4 bytes (little-endian length of
// the manifest), the manifest, then the shard file. The manifest is parsed; the shard is opened with
// it (its byte count taken from the actual bytes, so the reader gets past the size check) and every
// row, hash, token count and label is read.
#include <numeric>

#include "common/json_file.h"
#include "data/manifest.h"
#include "data/shard.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const size_t manifest_size = data[0] | (data[1] << 8) | (data[2] << 16) | (size_t{data[3]} << 24);
  if (manifest_size > size - 4) return 0;
  const std::string_view manifest_text(reinterpret_cast<const char*>(data) + 4, manifest_size);
  const std::string_view shard_bytes(reinterpret_cast<const char*>(data) + 4 + manifest_size,
                                     size - 4 - manifest_size);
  negatron::fuzz::expect_only_negatron_errors([&] {
    using namespace negatron::data;
    DatasetManifest manifest = manifest_from_json(negatron::parse_json(manifest_text, "manifest.json"), "manifest.json");
    if (manifest.shards.empty() || shard_bytes.empty() || manifest.shards[0].rows > 4096) return;
    ShardInfo info = manifest.shards[0];
    info.bytes = static_cast<int64_t>(shard_bytes.size());
    const std::string path = negatron::fuzz::scratch_file("shard.h5", shard_bytes);
    ShardReader reader(path, info, manifest, 1 << 16, /*token_id_limit=*/1000);
    std::vector<int64_t> rows(static_cast<size_t>(info.rows));
    std::iota(rows.begin(), rows.end(), 0);
    reader.read(rows, /*with_text=*/true);
    reader.read_hashes(rows);
    reader.read_token_counts(rows);
    reader.scan_max_token_id();
    if (manifest.label_kind == LabelKind::kInt64) reader.read_all_int_labels();
  });
  return 0;
}
