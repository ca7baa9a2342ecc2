#pragma once
// Position-wise layers (projections, feed-forward, LayerNorm, dropout) do not need the padding of a
// batch: TokenPacking moves activations between the padded layout [B, T, D] that attention needs and
// a packed layout [N, D] holding only the N real tokens, so those layers skip padding entirely.
// Without padding both maps are views; otherwise they are index_select / index_copy, which autograd
// differentiates (the gradient of padding positions is zero, as it is through a masked attention).
//
// Where the real tokens are is a TokenLayout, built on the host from the row lengths when a batch is
// collated (the prefetch thread does it): packing then needs no device-to-host read. Slicing rows
// (GradCache mini-batches) and stacking columns (one encoder forward over all columns) derive the
// new layout from the old one by device arithmetic, again without a read.
#include <ATen/ATen.h>

#include <optional>
#include <vector>

namespace negatron::model {

/// The real tokens of a right-padded batch [B, T].
struct TokenLayout {
  std::vector<int64_t> lengths;  // real tokens per row (host)
  int64_t width = 0;             // T
  at::Tensor index;              // int64 [N]: flat positions of the real tokens in [B * T], row-major
  at::Tensor cu_seqlens;         // int32 [B + 1]: where each row starts in the packed order

  /// Built on the host (CPU tensors) from row lengths; every length must be in [0, width].
  static TokenLayout from_lengths(std::vector<int64_t> lengths, int64_t width);
  /// From an attention mask [B, T] (one counted host read; the mask must be right-padded).
  static TokenLayout from_mask(const at::Tensor& attention_mask);

  bool defined() const { return index.defined(); }
  int64_t rows() const { return static_cast<int64_t>(lengths.size()); }
  int64_t tokens() const;
  int64_t max_length() const;
  bool has_padding() const { return tokens() != rows() * width; }

  /// The tensors on `device` (non_blocking: from pinned memory, ordered on the current stream).
  TokenLayout to(const at::Device& device, bool non_blocking = false) const;
  /// Rows [begin, end), padded to `new_width` (>= their longest row).
  TokenLayout slice_rows(int64_t begin, int64_t end, int64_t new_width) const;
  /// The rows of every layout, in order, padded to `new_width` (>= every layout's width).
  static TokenLayout stack(const std::vector<TokenLayout>& parts, int64_t new_width);
};

/// Rows of a packed batch that attend together in training, padded to their own longest row.
struct AttentionChunk {
  at::Tensor rows;       // int64 [b]: the batch rows
  at::Tensor tokens;     // int64 [n]: their real tokens' places in the packed order, row by row
  at::Tensor positions;  // int64 [n]: where those tokens sit in the padded [b * width]
  int64_t row_count = 0, width = 0;

  /// [N, D] (the whole packed batch) -> [b, width, D], zeros at padding.
  at::Tensor unpack(const at::Tensor& packed) const;
  /// [b, width, D] -> [n, D]: the chunk's real tokens, in `tokens` order.
  at::Tensor pack(const at::Tensor& padded) const;
  /// An attention mask [B or 1, H or 1, T or 1, T] cut to the chunk's rows and width.
  at::Tensor cut_mask(const at::Tensor& mask) const;
};

/// The rows of a batch sorted by length, longest first, in chunks of `rows_per_chunk`: rows of similar
/// length share a chunk, so the padding attention computes over is small. `order` is every chunk's
/// `tokens`, concatenated (a permutation of the packed order). Built on the host from the lengths;
/// the tensors are on `device` (copied from pinned memory without blocking when it is a GPU).
struct AttentionChunks {
  std::vector<AttentionChunk> chunks;
  at::Tensor order;

  static AttentionChunks plan(const TokenLayout& layout, int64_t rows_per_chunk, const at::Device& device);
  /// The chunks' outputs, concatenated in chunk order ([N, D]), back in the packed order.
  at::Tensor to_packed_order(const at::Tensor& chunk_ordered) const;
};

class TokenPacking {
 public:
  explicit TokenPacking(const TokenLayout& layout);

  /// [B, T, D] -> [N, D], the real tokens in row-major order.
  at::Tensor pack(const at::Tensor& padded) const;
  /// [N, D] -> [B, T, D], zeros at padding positions.
  at::Tensor unpack(const at::Tensor& packed) const;

  int64_t real_tokens() const { return tokens_; }
  bool has_padding() const { return tokens_ != batch_ * length_; }
  const TokenLayout& layout() const { return layout_; }
  /// AttentionChunks::plan of this layout, planned once and reused by every layer of a forward.
  const AttentionChunks& attention_chunks(int64_t rows_per_chunk, const at::Device& device) const;

 private:
  TokenLayout layout_;
  int64_t batch_, length_, tokens_;
  mutable std::optional<AttentionChunks> chunks_;  // a cache: the packing itself does not change
};

}  // namespace negatron::model
