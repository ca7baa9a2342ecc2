#include "data/manifest.h"

#include <cstdio>
#include <fstream>
#include <limits>

#include "common/atomic_file.h"
#include "common/check.h"
#include "common/json_file.h"

namespace negatron::data {
namespace {

nlohmann::json shard_to_json(const ShardInfo& shard) {
  nlohmann::json json = {{"file", shard.file}, {"rows", shard.rows}, {"bytes", shard.bytes},
                         {"checksum", hex64(shard.checksum)}};
  if (shard.max_token_id >= 0) json["max_token_id"] = shard.max_token_id;
  return json;
}

int64_t non_negative(const JsonFile& file, const nlohmann::json& json, const char* key, const std::string& where) {
  const auto value = file.required<int64_t>(json, key, where);
  NEG_CHECK(value >= 0, file.origin(), ": '", where, key, "' = ", value, " must be >= 0");
  return value;
}

ShardInfo shard_from_json(const JsonFile& file, const nlohmann::json& json, const std::string& where) {
  ShardInfo shard;
  shard.file = file.required<std::string>(json, "file", where);
  shard.rows = non_negative(file, json, "rows", where);
  shard.bytes = non_negative(file, json, "bytes", where);
  shard.checksum = parse_hex64(file.required<std::string>(json, "checksum", where), file.origin() + " " + where + "checksum");
  shard.max_token_id = file.get_or<int64_t>(json, "max_token_id", -1, where);
  NEG_CHECK(shard.bytes > 0, file.origin(), ": shard ", shard.file, " has invalid bytes ", shard.bytes);
  NEG_CHECK(shard.max_token_id >= -1, file.origin(), ": shard ", shard.file, " has max_token_id ", shard.max_token_id);
  NEG_CHECK(!shard.file.empty() && shard.file != "." && shard.file != ".." &&
                shard.file.find('/') == std::string::npos && shard.file.find('\0') == std::string::npos,
            file.origin(), ": shard file '", shard.file, "' must be a plain file name");
  return shard;
}

}  // namespace

std::string hex64(uint64_t value) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

uint64_t parse_hex64(const std::string& text, const std::string& origin) {
  NEG_CHECK(text.size() == 18 && text.rfind("0x", 0) == 0 &&
                text.find_first_not_of("0123456789abcdef", 2) == std::string::npos,
            origin, ": '", text, "' is not 0x + 16 lowercase hex digits");
  return std::stoull(text.substr(2), nullptr, 16);
}

nlohmann::json manifest_to_json(const DatasetManifest& m) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& name : m.text_columns) columns.push_back({{"name", name}, {"kind", "text"}});
  if (m.label_kind != LabelKind::kNone) {
    nlohmann::json label = {{"name", m.label_column}, {"kind", label_kind_name(m.label_kind)}};
    if (m.label_kind == LabelKind::kFloat32Vector) label["dimension"] = m.label_dimension;
    if (!m.label_map.empty()) label["label_map"] = m.label_map;
    columns.push_back(label);
  }
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& shard : m.shards) shards.push_back(shard_to_json(shard));
  return {{"format", "negatron-dataset"},
          {"schema_version", m.schema_version},
          {"columns", columns},
          {"tokenizer", {{"fingerprint", hex64(m.tokenizer_fingerprint)}, {"max_seq_length", m.max_seq_length}}},
          {"has_text", m.has_text},
          {"rows", m.rows},
          {"skipped_rows", m.skipped_rows},
          {"shards", shards},
          {"source", m.source}};
}

DatasetManifest manifest_from_json(const nlohmann::json& json, const std::string& origin) {
  const JsonFile file(origin);
  NEG_CHECK(json.is_object() && JsonFile::find(json, "format") && json["format"] == "negatron-dataset", origin,
            ": not a negatron dataset manifest (\"format\" must be \"negatron-dataset\")");
  DatasetManifest m;
  m.schema_version = file.required<int>(json, "schema_version");
  NEG_CHECK(m.schema_version == kDatasetSchemaVersion, origin, ": schema_version ", m.schema_version,
            " is not supported (this build reads version ", kDatasetSchemaVersion, ")");
  const nlohmann::json& columns = file.require(json, "columns");
  NEG_CHECK(columns.is_array(), origin, ": 'columns' must be a list");
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string where = "columns[" + std::to_string(i) + "].";
    const nlohmann::json& column = columns[i];
    const auto kind = file.required<std::string>(column, "kind", where);
    const auto name = file.required<std::string>(column, "name", where);
    if (kind == "text") {
      NEG_CHECK(m.label_kind == LabelKind::kNone, origin, ": text column '", name, "' after the label column");
      m.text_columns.push_back(name);
      continue;
    }
    NEG_CHECK(m.label_kind == LabelKind::kNone, origin, ": more than one label column");
    m.label_column = name;
    try {
      m.label_kind = model::parse_label_kind(kind);
    } catch (const Error& e) {
      NEG_FAIL(origin, ": '", where, "kind': ", e.what());
    }
    NEG_CHECK(m.label_kind != LabelKind::kNone, origin, ": '", where, "kind' is 'none'");
    if (m.label_kind == LabelKind::kFloat32Vector) {
      m.label_dimension = file.required<int64_t>(column, "dimension", where);
      NEG_CHECK(m.label_dimension >= 1 && m.label_dimension <= kMaxLabelDimension, origin, ": '", where,
                "dimension' = ", m.label_dimension, " must be in [1, ", kMaxLabelDimension, "]");
    }
    m.label_map = file.get_or<std::vector<std::string>>(column, "label_map", {}, where);
    NEG_CHECK(m.label_map.empty() || m.label_kind == LabelKind::kInt64, origin, ": '", where,
              "label_map' needs int64 labels");
  }
  NEG_CHECK(!m.text_columns.empty(), origin, ": no text column");
  const nlohmann::json& tokenizer = file.require(json, "tokenizer");
  m.tokenizer_fingerprint = parse_hex64(file.required<std::string>(tokenizer, "fingerprint", "tokenizer."),
                                        origin + " tokenizer.fingerprint");
  m.max_seq_length = non_negative(file, tokenizer, "max_seq_length", "tokenizer.");
  m.has_text = file.required<bool>(json, "has_text");
  m.rows = non_negative(file, json, "rows", "");
  m.skipped_rows = non_negative(file, json, "skipped_rows", "");
  const nlohmann::json& shards = file.require(json, "shards");
  NEG_CHECK(shards.is_array(), origin, ": 'shards' must be a list");
  int64_t total = 0;
  for (size_t i = 0; i < shards.size(); ++i) {
    m.shards.push_back(shard_from_json(file, shards[i], "shards[" + std::to_string(i) + "]."));
    NEG_CHECK(m.shards.back().rows <= std::numeric_limits<int64_t>::max() - total, origin, ": shard rows overflow");
    total += m.shards.back().rows;
  }
  NEG_CHECK(total == m.rows, origin, ": shards hold ", total, " rows but \"rows\" says ", m.rows);
  m.source = json.value("source", nlohmann::json::object());
  return m;
}

DatasetManifest read_manifest(const std::string& dataset_dir) {
  const std::string path = dataset_dir + "/" + kManifestFile;
  std::ifstream probe(path);
  NEG_CHECK(probe, path, ": cannot open (is ", dataset_dir, " a dataset written by negatron prepare?)");
  return manifest_from_json(read_json_file(path), path);
}

void write_manifest(const std::string& dataset_dir, const DatasetManifest& manifest) {
  write_file_atomically(dataset_dir + "/" + kManifestFile, manifest_to_json(manifest).dump(2) + "\n");
}

bool is_dataset_folder(const std::string& dir) {
  try {
    const nlohmann::json json = read_json_file(dir + "/" + kManifestFile);
    const nlohmann::json* format = JsonFile::find(json, "format");
    return format && *format == "negatron-dataset";
  } catch (const Error&) {
    return false;
  }
}

}  // namespace negatron::data
