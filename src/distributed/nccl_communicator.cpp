#if NEGATRON_WITH_NCCL
#include "distributed/nccl_communicator.h"

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <numeric>
#include <iostream>
#include <optional>

#include "common/log.h"
#include "distributed/mpi_check.h"

namespace negatron::distributed {
namespace {

ncclDataType_t nccl_reduce_datatype(at::ScalarType dtype, int rank) {
  switch (dtype) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kChar: return ncclInt8;
    case at::kByte: return ncclUint8;
    default:
      NEG_FAIL("the NCCL backend does not support all_reduce on dtype ", c10::toString(dtype), " on rank ", rank);
  }
}

ncclRedOp_t nccl_reduce_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kMin: return ncclMin;
  }
  NEG_FAIL("unknown ReduceOp ", static_cast<int>(op));
}

int64_t row_elements(const at::Tensor& tensor) {
  int64_t n = 1;
  for (int64_t d = 1; d < tensor.dim(); ++d) n *= tensor.size(d);
  return n;
}

/// Makes `waiter` wait (on the device, not the host) for the work queued so far on `producer`.
void stream_wait(const c10::cuda::CUDAStream& waiter, const c10::cuda::CUDAStream& producer) {
  if (waiter == producer) return;
  cudaEvent_t event = nullptr;
  C10_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  C10_CUDA_CHECK(cudaEventRecord(event, producer.stream()));
  C10_CUDA_CHECK(cudaStreamWaitEvent(waiter.stream(), event, 0));
  C10_CUDA_CHECK(cudaEventDestroy(event));  // released by the driver once the wait has consumed it
}

/// An ncclAllReduce queued on the communication stream; wait() orders the caller's current
/// stream after it (no host synchronisation, except when the caller's tensor is on the CPU).
class NcclPendingReduction : public PendingReduction {
 public:
  NcclPendingReduction(at::Tensor tensor, at::Tensor buffer, const c10::cuda::CUDAStream& comm_stream)
      : tensor_(std::move(tensor)), buffer_(std::move(buffer)), device_(comm_stream.device()) {
    C10_CUDA_CHECK(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming));
    C10_CUDA_CHECK(cudaEventRecord(done_, comm_stream.stream()));
  }
  ~NcclPendingReduction() override {
    if (done_ != nullptr) cudaEventDestroy(done_);  // the buffer's stream use is recorded with the allocator
  }
  void wait() override {
    if (!buffer_.defined()) return;
    c10::cuda::CUDAGuard guard(device_);
    C10_CUDA_CHECK(cudaStreamWaitEvent(c10::cuda::getCurrentCUDAStream(device_.index()).stream(), done_, 0));
    if (!buffer_.is_same(tensor_)) tensor_.copy_(buffer_);
    buffer_ = at::Tensor();
    tensor_ = at::Tensor();
  }

 private:
  at::Tensor tensor_, buffer_;
  at::Device device_;
  cudaEvent_t done_ = nullptr;
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(MPI_Comm parent, int device_index) : device_(at::kCUDA, static_cast<at::DeviceIndex>(device_index)) {
    MPI_CHECK(MPI_Comm_rank(parent, &rank_));
    MPI_CHECK(MPI_Comm_size(parent, &world_));
    local_rank_ = device_index;
    c10::cuda::CUDAGuard guard(device_);
    ncclUniqueId id;
    if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, parent));
    check(ncclCommInitRank(&comm_, world_, id, rank_), "ncclCommInitRank");
    comm_stream_.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device_.index()));
  }

  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "nccl"; }

  at::Tensor all_gather(const at::Tensor& tensor) override {
    NEG_CHECK(tensor.defined() && tensor.dim() >= 1, "all_gather needs a tensor with at least one dimension on rank ",
              rank_);
    c10::cuda::CUDAGuard guard(device_);
    const at::Tensor local = tensor.to(device_).contiguous();
    return to_caller(gather_padded(local, exchange_rows(local)), tensor, "all_gather");
  }

  at::Tensor all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    NEG_CHECK(tensor.defined() && tensor.dim() >= 1,
              "all_gather_rows needs a tensor with at least one dimension on rank ", rank_);
    check_rank_rows(*this, rank_rows, tensor.size(0), "all_gather_rows");
    c10::cuda::CUDAGuard guard(device_);
    return to_caller(gather_padded(tensor.to(device_).contiguous(), rank_rows), tensor, "all_gather_rows");
  }

  /// Unequal row counts: rank r's block is padded to the largest rank's rows, so one
  /// ncclReduceScatter hands every rank a [max rows, ...] piece, trimmed to its own rows.
  at::Tensor reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    NEG_CHECK(tensor.defined() && tensor.dim() >= 1,
              "reduce_scatter needs a tensor with at least one dimension on rank ", rank_);
    check_rank_rows(*this, rank_rows, -1, "reduce_scatter");
    c10::cuda::CUDAGuard guard(device_);
    const ncclDataType_t type = nccl_reduce_datatype(tensor.scalar_type(), rank_);
    const at::Tensor input = tensor.to(device_).contiguous();
    const int64_t total = std::accumulate(rank_rows.begin(), rank_rows.end(), int64_t{0});
    NEG_CHECK(input.size(0) == total, "reduce_scatter: the tensor has ", input.size(0), " rows, the ranks ", total,
              " on rank ", rank_);
    const int64_t max_rows = *std::max_element(rank_rows.begin(), rank_rows.end());
    std::vector<int64_t> shape = input.sizes().vec();
    shape[0] = max_rows;
    std::vector<int64_t> stacked_shape = shape;
    stacked_shape.insert(stacked_shape.begin(), world_);
    at::Tensor stacked;
    if (max_rows * world_ == total) {
      stacked = input.view(stacked_shape);  // every rank has max_rows: no padding
    } else {
      stacked = at::zeros(stacked_shape, input.options());
      int64_t offset = 0;
      for (int r = 0; r < world_; ++r) {
        stacked[r].narrow(0, 0, rank_rows[r]).copy_(input.narrow(0, offset, rank_rows[r]));
        offset += rank_rows[r];
      }
    }
    at::Tensor piece = at::empty(shape, input.options());
    {
      OnCommStream on(*this);
      check(ncclReduceScatter(stacked.data_ptr(), piece.data_ptr(), max_rows * row_elements(input), type, ncclSum,
                              comm_, on.stream()),
            "ncclReduceScatter");
    }
    stats_.reduce_scatter_calls++;
    stats_.reduce_scatter_bytes += input.nbytes();
    return to_caller(piece.narrow(0, 0, rank_rows[rank_]), tensor, "reduce_scatter");
  }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    c10::cuda::CUDAGuard guard(device_);
    const ncclDataType_t type = nccl_reduce_datatype(tensor.scalar_type(), rank_);
    at::Tensor buffer = staged(tensor);
    {
      OnCommStream on(*this);
      check(ncclAllReduce(buffer.data_ptr(), buffer.data_ptr(), buffer.numel(), type, nccl_reduce_op(op), comm_,
                          on.stream()),
            "ncclAllReduce");
    }
    if (!buffer.is_same(tensor)) tensor.copy_(buffer);
    stats_.all_reduce_calls++;
    stats_.all_reduce_bytes += tensor.nbytes();
  }

  std::unique_ptr<PendingReduction> all_reduce_async(at::Tensor& tensor, ReduceOp op) override {
    c10::cuda::CUDAGuard guard(device_);
    const ncclDataType_t type = nccl_reduce_datatype(tensor.scalar_type(), rank_);
    at::Tensor buffer = staged(tensor);
    // The communication stream waits for the work queued so far on the current stream (the
    // gradients), runs the all-reduce, and the handle's event marks its end. No wait back here.
    stream_wait(*comm_stream_, current_stream());
    check(ncclAllReduce(buffer.data_ptr(), buffer.data_ptr(), buffer.numel(), type, nccl_reduce_op(op), comm_,
                        comm_stream_->stream()),
          "ncclAllReduce(async)");
    // The buffer was allocated on the current stream; tell the allocator the comm stream uses it,
    // so it is not handed out again before the all-reduce has finished, even if the handle dies.
    c10::cuda::CUDACachingAllocator::recordStream(buffer.storage().data_ptr(), *comm_stream_);
    stats_.all_reduce_calls++;
    stats_.all_reduce_bytes += tensor.nbytes();
    return std::make_unique<NcclPendingReduction>(tensor, buffer, *comm_stream_);
  }

  void broadcast(at::Tensor& tensor, int root) override {
    NEG_CHECK(root >= 0 && root < world_, "broadcast root ", root, " outside world size ", world_, " on rank ", rank_);
    c10::cuda::CUDAGuard guard(device_);
    at::Tensor buffer = staged(tensor);
    {
      OnCommStream on(*this);
      check(ncclBroadcast(buffer.data_ptr(), buffer.data_ptr(), buffer.nbytes(), ncclUint8, root, comm_, on.stream()),
            "ncclBroadcast");
    }
    if (!buffer.is_same(tensor)) tensor.copy_(buffer);
    stats_.broadcast_calls++;
    if (rank_ == root) stats_.broadcast_bytes += tensor.nbytes();
  }

  void barrier() override {
    c10::cuda::CUDAGuard guard(device_);
    at::Tensor token = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(device_));
    {
      OnCommStream on(*this);
      check(ncclAllReduce(token.data_ptr(), token.data_ptr(), 1, ncclFloat32, ncclSum, comm_, on.stream()),
            "barrier");
    }
    current_stream().synchronize();
    check_async("barrier");
  }

  [[noreturn]] void abort(const std::string& message, int code) override {
    log::error("rank ", rank_, " aborts the job: ", message);
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
    std::cerr << std::flush;
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();
  }

 private:
  c10::cuda::CUDAStream current_stream() const { return c10::cuda::getCurrentCUDAStream(device_.index()); }

  /// Scope of one blocking collective: every NCCL call of this communicator runs on the one
  /// communication stream (so they execute in issue order, async all-reduces included), after the
  /// work queued on the current stream; on leaving, the current stream waits for it. Tensors
  /// allocated on the current stream stay safe: later work there is ordered after the collective.
  class OnCommStream {
   public:
    explicit OnCommStream(NcclCommunicator& owner) : owner_(owner), current_(owner.current_stream()) {
      stream_wait(*owner_.comm_stream_, current_);
    }
    ~OnCommStream() {
      try {
        stream_wait(current_, *owner_.comm_stream_);
      } catch (const std::exception& error) {  // only after a CUDA failure, which the caller reports
        log::error("rank ", owner_.rank_, ": could not order the current stream after NCCL: ", error.what());
      }
    }
    cudaStream_t stream() const { return owner_.comm_stream_->stream(); }

   private:
    NcclCommunicator& owner_;
    c10::cuda::CUDAStream current_;
  };

  /// The tensor itself when it is a contiguous tensor on our device, else a device copy.
  at::Tensor staged(const at::Tensor& tensor) const {
    NEG_CHECK(tensor.defined(), "undefined tensor passed to the NCCL communicator on rank ", rank_);
    if (tensor.device() == device_ && tensor.is_contiguous()) return tensor;
    return tensor.to(device_).contiguous();
  }

  at::Tensor to_caller(const at::Tensor& result, const at::Tensor& original, const char* collective) {
    if (original.device() == device_) return result;
    at::Tensor back = result.to(original.device());  // synchronises the stream for a CPU caller
    check_async(collective);
    return back;
  }

  /// Every rank's `local` (on our device, contiguous; rows[r] rows from rank r) in rank order: each
  /// padded to the largest row count, one ncclAllGather, then each rank's padding trimmed away.
  at::Tensor gather_padded(const at::Tensor& local, const std::vector<int64_t>& rows) {
    const int64_t max_rows = *std::max_element(rows.begin(), rows.end());
    std::vector<int64_t> shape = local.sizes().vec();
    shape[0] = max_rows;
    at::Tensor padded = local;
    if (local.size(0) != max_rows) {
      padded = at::zeros(shape, local.options());
      padded.narrow(0, 0, local.size(0)).copy_(local);
    }
    shape.insert(shape.begin(), world_);
    at::Tensor stacked = at::empty(shape, local.options());
    {
      OnCommStream on(*this);
      check(ncclAllGather(padded.data_ptr(), stacked.data_ptr(), padded.nbytes(), ncclUint8, comm_, on.stream()),
            "ncclAllGather");
    }
    std::vector<at::Tensor> pieces;
    for (int r = 0; r < world_; ++r) pieces.push_back(stacked[r].narrow(0, 0, rows[r]));
    stats_.all_gather_calls++;
    stats_.all_gather_bytes += padded.nbytes();
    return at::cat(pieces, 0);
  }

  /// Every rank's row count; also checks that trailing size and dtype agree (throws on every rank).
  std::vector<int64_t> exchange_rows(const at::Tensor& local) {
    const int64_t mine[3] = {local.size(0), row_elements(local), static_cast<int64_t>(local.scalar_type())};
    at::Tensor header = at::tensor(at::ArrayRef<int64_t>(mine, 3), at::kLong).to(device_);
    at::Tensor all = at::empty({world_, 3}, header.options());
    {
      OnCommStream on(*this);
      check(ncclAllGather(header.data_ptr(), all.data_ptr(), 3, ncclInt64, comm_, on.stream()),
            "ncclAllGather(rows)");
    }
    const at::Tensor host = all.cpu();
    const int64_t* h = host.data_ptr<int64_t>();
    std::vector<int64_t> rows(world_);
    for (int r = 0; r < world_; ++r) {
      NEG_CHECK(h[3 * r + 1] == h[1] && h[3 * r + 2] == h[2], "all_gather: rank ", r,
                " disagrees with rank 0 on elements per row or dtype (", h[3 * r + 1], " vs ", h[1], "); seen on rank ",
                rank_);
      rows[r] = h[3 * r];
    }
    return rows;
  }

  void check(ncclResult_t result, const char* call) {
    if (result == ncclSuccess) return;
    std::string detail = ncclGetErrorString(result);
    if (comm_ != nullptr) {
      const char* last = ncclGetLastError(comm_);
      if (last != nullptr && *last) detail += std::string(" (") + last + ")";
      ncclCommAbort(comm_);  // a failed communicator cannot be reused; release it now
      comm_ = nullptr;
    }
    NEG_FAIL("NCCL call ", call, " failed on rank ", rank_, ": ", detail);
  }

  void check_async(const char* collective) {
    if (comm_ == nullptr) return;
    ncclResult_t async = ncclSuccess;
    check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
    check(async, collective);
  }

  at::Device device_;
  std::optional<c10::cuda::CUDAStream> comm_stream_;  // set once NCCL is initialised
  ncclComm_t comm_ = nullptr;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
};

}  // namespace

std::shared_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, int device_index) {
  return std::make_shared<NcclCommunicator>(comm, device_index);
}

}  // namespace negatron::distributed
#endif  // NEGATRON_WITH_NCCL
