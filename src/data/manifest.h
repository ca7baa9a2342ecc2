#pragma once
// The manifest of a prepared dataset directory (manifest.json): schema version, columns and their
// kinds, the tokenizer fingerprint, and the shard files with row counts, sizes and checksums.
// The on-disk format is documented in docs/dataset_format.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/label_kind.h"

namespace negatron::data {

constexpr int kDatasetSchemaVersion = 1;
constexpr const char* kManifestFile = "manifest.json";

using model::LabelKind;  // the one label-kind enum (model/label_kind.h), named as the manifest stores it

struct ShardInfo {
  std::string file;       // relative to the dataset directory
  int64_t rows = 0;
  int64_t bytes = 0;      // file size, checked on open (truncation)
  uint64_t checksum = 0;  // fnv1a64 of the file bytes, checked by verify_shard_checksums
  int64_t max_token_id = -1;  // largest token id in the shard (-1: not recorded, older manifests)
};

/// Largest float32_vector label width accepted from a manifest.
constexpr int64_t kMaxLabelDimension = int64_t{1} << 20;

struct DatasetManifest {
  int schema_version = kDatasetSchemaVersion;
  std::vector<std::string> text_columns;  // stored as ragged int32 token ids
  std::string label_column;               // "" when there is no label
  LabelKind label_kind = LabelKind::kNone;
  int64_t label_dimension = 0;            // float32_vector only
  std::vector<std::string> label_map;     // int64 label i was the string label_map[i] ("" if none)
  uint64_t tokenizer_fingerprint = 0;
  int64_t max_seq_length = 0;
  bool has_text = false;                  // raw UTF-8 text stored next to the ids
  int64_t rows = 0;
  int64_t skipped_rows = 0;
  std::vector<ShardInfo> shards;
  nlohmann::json source;                  // free-form provenance (input file, model, command)
};

nlohmann::json manifest_to_json(const DatasetManifest& manifest);
/// Validates every field; errors name `origin` and the key.
DatasetManifest manifest_from_json(const nlohmann::json& json, const std::string& origin);

DatasetManifest read_manifest(const std::string& dataset_dir);
/// Published atomically (common/atomic_file.h).
void write_manifest(const std::string& dataset_dir, const DatasetManifest& manifest);
/// Whether `dir` holds a negatron manifest (the layout check of the folder-ownership rule).
bool is_dataset_folder(const std::string& dir);

/// "0x" + 16 hex digits, the way fingerprints and checksums appear in JSON.
std::string hex64(uint64_t value);
uint64_t parse_hex64(const std::string& text, const std::string& origin);

}  // namespace negatron::data
