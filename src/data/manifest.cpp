#include "data/manifest.h"

#include <cstdio>
#include <fstream>

#include "common/check.h"

namespace negatron::data {
namespace {

nlohmann::json shard_to_json(const ShardInfo& shard) {
  return {{"file", shard.file}, {"rows", shard.rows}, {"bytes", shard.bytes}, {"checksum", hex64(shard.checksum)}};
}

template <typename T>
T required(const nlohmann::json& json, const char* key, const std::string& origin) {
  NEG_CHECK(json.contains(key), origin, ": missing key '", key, "'");
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(origin, ": key '", key, "' has the wrong type (", e.what(), ")");
  }
}

ShardInfo shard_from_json(const nlohmann::json& json, const std::string& origin) {
  ShardInfo shard;
  shard.file = required<std::string>(json, "file", origin);
  shard.rows = required<int64_t>(json, "rows", origin);
  shard.bytes = required<int64_t>(json, "bytes", origin);
  shard.checksum = parse_hex64(required<std::string>(json, "checksum", origin), origin + " checksum");
  NEG_CHECK(shard.rows >= 0 && shard.bytes > 0, origin, ": shard ", shard.file, " has invalid rows/bytes");
  NEG_CHECK(shard.file.find('/') == std::string::npos, origin, ": shard file '", shard.file,
            "' must be a plain file name");
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
  NEG_CHECK(json.is_object() && json.value("format", "") == "negatron-dataset", origin,
            ": not a negatron dataset manifest (\"format\" must be \"negatron-dataset\")");
  DatasetManifest m;
  m.schema_version = required<int>(json, "schema_version", origin);
  NEG_CHECK(m.schema_version == kDatasetSchemaVersion, origin, ": schema_version ", m.schema_version,
            " is not supported (this build reads version ", kDatasetSchemaVersion, ")");
  for (const auto& column : required<nlohmann::json>(json, "columns", origin)) {
    const auto kind = required<std::string>(column, "kind", origin + " columns[]");
    const auto name = required<std::string>(column, "name", origin + " columns[]");
    if (kind == "text") {
      NEG_CHECK(m.label_kind == LabelKind::kNone, origin, ": text column '", name, "' after the label column");
      m.text_columns.push_back(name);
      continue;
    }
    NEG_CHECK(m.label_kind == LabelKind::kNone, origin, ": more than one label column");
    m.label_column = name;
    m.label_kind = model::parse_label_kind(kind);
    if (m.label_kind == LabelKind::kFloat32Vector) m.label_dimension = required<int64_t>(column, "dimension", origin);
    if (column.contains("label_map")) m.label_map = column["label_map"].get<std::vector<std::string>>();
  }
  NEG_CHECK(!m.text_columns.empty(), origin, ": no text column");
  const auto tokenizer = required<nlohmann::json>(json, "tokenizer", origin);
  m.tokenizer_fingerprint = parse_hex64(required<std::string>(tokenizer, "fingerprint", origin), origin + " tokenizer");
  m.max_seq_length = required<int64_t>(tokenizer, "max_seq_length", origin);
  m.has_text = required<bool>(json, "has_text", origin);
  m.rows = required<int64_t>(json, "rows", origin);
  m.skipped_rows = required<int64_t>(json, "skipped_rows", origin);
  int64_t total = 0;
  for (const auto& shard : required<nlohmann::json>(json, "shards", origin)) {
    m.shards.push_back(shard_from_json(shard, origin));
    total += m.shards.back().rows;
  }
  NEG_CHECK(total == m.rows, origin, ": shards hold ", total, " rows but \"rows\" says ", m.rows);
  m.source = json.value("source", nlohmann::json::object());
  return m;
}

DatasetManifest read_manifest(const std::string& dataset_dir) {
  const std::string path = dataset_dir + "/" + kManifestFile;
  std::ifstream in(path);
  NEG_CHECK(in, path, ": cannot open (is ", dataset_dir, " a dataset written by negatron prepare?)");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    NEG_FAIL(path, ": invalid JSON (", e.what(), ")");
  }
  return manifest_from_json(json, path);
}

void write_manifest(const std::string& dataset_dir, const DatasetManifest& manifest) {
  const std::string path = dataset_dir + "/" + kManifestFile;
  std::ofstream out(path);
  NEG_CHECK(out, path, ": cannot create");
  out << manifest_to_json(manifest).dump(2) << "\n";
  NEG_CHECK(out.good(), path, ": write failed");
}

}  // namespace negatron::data
