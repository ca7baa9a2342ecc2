// NcclCommunicator on CUDA (skipped, on every rank alike, unless every rank has a GPU and the
// build has NCCL). Expected values are computed on CPU; see also benchmarks/gpu_check.sh.
#include <gtest/gtest.h>

#include "distributed/bootstrap.h"
#include "gather_reference.h"
#include "overlap_reference.h"

namespace negatron::distributed {
namespace {

/// An NCCL runtime, or nullptr (the same answer on every rank) when this job cannot have one.
std::shared_ptr<Communicator> nccl_or_null() {
#if NEGATRON_WITH_NCCL
  const Runtime runtime = bootstrap({"auto", 0});
  if (runtime.comm->backend() == "nccl") return runtime.comm;
#endif
  return nullptr;
}

at::Tensor piece(int r) { return at::arange(3 * (r + 1), at::kFloat).reshape({r + 1, 3}) + 100.0 * r; }

TEST(Nccl, AllGatherUnequalRowsCudaAndCpuInputs) {
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  std::vector<at::Tensor> expected;
  for (int r = 0; r < comm->world_size(); ++r) expected.push_back(piece(r));
  const at::Device cuda(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank()));
  const at::Tensor on_gpu = comm->all_gather(piece(comm->rank()).to(cuda));
  EXPECT_EQ(on_gpu.device(), cuda);
  EXPECT_TRUE(at::equal(on_gpu.cpu(), at::cat(expected)));
  const at::Tensor from_cpu = comm->all_gather(piece(comm->rank()));
  EXPECT_TRUE(from_cpu.device().is_cpu());
  EXPECT_TRUE(at::equal(from_cpu, at::cat(expected)));
}

TEST(Nccl, AllGatherRowsAndReduceScatterUnequalRowsCudaAndCpu) {
  // The plan's row counts (rank r: r + 1 rows, so the blocks are padded) and the gather's backward.
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  const at::Device cuda(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank()));
  const int world = comm->world_size(), rank = comm->rank();
  std::vector<int64_t> rows;
  std::vector<at::Tensor> expected;
  for (int r = 0; r < world; ++r) {
    rows.push_back(r + 1);
    expected.push_back(piece(r));
  }
  const int64_t calls = comm->stats().all_gather_calls;
  EXPECT_TRUE(at::equal(comm->all_gather_rows(piece(rank).to(cuda), rows).cpu(), at::cat(expected)));
  EXPECT_EQ(comm->stats().all_gather_calls - calls, 1);
  const int64_t total = static_cast<int64_t>(world) * (world + 1) / 2, offset = static_cast<int64_t>(rank) * (rank + 1) / 2;
  const at::Tensor base = at::arange(total * 3, at::kDouble).reshape({total, 3});
  const int64_t scatters = comm->stats().reduce_scatter_calls;
  for (bool on_gpu : {true, false}) {
    const at::Tensor mine = base * (rank + 1);
    const at::Tensor got = comm->reduce_scatter(on_gpu ? mine.to(cuda) : mine, rows);
    EXPECT_EQ(got.device().is_cuda(), on_gpu);
    EXPECT_TRUE(at::equal(got.cpu(), (base * (world * (world + 1) / 2)).narrow(0, offset, rank + 1)));
  }
  EXPECT_EQ(comm->stats().reduce_scatter_calls - scatters, 2);
}

TEST(Nccl, AllReduceAndBroadcastCudaAndCpu) {
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  const at::Device cuda(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank()));
  const int world = comm->world_size();
  const auto cuda_double = at::TensorOptions().dtype(at::kDouble).device(cuda);
  at::Tensor sum = at::full({5}, static_cast<double>(comm->rank() + 1), cuda_double);
  comm->all_reduce(sum, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(sum.cpu(), at::full({5}, world * (world + 1) / 2.0, at::kDouble)));
  at::Tensor max_cpu = at::full({2}, static_cast<int64_t>(comm->rank()), at::kLong);
  comm->all_reduce(max_cpu, ReduceOp::kMax);
  EXPECT_TRUE(max_cpu.device().is_cpu());
  EXPECT_TRUE(at::equal(max_cpu, at::full({2}, static_cast<int64_t>(world - 1), at::kLong)));
  at::Tensor broadcast = at::full({3}, static_cast<float>(comm->rank()), at::TensorOptions().device(cuda));
  comm->broadcast(broadcast, world - 1);
  EXPECT_TRUE(at::equal(broadcast.cpu(), at::full({3}, static_cast<float>(world - 1))));
  comm->barrier();
}

TEST(Nccl, GatherWithGradMatchesSingleProcessCpuReference) {
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  testing::expect_gather_with_grad_matches_single_process(
      *comm, at::Device(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank())));
}

TEST(Nccl, AllReduceAsyncOnTheCommunicationStream) {
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  const at::Device cuda(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank()));
  const int world = comm->world_size();
  // Produced by a kernel on the current stream just before: the comm stream must wait for it.
  at::Tensor a = at::arange(1 << 20, at::TensorOptions().dtype(at::kDouble).device(cuda)) * 0 + (comm->rank() + 1);
  at::Tensor b = at::full({2, 3}, static_cast<float>(comm->rank()), at::TensorOptions().device(cuda)).t();
  at::Tensor c = at::full({4}, static_cast<double>(comm->rank() + 1), at::kDouble);  // CPU: staged
  const int64_t before = comm->stats().all_reduce_calls;
  auto pa = comm->all_reduce_async(a);
  auto pb = comm->all_reduce_async(b, ReduceOp::kMax);
  auto pc = comm->all_reduce_async(c);
  pb->wait();
  pa->wait();
  pc->wait();
  EXPECT_EQ(comm->stats().all_reduce_calls - before, 3);
  EXPECT_TRUE(at::equal(a.cpu(), at::full({1 << 20}, world * (world + 1) / 2.0, at::kDouble)));
  EXPECT_TRUE(at::equal(b.cpu(), at::full({3, 2}, static_cast<float>(world - 1))));
  EXPECT_TRUE(at::equal(c, at::full({4}, world * (world + 1) / 2.0, at::kDouble)));
  comm->barrier();
}

TEST(Nccl, OverlappedAveragerMatchesAverageGradientsOnCuda) {
  // Hooks run on the autograd engine's CUDA thread here; forced at world size 1 so that one GPU
  // runs the whole mechanism (hooks, comm stream, events) too.
  auto comm = nccl_or_null();
  if (!comm) GTEST_SKIP() << "no NCCL runtime (needs a GPU on every rank)";
  const at::Device cuda(at::kCUDA, static_cast<at::DeviceIndex>(comm->local_rank()));
  for (int64_t bucket_bytes : {int64_t{64}, kDefaultBucketBytes}) {
    SCOPED_TRACE(bucket_bytes);
    testing::check_against_average_gradients(*comm, testing::plain_step, bucket_bytes, cuda, true);
    testing::check_against_average_gradients(*comm, testing::cached_step, bucket_bytes, cuda, true);
  }
}

}  // namespace
}  // namespace negatron::distributed
