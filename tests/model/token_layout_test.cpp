// TokenLayout: built on the host from row lengths, and derived (without reading the device) for row
// slices and stacked batches. The reference for every layout is the mask's own nonzero positions.
#include <gtest/gtest.h>

#include "common/host_read.h"
#include "model/token_batch.h"
#include "support/error_of.h"

namespace negatron::model {
namespace {

/// The layout a mask implies, computed independently: nonzero positions and cumulative row sums.
void expect_layout_of_mask(const TokenLayout& layout, const at::Tensor& mask) {
  const at::Tensor flat = mask.reshape({-1}).ne(0);
  EXPECT_TRUE(at::equal(layout.index.cpu(), flat.nonzero().squeeze(1)));
  const at::Tensor lengths = mask.ne(0).sum(1);
  EXPECT_TRUE(at::equal(layout.cu_seqlens.cpu().to(at::kLong),
                        at::cat({at::zeros({1}, at::kLong), lengths.cumsum(0)})));
  EXPECT_EQ(layout.width, mask.size(1));
  EXPECT_EQ(layout.tokens(), flat.sum().item<int64_t>());
}

TokenBatch sample(std::vector<std::vector<int32_t>> ids) { return collate_tokens(ids, 0); }

TEST(TokenLayout, CollationRecordsTheRealTokens) {
  const TokenBatch b = sample({{101, 7, 102}, {101, 102}, {101, 5, 6, 7, 102}});
  EXPECT_EQ(b.layout.lengths, (std::vector<int64_t>{3, 2, 5}));
  EXPECT_EQ(b.layout.max_length(), 5);
  EXPECT_TRUE(b.layout.has_padding());
  expect_layout_of_mask(b.layout, b.attention_mask);
}

TEST(TokenLayout, SlicedRowsKeepTheirLayout) {
  const TokenBatch b = sample({{101, 7, 102}, {101, 102}, {101, 5, 6, 7, 102}, {101, 9, 102}});
  const TokenBatch s = slice_rows(b, 1, 4);
  EXPECT_EQ(s.input_ids.size(1), 5);
  expect_layout_of_mask(s.layout, s.attention_mask);
  const TokenBatch narrow = slice_rows(b, 0, 2);  // trailing all-padding columns trimmed: width 3
  EXPECT_EQ(narrow.input_ids.size(1), 3);
  expect_layout_of_mask(narrow.layout, narrow.attention_mask);
}

TEST(TokenLayout, StackedBatchesKeepEveryRowsLayout) {
  const TokenBatch a = sample({{101, 7, 102}, {101, 102}});
  const TokenBatch b = sample({{101, 5, 6, 7, 8, 102}, {101, 9, 102}, {101, 102}});
  const TokenBatch s = stack_rows({a, b}, /*pad_id=*/0);
  EXPECT_EQ(s.rows(), 5);
  EXPECT_EQ(s.input_ids.size(1), 6);
  expect_layout_of_mask(s.layout, s.attention_mask);
  EXPECT_TRUE(at::equal(s.input_ids.narrow(0, 0, 2).narrow(1, 0, 3), a.input_ids));
  EXPECT_TRUE(at::equal(s.input_ids.narrow(0, 0, 2).narrow(1, 3, 3), at::zeros({2, 3}, at::kLong)));
  // A slice of a stacked batch, as GradCache would take across the seam.
  expect_layout_of_mask(slice_rows(s, 1, 4).layout, slice_rows(s, 1, 4).attention_mask);
}

TEST(TokenLayout, DerivingItNeedsNoHostReadButAMaskAloneDoes) {
  const TokenBatch b = sample({{101, 7, 102}, {101, 102}});
  const int64_t before = host_read_count();
  slice_rows(b, 0, 1);
  stack_rows({b, b}, 0);
  layout_of(b);
  EXPECT_EQ(host_read_count(), before);
  TokenBatch tensors_only = b;
  tensors_only.layout = TokenLayout();
  expect_layout_of_mask(layout_of(tensors_only), b.attention_mask);
  EXPECT_EQ(host_read_count(), before + 1);  // the fallback reads the mask, counted
}

TEST(TokenLayout, LeftPaddedMaskIsRejected) {
  const at::Tensor mask = at::tensor({0, 1, 1, 1, 1, 0}, at::kLong).view({2, 3});
  EXPECT_NE(negatron::testing::error_of([&] { TokenLayout::from_mask(mask); }).find("row 0 is not right-padded"),
            std::string::npos);
}

TEST(TokenPacking, PacksAndUnpacksThroughTheLayout) {
  const TokenBatch b = sample({{101, 7, 102}, {101, 102}});
  const TokenPacking packing(b.layout);
  const at::Tensor padded = at::arange(2 * 3 * 2, at::kDouble).view({2, 3, 2});
  const at::Tensor packed = packing.pack(padded);
  EXPECT_EQ(packed.size(0), 5);
  const at::Tensor back = packing.unpack(packed);
  EXPECT_TRUE(at::equal(back, padded * b.attention_mask.unsqueeze(-1).to(at::kDouble)));
}

}  // namespace
}  // namespace negatron::model
