#include "data/prepare_labels.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/check.h"
#include "common/log.h"
#include "data/row_checks.h"

namespace negatron::data {
namespace {

constexpr int64_t kWarnedRows = 20;

// Parses one label into `plan`; returns a problem ("" when fine).
std::string parse_label(const std::string& text, double scale, LabelPlan& plan) {
  const std::map<std::string, int64_t>& map = plan.ids;
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
      const auto scaled = static_cast<float>(*value * scale);
      if (!std::isfinite(scaled)) return "label '" + text + "' scaled by " + std::to_string(scale) + " overflows float32";
      plan.float_values.push_back(scaled);
      return "";
    }
    case LabelKind::kFloat32Vector: {
      auto values = parse_float_vector(text);
      if (!values) return "label '" + text.substr(0, 40) + "' is not a list of numbers";
      if (plan.dimension == 0) plan.dimension = static_cast<int64_t>(values->size());
      if (static_cast<int64_t>(values->size()) != plan.dimension) {
        return "label has " + std::to_string(values->size()) + " values, earlier rows " + std::to_string(plan.dimension);
      }
      for (float v : *values) {
        const auto scaled = static_cast<float>(v * scale);
        if (!std::isfinite(scaled)) return "a label value scaled by " + std::to_string(scale) + " overflows float32";
        plan.float_values.push_back(scaled);
      }
      return "";
    }
    case LabelKind::kNone: return "";
  }
  return "";
}

}  // namespace

void BadRows::report(const std::string& message) {
  if (silent) {
    ++count;
    return;
  }
  NEG_CHECK(skip, message, " (use --on-error skip to skip such rows)");
  if (++count <= kWarnedRows) log::warn(message, " -- row skipped");
  if (count == kWarnedRows) log::warn("further skipped rows are counted but not shown");
}

void LabelScan::add(const std::string& label) {
  all_int = all_int && parse_int64(label).has_value();
  any_number = any_number || parse_double(label).has_value();
  if (keep_distinct && map_only_without_numbers && any_number) {
    keep_distinct = false;
    distinct.clear();
  }
  if (keep_distinct) distinct.insert(label);
}

void LabelScan::merge(const LabelScan& other) {
  all_int = all_int && other.all_int;
  any_number = any_number || other.any_number;
  keep_distinct = keep_distinct && other.keep_distinct && !(map_only_without_numbers && any_number);
  if (keep_distinct) {
    distinct.insert(other.distinct.begin(), other.distinct.end());
  } else {
    distinct.clear();
  }
}

std::string LabelScan::to_json() const {
  return nlohmann::json{{"all_int", all_int},
                        {"any_number", any_number},
                        {"keep_distinct", keep_distinct},
                        {"map_only_without_numbers", map_only_without_numbers},
                        {"distinct", distinct}}
      .dump();
}

LabelScan LabelScan::from_json(const std::string& text) {
  const auto json = nlohmann::json::parse(text);
  LabelScan scan;
  scan.all_int = json.at("all_int").get<bool>();
  scan.any_number = json.at("any_number").get<bool>();
  scan.keep_distinct = json.at("keep_distinct").get<bool>();
  scan.map_only_without_numbers = json.at("map_only_without_numbers").get<bool>();
  scan.distinct = json.at("distinct").get<std::set<std::string>>();
  return scan;
}

bool labels_need_scan(const PrepareOptions& o) {
  return !o.label_column.empty() && (o.label_type == "auto" || (o.label_type == "int" && o.label_map_file.empty()));
}

// auto: int64 if all values are integers; float32 if any value is a number (the others are then
// reported as non-numeric); a class-name map (sorted distinct strings) if none is. int: a map
// unless every value is an integer.
LabelPlan make_label_plan(const PrepareOptions& o, const LabelScan* scan) {
  LabelPlan plan;
  if (o.label_column.empty()) return plan;
  NEG_CHECK(scan || !labels_need_scan(o), "internal: label type ", o.label_type, " needs a scan of the labels");
  bool use_map = false;
  if (o.label_type == "auto") {
    use_map = !scan->any_number;
    plan.kind = scan->all_int || !scan->any_number ? LabelKind::kInt64 : LabelKind::kFloat32;
  } else {
    plan.kind = model::parse_label_kind(o.label_type);
  }
  if (!o.label_map_file.empty()) {
    NEG_CHECK(plan.kind == LabelKind::kInt64, "--label-map needs int labels, not ", label_kind_name(plan.kind));
    plan.ids = read_label_map(o.label_map_file, &plan.names);
  } else if (plan.kind == LabelKind::kInt64 && o.label_type == "int") {
    use_map = !scan->all_int;
  }
  if (use_map && plan.ids.empty()) {
    for (const auto& name : scan->distinct) {  // std::set: sorted
      plan.ids.emplace(name, static_cast<int64_t>(plan.names.size()));
      plan.names.push_back(name);
    }
  }
  return plan;
}

void parse_labels(std::vector<InputRow>& rows, const PrepareOptions& o, LabelPlan& plan, BadRows& bad) {
  if (plan.kind == LabelKind::kNone) return;
  size_t kept = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string problem = parse_label(rows[i].label, o.label_scale, plan);
    if (!problem.empty()) {
      bad.report(detail::concat(o.input, ":", rows[i].line, ": column '", o.label_column, "': ", problem));
      continue;
    }
    if (kept != i) rows[kept] = std::move(rows[i]);
    ++kept;
  }
  rows.resize(kept);
}

LabelPlan plan_labels(std::vector<InputRow>& rows, const PrepareOptions& o, BadRows& bad) {
  LabelScan scan;
  scan.map_only_without_numbers = o.label_type == "auto";
  for (const auto& row : rows) scan.add(row.label);
  LabelPlan plan = make_label_plan(o, &scan);
  parse_labels(rows, o, plan, bad);
  return plan;
}

}  // namespace negatron::data
