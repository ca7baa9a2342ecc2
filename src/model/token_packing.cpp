#include "model/token_packing.h"

namespace negatron::model {

TokenPacking::TokenPacking(const at::Tensor& attention_mask)
    : batch_(attention_mask.size(0)), length_(attention_mask.size(1)) {
  at::Tensor flat_real = attention_mask.reshape({-1}).ne(0);
  tokens_ = flat_real.sum().item<int64_t>();
  if (has_padding()) index_ = flat_real.nonzero().squeeze(1);
}

at::Tensor TokenPacking::pack(const at::Tensor& padded) const {
  at::Tensor flat = padded.reshape({batch_ * length_, padded.size(-1)});
  return has_padding() ? flat.index_select(0, index_) : flat;
}

at::Tensor TokenPacking::unpack(const at::Tensor& packed) const {
  const int64_t dim = packed.size(-1);
  if (!has_padding()) return packed.view({batch_, length_, dim});
  return at::zeros({batch_ * length_, dim}, packed.options()).index_copy(0, index_, packed).view({batch_, length_, dim});
}

}  // namespace negatron::model
