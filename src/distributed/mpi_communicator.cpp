#include "distributed/mpi_communicator.h"

#include <algorithm>
#include <array>
#include <climits>
#include <iostream>

#include "common/log.h"
#include "distributed/mpi_check.h"
#include "distributed/mpi_types.h"

namespace negatron::distributed {
namespace {

/// What each rank tells the others before an all_gather, to check that the pieces fit together.
constexpr int kHeaderFields = 4;  // rows, elements per row, ndim, dtype

int checked_count(int64_t bytes, const char* collective, int rank) {
  NEG_CHECK(bytes <= INT_MAX, collective, " of ", bytes, " bytes exceeds MPI's int count on rank ", rank);
  return static_cast<int>(bytes);
}

void check_cpu(const at::Tensor& tensor, const char* collective, int rank) {
  NEG_CHECK(tensor.defined(), collective, ": undefined tensor on rank ", rank);
  NEG_CHECK(tensor.device().is_cpu(), "the MPI backend needs CPU tensors, got ", tensor.device(), " in ",
            collective, " on rank ", rank);
}

/// One MPI_Iallreduce in flight. Holds the buffer (and the caller's tensor, when the buffer is a
/// contiguous copy) until MPI_Wait.
class MpiPendingReduction : public PendingReduction {
 public:
  MpiPendingReduction(at::Tensor tensor, at::Tensor buffer, MPI_Request request)
      : tensor_(std::move(tensor)), buffer_(std::move(buffer)), request_(request) {}

  ~MpiPendingReduction() override {
    if (request_ == MPI_REQUEST_NULL) return;
    // Not waited for (an exception on the way): a nonblocking collective's request can be neither
    // freed nor cancelled, and waiting here could hang if a peer failed, so the buffer is leaked.
    (void)new at::Tensor(buffer_);
  }

  void wait() override {
    if (request_ != MPI_REQUEST_NULL) MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
    if (!buffer_.defined()) return;
    if (!buffer_.is_same(tensor_)) tensor_.copy_(buffer_);
    buffer_ = at::Tensor();
    tensor_ = at::Tensor();
  }

  void progress() override {
    if (request_ == MPI_REQUEST_NULL) return;
    int done = 0;
    MPI_CHECK(MPI_Test(&request_, &done, MPI_STATUS_IGNORE));  // sets request_ to null once done
  }

 private:
  at::Tensor tensor_, buffer_;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm parent) {
    MPI_CHECK(MPI_Comm_dup(parent, &comm_));
    MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    // The async all-reduces get their own communicator: their order among themselves is the same
    // on every rank, but not necessarily relative to the blocking collectives (a gradient bucket
    // launched from a backward hook may start before or after a gather's backward all_gather).
    MPI_CHECK(MPI_Comm_dup(parent, &async_comm_));
    MPI_CHECK(MPI_Comm_set_errhandler(async_comm_, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    MPI_CHECK(MPI_Comm_size(comm_, &world_));
    local_rank_ = mpi_local_rank(comm_);
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {  // no throw from a destructor
      MPI_Comm_free(&async_comm_);
      MPI_Comm_free(&comm_);
    }
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "mpi"; }

  at::Tensor all_gather(const at::Tensor& tensor) override {
    check_cpu(tensor, "all_gather", rank_);
    NEG_CHECK(tensor.dim() >= 1, "all_gather needs at least one dimension, got a scalar on rank ", rank_);
    const at::Tensor local = tensor.contiguous();
    const std::vector<int64_t> headers = exchange_headers(local);
    std::vector<int64_t> rows(world_);
    for (int r = 0; r < world_; ++r) rows[r] = headers[r * kHeaderFields];
    return gather_rows(local, rows);
  }

  at::Tensor all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    check_cpu(tensor, "all_gather_rows", rank_);
    NEG_CHECK(tensor.dim() >= 1, "all_gather_rows needs at least one dimension, got a scalar on rank ", rank_);
    check_rank_rows(*this, rank_rows, tensor.size(0), "all_gather_rows");
    return gather_rows(tensor.contiguous(), rank_rows);
  }

  at::Tensor reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    check_cpu(tensor, "reduce_scatter", rank_);
    NEG_CHECK(tensor.dim() >= 1, "reduce_scatter needs at least one dimension, got a scalar on rank ", rank_);
    check_rank_rows(*this, rank_rows, -1, "reduce_scatter");
    const MPI_Datatype type = mpi_reduce_datatype(tensor.scalar_type(), "reduce_scatter");
    const at::Tensor input = tensor.contiguous();
    const int64_t per_row = row_elements(input);
    std::vector<int> counts(world_);
    int64_t total = 0;
    for (int r = 0; r < world_; ++r) {
      counts[r] = checked_count(rank_rows[r] * per_row, "reduce_scatter", rank_);
      total += rank_rows[r];
    }
    NEG_CHECK(input.size(0) == total, "reduce_scatter: the tensor has ", input.size(0), " rows, the ranks ", total,
              " on rank ", rank_);
    std::vector<int64_t> shape = input.sizes().vec();
    shape[0] = rank_rows[rank_];
    at::Tensor out = at::empty(shape, input.options());
    const bool even = std::all_of(counts.begin(), counts.end(), [&](int c) { return c == counts[0]; });
    if (even) {
      MPI_CHECK(MPI_Reduce_scatter_block(input.data_ptr(), out.data_ptr(), counts[0], type, MPI_SUM, comm_));
    } else {
      MPI_CHECK(MPI_Reduce_scatter(input.data_ptr(), out.data_ptr(), counts.data(), type, MPI_SUM, comm_));
    }
    stats_.reduce_scatter_calls++;
    stats_.reduce_scatter_bytes += input.nbytes();
    return out;
  }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    check_cpu(tensor, "all_reduce", rank_);
    const MPI_Datatype type = mpi_reduce_datatype(tensor.scalar_type(), "all_reduce");
    const int count = checked_count(tensor.numel(), "all_reduce", rank_);
    at::Tensor buffer = tensor.is_contiguous() ? tensor : tensor.contiguous();
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buffer.data_ptr(), count, type, mpi_reduce_op(op), comm_));
    if (!buffer.is_same(tensor)) tensor.copy_(buffer);
    stats_.all_reduce_calls++;
    stats_.all_reduce_bytes += tensor.nbytes();
  }

  std::unique_ptr<PendingReduction> all_reduce_async(at::Tensor& tensor, ReduceOp op) override {
    check_cpu(tensor, "all_reduce_async", rank_);
    const MPI_Datatype type = mpi_reduce_datatype(tensor.scalar_type(), "all_reduce_async");
    const int count = checked_count(tensor.numel(), "all_reduce_async", rank_);
    at::Tensor buffer = tensor.is_contiguous() ? tensor : tensor.contiguous();
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), count, type, mpi_reduce_op(op), async_comm_, &request));
    stats_.all_reduce_calls++;
    stats_.all_reduce_bytes += tensor.nbytes();
    return std::make_unique<MpiPendingReduction>(tensor, buffer, request);
  }

  void broadcast(at::Tensor& tensor, int root) override {
    check_cpu(tensor, "broadcast", rank_);
    NEG_CHECK(root >= 0 && root < world_, "broadcast root ", root, " outside world size ", world_, " on rank ", rank_);
    at::Tensor buffer = tensor.is_contiguous() ? tensor : tensor.contiguous();
    const int bytes = checked_count(buffer.nbytes(), "broadcast", rank_);
    MPI_CHECK(MPI_Bcast(buffer.data_ptr(), bytes, MPI_BYTE, root, comm_));
    if (!buffer.is_same(tensor)) tensor.copy_(buffer);
    stats_.broadcast_calls++;
    if (rank_ == root) stats_.broadcast_bytes += tensor.nbytes();
  }

  void barrier() override { MPI_CHECK(MPI_Barrier(comm_)); }

  [[noreturn]] void abort(const std::string& message, int code) override {
    log::error("rank ", rank_, " aborts the job: ", message);
    std::cerr << std::flush;
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

 private:
  /// MPI_Allgatherv of contiguous `local` given every rank's row count.
  at::Tensor gather_rows(const at::Tensor& local, const std::vector<int64_t>& rows) {
    std::vector<int> counts(world_), displs(world_);
    int64_t total_rows = 0, offset_bytes = 0;
    const int64_t row_bytes = row_elements(local) * local.element_size();
    for (int r = 0; r < world_; ++r) {
      counts[r] = checked_count(rows[r] * row_bytes, "all_gather", rank_);
      displs[r] = checked_count(offset_bytes, "all_gather", rank_);
      offset_bytes += rows[r] * row_bytes;
      total_rows += rows[r];
    }
    std::vector<int64_t> shape = local.sizes().vec();
    shape[0] = total_rows;
    at::Tensor out = at::empty(shape, local.options());
    MPI_CHECK(MPI_Allgatherv(local.data_ptr(), counts[rank_], MPI_BYTE, out.data_ptr(), counts.data(),
                             displs.data(), MPI_BYTE, comm_));
    stats_.all_gather_calls++;
    stats_.all_gather_bytes += local.nbytes();
    return out;
  }

  /// Every rank's {rows, elements per row, ndim, dtype}; throws on every rank if they disagree.
  std::vector<int64_t> exchange_headers(const at::Tensor& local) {
    const int64_t rows = local.size(0);
    const std::array<int64_t, kHeaderFields> mine = {rows, row_elements(local), local.dim(),
                                                     static_cast<int64_t>(local.scalar_type())};
    std::vector<int64_t> all(static_cast<size_t>(world_) * kHeaderFields);
    MPI_CHECK(MPI_Allgather(mine.data(), kHeaderFields, MPI_INT64_T, all.data(), kHeaderFields, MPI_INT64_T, comm_));
    for (int r = 1; r < world_; ++r) {
      for (int field = 1; field < kHeaderFields; ++field) {
        NEG_CHECK(all[r * kHeaderFields + field] == all[field], "all_gather: rank ", r,
                  " disagrees with rank 0 on trailing shape or dtype (elements per row ", all[r * kHeaderFields + 1],
                  " vs ", all[1], ", ndim ", all[r * kHeaderFields + 2], " vs ", all[2], ", dtype ",
                  c10::toString(static_cast<at::ScalarType>(all[r * kHeaderFields + 3])), " vs ",
                  c10::toString(static_cast<at::ScalarType>(all[3])), "); seen on rank ", rank_);
      }
    }
    return all;
  }

  static int64_t row_elements(const at::Tensor& local) {
    int64_t n = 1;
    for (int64_t d = 1; d < local.dim(); ++d) n *= local.size(d);
    return n;
  }

  MPI_Comm comm_ = MPI_COMM_NULL, async_comm_ = MPI_COMM_NULL;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
};

}  // namespace

int mpi_local_rank(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int local = 0;
  const int rc = MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  MPI_CHECK(rc);
  return local;
}

std::shared_ptr<Communicator> make_mpi_communicator(MPI_Comm comm) { return std::make_shared<MpiCommunicator>(comm); }

}  // namespace negatron::distributed
