#include "model/token_packing.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"
#include "common/host_read.h"

namespace negatron::model {

TokenLayout TokenLayout::from_lengths(std::vector<int64_t> lengths, int64_t width) {
  TokenLayout out;
  out.width = width;
  const int64_t rows = static_cast<int64_t>(lengths.size());
  const int64_t tokens = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
  out.index = at::empty({tokens}, at::kLong);
  out.cu_seqlens = at::empty({rows + 1}, at::kInt);
  int64_t* index = out.index.data_ptr<int64_t>();
  int32_t* starts = out.cu_seqlens.data_ptr<int32_t>();
  int64_t n = 0;
  for (int64_t b = 0; b < rows; ++b) {
    NEG_CHECK(lengths[b] >= 0 && lengths[b] <= width, "row ", b, " has ", lengths[b], " tokens, outside [0, ", width,
              "]");
    starts[b] = static_cast<int32_t>(n);
    for (int64_t t = 0; t < lengths[b]; ++t) index[n++] = b * width + t;
  }
  starts[rows] = static_cast<int32_t>(n);
  out.lengths = std::move(lengths);
  return out;
}

TokenLayout TokenLayout::from_mask(const at::Tensor& attention_mask) {
  NEG_CHECK(attention_mask.dim() == 2, "attention_mask must be [B, T], got rank ", attention_mask.dim());
  const at::Tensor mask = read_to_host(attention_mask.ne(0)).to(at::kLong);
  const int64_t rows = mask.size(0), width = mask.size(1);
  const int64_t* m = mask.data_ptr<int64_t>();
  std::vector<int64_t> lengths(rows);
  for (int64_t b = 0; b < rows; ++b) {
    const int64_t* row = m + b * width;
    lengths[b] = std::accumulate(row, row + width, int64_t{0});
    NEG_CHECK(std::all_of(row, row + lengths[b], [](int64_t v) { return v == 1; }), "attention_mask row ", b,
              " is not right-padded (real tokens must come first)");
  }
  return from_lengths(std::move(lengths), width).to(attention_mask.device());
}

int64_t TokenLayout::tokens() const { return std::accumulate(lengths.begin(), lengths.end(), int64_t{0}); }

int64_t TokenLayout::max_length() const {
  return lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
}

TokenLayout TokenLayout::to(const at::Device& device, bool non_blocking) const {
  TokenLayout out = *this;
  out.index = index.to(device, non_blocking);
  out.cu_seqlens = cu_seqlens.to(device, non_blocking);
  return out;
}

TokenLayout TokenLayout::slice_rows(int64_t begin, int64_t end, int64_t new_width) const {
  NEG_CHECK(0 <= begin && begin <= end && end <= rows(), "rows [", begin, ", ", end, ") outside a batch of ", rows());
  TokenLayout out;
  out.lengths.assign(lengths.begin() + begin, lengths.begin() + end);
  out.width = new_width;
  NEG_CHECK(out.max_length() <= new_width, "width ", new_width, " is below the longest row (", out.max_length(), ")");
  const int64_t first = std::accumulate(lengths.begin(), lengths.begin() + begin, int64_t{0});
  const at::Tensor flat = index.narrow(0, first, out.tokens());
  // Position (row, column) of [B, T] becomes (row - begin, column) of [end - begin, new_width].
  out.index = (at::floor_divide(flat, width) - begin) * new_width + at::remainder(flat, width);
  out.cu_seqlens = cu_seqlens.narrow(0, begin, end - begin + 1) - static_cast<int32_t>(first);
  return out;
}

TokenLayout TokenLayout::stack(const std::vector<TokenLayout>& parts, int64_t new_width) {
  NEG_CHECK(!parts.empty(), "TokenLayout::stack needs at least one layout");
  TokenLayout out;
  out.width = new_width;
  std::vector<at::Tensor> indices, starts;
  int64_t row_offset = 0, token_offset = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const TokenLayout& p = parts[i];
    NEG_CHECK(p.width <= new_width, "width ", new_width, " is below a stacked layout's width ", p.width);
    out.lengths.insert(out.lengths.end(), p.lengths.begin(), p.lengths.end());
    indices.push_back((at::floor_divide(p.index, p.width) + row_offset) * new_width + at::remainder(p.index, p.width));
    // Each part's row starts, shifted by the tokens before it; the final end only once, at the end.
    const at::Tensor part_starts = p.cu_seqlens + static_cast<int32_t>(token_offset);
    starts.push_back(i + 1 == parts.size() ? part_starts : part_starts.narrow(0, 0, p.rows()));
    row_offset += p.rows();
    token_offset += p.tokens();
  }
  out.index = at::cat(indices);
  out.cu_seqlens = at::cat(starts);
  return out;
}

TokenPacking::TokenPacking(const TokenLayout& layout)
    : layout_(layout), batch_(layout.rows()), length_(layout.width), tokens_(layout.tokens()) {}

at::Tensor TokenPacking::pack(const at::Tensor& padded) const {
  at::Tensor flat = padded.reshape({batch_ * length_, padded.size(-1)});
  return has_padding() ? flat.index_select(0, layout_.index) : flat;
}

at::Tensor TokenPacking::unpack(const at::Tensor& packed) const {
  const int64_t dim = packed.size(-1);
  if (!has_padding()) return packed.view({batch_, length_, dim});
  return at::zeros({batch_ * length_, dim}, packed.options())
      .index_copy(0, layout_.index, packed)
      .view({batch_, length_, dim});
}

at::Tensor AttentionChunk::unpack(const at::Tensor& packed) const {
  const int64_t dim = packed.size(-1);
  return at::zeros({row_count * width, dim}, packed.options())
      .index_copy(0, positions, packed.index_select(0, tokens))
      .view({row_count, width, dim});
}

at::Tensor AttentionChunk::pack(const at::Tensor& padded) const {
  return padded.reshape({row_count * width, padded.size(-1)}).index_select(0, positions);
}

at::Tensor AttentionChunk::cut_mask(const at::Tensor& mask) const {
  at::Tensor out = mask.size(0) == 1 ? mask : mask.index_select(0, rows);
  if (out.size(-2) > 1) out = out.narrow(-2, 0, width);
  return out.narrow(-1, 0, width);
}

AttentionChunks AttentionChunks::plan(const TokenLayout& layout, int64_t rows_per_chunk, const at::Device& device) {
  NEG_CHECK(rows_per_chunk > 0, "attention chunks need at least one row each, got ", rows_per_chunk);
  const int64_t rows = layout.rows();
  std::vector<int64_t> sorted(rows), starts(rows + 1, 0);
  std::iota(sorted.begin(), sorted.end(), int64_t{0});
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](int64_t a, int64_t b) { return layout.lengths[a] > layout.lengths[b]; });
  for (int64_t r = 0; r < rows; ++r) starts[r + 1] = starts[r] + layout.lengths[r];
  const auto options = at::TensorOptions(at::kLong).pinned_memory(device.is_cuda());
  auto to_device = [&](const at::Tensor& t) { return t.to(device, /*non_blocking=*/true); };
  AttentionChunks out;
  std::vector<at::Tensor> orders;
  for (int64_t begin = 0; begin < rows; begin += rows_per_chunk) {
    const int64_t end = std::min(rows, begin + rows_per_chunk);
    AttentionChunk chunk;
    chunk.row_count = end - begin;
    chunk.width = std::max<int64_t>(1, layout.lengths[sorted[begin]]);
    int64_t count = 0;
    for (int64_t i = begin; i < end; ++i) count += layout.lengths[sorted[i]];
    at::Tensor chunk_rows = at::empty({chunk.row_count}, options), tokens = at::empty({count}, options),
               positions = at::empty({count}, options);
    int64_t* row_data = chunk_rows.data_ptr<int64_t>();
    int64_t* token_data = tokens.data_ptr<int64_t>();
    int64_t* position_data = positions.data_ptr<int64_t>();
    int64_t n = 0;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t row = sorted[i];
      row_data[i - begin] = row;
      for (int64_t t = 0; t < layout.lengths[row]; ++t, ++n) {
        token_data[n] = starts[row] + t;
        position_data[n] = (i - begin) * chunk.width + t;
      }
    }
    chunk.rows = to_device(chunk_rows);
    chunk.tokens = to_device(tokens);
    chunk.positions = to_device(positions);
    orders.push_back(chunk.tokens);
    out.chunks.push_back(std::move(chunk));
  }
  out.order = at::cat(orders);
  return out;
}

at::Tensor AttentionChunks::to_packed_order(const at::Tensor& chunk_ordered) const {
  return at::zeros_like(chunk_ordered).index_copy(0, order, chunk_ordered);
}

const AttentionChunks& TokenPacking::attention_chunks(int64_t rows_per_chunk, const at::Device& device) const {
  if (!chunks_) chunks_ = AttentionChunks::plan(layout_, rows_per_chunk, device);
  return *chunks_;
}

}  // namespace negatron::model
