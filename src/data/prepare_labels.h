#pragma once
// Label handling of `negatron prepare`: picks the label kind, maps class names to ids, parses
// values, and drops (or fails on) rows whose label does not parse.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "data/prepare.h"

namespace negatron::data {

/// One input row that passed the text checks.
struct InputRow {
  int64_t line = 0;
  std::vector<std::string> texts;
  std::string label;
};

/// Collects bad-row reports: throws the first one unless skipping; warns for the first few.
/// Silent: counts and drops them without a word (a rank reading rows another rank reports).
struct BadRows {
  bool skip = false;
  bool silent = false;
  int64_t count = 0;
  void report(const std::string& message);
};

struct LabelPlan {
  LabelKind kind = LabelKind::kNone;
  int64_t dimension = 0;            // float32_vector
  std::vector<std::string> names;   // label map: id -> class name
  std::map<std::string, int64_t> ids;  // label map: class name -> id (empty: labels are numbers)
  std::vector<int64_t> int_values;  // one per row parsed so far
  std::vector<float> float_values;  // rows * width
};

/// What the label kind and map depend on, gathered over every row's label in a first pass (the
/// label map of "auto"/"int" labels is the sorted distinct strings of the whole input).
struct LabelScan {
  bool all_int = true, any_number = false;
  std::set<std::string> distinct;  // kept only while a label map may still be needed
  bool keep_distinct = true;
  bool map_only_without_numbers = false;  // label type auto: a number rules the map out
  void add(const std::string& label);
  /// Adds the labels another scan saw (of another part of the input).
  void merge(const LabelScan& other);
  std::string to_json() const;
  static LabelScan from_json(const std::string& text);
};

/// Whether make_label_plan needs a LabelScan of the input: label type auto, or int without a
/// label map file.
bool labels_need_scan(const PrepareOptions& options);

/// The label kind and map from the options and, when labels_need_scan, the scan.
LabelPlan make_label_plan(const PrepareOptions& options, const LabelScan* scan);

/// Parses the labels of `rows` (appending to plan.int_values / float_values), erasing the rows
/// whose label does not parse (reported to `bad`).
void parse_labels(std::vector<InputRow>& rows, const PrepareOptions& options, LabelPlan& plan, BadRows& bad);

/// All three at once, for rows held in memory.
LabelPlan plan_labels(std::vector<InputRow>& rows, const PrepareOptions& options, BadRows& bad);

}  // namespace negatron::data
