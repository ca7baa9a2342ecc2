#include "model/batch.h"

#include "common/check.h"

namespace negatron::model {

Batch Batch::to(const at::Device& device, bool non_blocking) const {
  Batch out;
  for (const auto& column : columns) out.columns.push_back(column.to(device, non_blocking));
  if (labels.defined()) out.labels = labels.to(device, non_blocking);
  out.texts = texts;
  out.rank_rows = rank_rows;
  return out;
}

}  // namespace negatron::model
