#include "model/label_kind.h"

#include "common/check.h"

namespace negatron::model {

std::string label_kind_name(LabelKind kind) {
  switch (kind) {
    case LabelKind::kNone: return "none";
    case LabelKind::kInt64: return "int64";
    case LabelKind::kFloat32: return "float32";
    case LabelKind::kFloat32Vector: return "float32_vector";
  }
  return "?";
}

LabelKind parse_label_kind(const std::string& name) {
  if (name == "none") return LabelKind::kNone;
  if (name == "int64" || name == "int") return LabelKind::kInt64;
  if (name == "float32" || name == "float") return LabelKind::kFloat32;
  if (name == "float32_vector" || name == "float-vector") return LabelKind::kFloat32Vector;
  NEG_FAIL("unknown label kind '", name, "' (expected int, float or float-vector)");
}

}  // namespace negatron::model
