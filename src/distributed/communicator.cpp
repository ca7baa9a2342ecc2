#include "distributed/communicator.h"

#include <numeric>

#include "common/check.h"

namespace negatron::distributed {

void check_rank_rows(const Communicator& comm, const std::vector<int64_t>& rank_rows, int64_t local_rows,
                     const char* collective) {
  NEG_CHECK(static_cast<int>(rank_rows.size()) == comm.world_size(), collective, ": ", rank_rows.size(),
            " row counts for ", comm.world_size(), " ranks on rank ", comm.rank());
  for (size_t r = 0; r < rank_rows.size(); ++r) {
    NEG_CHECK(rank_rows[r] >= 0, collective, ": negative row count ", rank_rows[r], " for rank ", r, " on rank ",
              comm.rank());
  }
  NEG_CHECK(local_rows < 0 || rank_rows[comm.rank()] == local_rows, collective, ": the batch plan gives rank ", comm.rank(), " ",
            rank_rows[comm.rank()], " rows, its tensor has ", local_rows);
}

at::Tensor Communicator::all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) {
  NEG_CHECK(tensor.defined() && tensor.dim() >= 1, "all_gather_rows needs a tensor with at least one dimension on rank ",
            rank());
  check_rank_rows(*this, rank_rows, tensor.size(0), "all_gather_rows");
  return all_gather(tensor);
}

at::Tensor Communicator::reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) {
  NEG_CHECK(tensor.defined() && tensor.dim() >= 1, "reduce_scatter needs a tensor with at least one dimension on rank ",
            rank());
  check_rank_rows(*this, rank_rows, -1, "reduce_scatter");
  const int64_t total = std::accumulate(rank_rows.begin(), rank_rows.end(), int64_t{0});
  NEG_CHECK(tensor.size(0) == total, "reduce_scatter: the tensor has ", tensor.size(0), " rows, the ranks ", total,
            " on rank ", rank());
  at::Tensor sum = tensor.clone(at::MemoryFormat::Contiguous);
  all_reduce(sum, ReduceOp::kSum);
  const int64_t offset = std::accumulate(rank_rows.begin(), rank_rows.begin() + rank(), int64_t{0});
  return sum.narrow(0, offset, rank_rows[rank()]).clone();
}

}  // namespace negatron::distributed
