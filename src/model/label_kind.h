#pragma once
// The kinds of labels a dataset holds (its manifest declares one) and a loss asks for. No torch
// here: the manifest reader (and the fuzz build, which has no torch) includes it.
#include <string>

namespace negatron::model {

enum class LabelKind {
  kNone,           // no labels
  kInt64,          // [B] int64 class ids
  kFloat32,        // [B] float scores
  kFloat32Vector,  // [B, k] float (teacher embeddings, score lists)
};

/// "none", "int64", "float32", "float32_vector" (the manifest's spelling).
std::string label_kind_name(LabelKind kind);
/// Accepts the names above and the CLI spellings "int", "float", "float-vector".
LabelKind parse_label_kind(const std::string& name);

}  // namespace negatron::model
