#pragma once
// Label handling of `negatron prepare`: picks the label kind, maps class names to ids, parses
// values, and drops (or fails on) rows whose label does not parse.
#include <cstdint>
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
struct BadRows {
  bool skip = false;
  int64_t count = 0;
  void report(const std::string& message);
};

struct LabelPlan {
  LabelKind kind = LabelKind::kNone;
  int64_t dimension = 0;            // float32_vector
  std::vector<std::string> names;   // label map: id -> class name
  std::vector<int64_t> int_values;  // one per row
  std::vector<float> float_values;  // rows * width
};

/// Resolves options.label_type against the values of `rows`, erasing rows with a bad label.
LabelPlan plan_labels(std::vector<InputRow>& rows, const PrepareOptions& options, BadRows& bad);

}  // namespace negatron::data
