#include "data/prepare_labels.h"

#include <map>
#include <set>

#include "common/check.h"
#include "common/log.h"
#include "data/row_checks.h"

namespace negatron::data {
namespace {

constexpr int64_t kWarnedRows = 20;

// auto: int64 if all values are integers; float32 if any value is a number (the others are then
// reported as non-numeric); a class-name map if none is.
LabelKind infer_kind(const std::vector<InputRow>& rows, bool* use_map) {
  bool all_int = true, any_number = false;
  for (const auto& row : rows) {
    all_int = all_int && parse_int64(row.label).has_value();
    any_number = any_number || parse_double(row.label).has_value();
  }
  *use_map = !any_number;
  return all_int || !any_number ? LabelKind::kInt64 : LabelKind::kFloat32;
}

std::map<std::string, int64_t> sorted_label_map(const std::vector<InputRow>& rows, std::vector<std::string>* names) {
  std::set<std::string> distinct;
  for (const auto& row : rows) distinct.insert(row.label);
  std::map<std::string, int64_t> ids;
  for (const auto& name : distinct) {
    ids.emplace(name, static_cast<int64_t>(names->size()));
    names->push_back(name);
  }
  return ids;
}

// Parses one label into `plan`; returns a problem ("" when fine).
std::string parse_label(const std::string& text, const std::map<std::string, int64_t>& map, double scale,
                        LabelPlan& plan) {
  switch (plan.kind) {
    case LabelKind::kInt64: {
      if (!map.empty()) {
        auto it = map.find(text);
        if (it == map.end()) return "label '" + text + "' is not in the label map";
        plan.int_values.push_back(it->second);
      } else if (auto value = parse_int64(text)) {
        plan.int_values.push_back(*value);
      } else {
        return "label '" + text + "' is not an integer";
      }
      return "";
    }
    case LabelKind::kFloat32: {
      auto value = parse_double(text);
      if (!value) return "non-numeric label '" + text + "'";
      plan.float_values.push_back(static_cast<float>(*value * scale));
      return "";
    }
    case LabelKind::kFloat32Vector: {
      auto values = parse_float_vector(text);
      if (!values) return "label '" + text.substr(0, 40) + "' is not a list of numbers";
      if (plan.dimension == 0) plan.dimension = static_cast<int64_t>(values->size());
      if (static_cast<int64_t>(values->size()) != plan.dimension) {
        return "label has " + std::to_string(values->size()) + " values, earlier rows " + std::to_string(plan.dimension);
      }
      for (float v : *values) plan.float_values.push_back(static_cast<float>(v * scale));
      return "";
    }
    case LabelKind::kNone: return "";
  }
  return "";
}

}  // namespace

void BadRows::report(const std::string& message) {
  NEG_CHECK(skip, message, " (use --on-error skip to skip such rows)");
  if (++count <= kWarnedRows) log::warn(message, " -- row skipped");
  if (count == kWarnedRows) log::warn("further skipped rows are counted but not shown");
}

LabelPlan plan_labels(std::vector<InputRow>& rows, const PrepareOptions& o, BadRows& bad) {
  LabelPlan plan;
  if (o.label_column.empty()) return plan;
  bool use_map = false;
  plan.kind = o.label_type == "auto" ? infer_kind(rows, &use_map) : parse_label_kind(o.label_type);
  std::map<std::string, int64_t> map;
  if (!o.label_map_file.empty()) {
    NEG_CHECK(plan.kind == LabelKind::kInt64, "--label-map needs int labels, not ", label_kind_name(plan.kind));
    map = read_label_map(o.label_map_file, &plan.names);
  } else if (plan.kind == LabelKind::kInt64 && o.label_type == "int") {
    bool all_int = true;
    for (const auto& row : rows) all_int = all_int && parse_int64(row.label).has_value();
    use_map = !all_int;
  }
  if (use_map && map.empty()) map = sorted_label_map(rows, &plan.names);
  std::vector<InputRow> kept;
  kept.reserve(rows.size());
  for (auto& row : rows) {
    const std::string problem = parse_label(row.label, map, o.label_scale, plan);
    if (!problem.empty()) {
      bad.report(detail::concat(o.input, ":", row.line, ": column '", o.label_column, "': ", problem));
      continue;
    }
    kept.push_back(std::move(row));
  }
  rows = std::move(kept);
  return plan;
}

}  // namespace negatron::data
