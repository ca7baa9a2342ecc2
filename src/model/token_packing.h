#pragma once
// Position-wise layers (projections, feed-forward, LayerNorm, dropout) do not need the padding of a
// batch: TokenPacking moves activations between the padded layout [B, T, D] that attention needs and
// a packed layout [N, D] holding only the N real tokens, so those layers skip padding entirely.
// Without padding both maps are views; otherwise they are index_select / index_copy, which autograd
// differentiates (the gradient of padding positions is zero, as it is through a masked attention).
#include <ATen/ATen.h>

namespace negatron::model {

class TokenPacking {
 public:
  /// attention_mask: [B, T], nonzero = real token.
  explicit TokenPacking(const at::Tensor& attention_mask);

  /// [B, T, D] -> [N, D], the real tokens in row-major order.
  at::Tensor pack(const at::Tensor& padded) const;
  /// [N, D] -> [B, T, D], zeros at padding positions.
  at::Tensor unpack(const at::Tensor& packed) const;

  int64_t real_tokens() const { return tokens_; }
  bool has_padding() const { return tokens_ != batch_ * length_; }

 private:
  int64_t batch_, length_, tokens_;
  at::Tensor index_;  // flat positions of the real tokens in [B * T]; undefined without padding
};

}  // namespace negatron::model
