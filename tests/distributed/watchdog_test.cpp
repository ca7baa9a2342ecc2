// The watchdog fires for a collective that runs past the timeout, naming it, and stays quiet for
// collectives that finish in time. A sleeping test double stands in for a stuck peer.
#include "distributed/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace negatron::distributed {
namespace {

using namespace std::chrono_literals;

/// World size 1, but barrier() takes `barrier_time` (a peer that is late).
class SlowBarrierCommunicator : public Communicator {
 public:
  explicit SlowBarrierCommunicator(std::chrono::milliseconds barrier_time) : barrier_time_(barrier_time) {}
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string backend() const override { return "slow"; }
  at::Tensor all_gather(const at::Tensor& t) override { stats_.all_gather_calls++; return t; }
  void all_reduce(at::Tensor&, ReduceOp) override { stats_.all_reduce_calls++; }
  void broadcast(at::Tensor&, int) override {}
  void barrier() override { std::this_thread::sleep_for(barrier_time_); }
  [[noreturn]] void abort(const std::string&, int) override { std::abort(); }

 private:
  std::chrono::milliseconds barrier_time_;
};

struct Recorder {
  std::mutex mutex;
  std::vector<std::string> collectives;
  CollectiveWatchdog::TimeoutHandler handler() {
    return [this](const std::string& collective, double) {
      std::lock_guard<std::mutex> lock(mutex);
      collectives.push_back(collective);
    };
  }
};

TEST(Watchdog, FiresOnceNamingTheSlowCollective) {
  Recorder recorder;
  auto comm = with_watchdog(std::make_shared<SlowBarrierCommunicator>(400ms), 0.1, recorder.handler());
  comm->barrier();
  std::lock_guard<std::mutex> lock(recorder.mutex);
  EXPECT_EQ(recorder.collectives, std::vector<std::string>{"barrier"});
}

TEST(Watchdog, QuietForFastCollectivesAndMirrorsStats) {
  Recorder recorder;
  auto comm = with_watchdog(std::make_shared<SlowBarrierCommunicator>(0ms), 0.2, recorder.handler());
  at::Tensor x = at::ones({2});
  for (int i = 0; i < 5; ++i) {
    comm->all_reduce(x);
    comm->all_gather(x);
    comm->barrier();
  }
  std::this_thread::sleep_for(300ms);  // longer than the timeout, but outside any collective
  std::lock_guard<std::mutex> lock(recorder.mutex);
  EXPECT_TRUE(recorder.collectives.empty());
  EXPECT_EQ(comm->stats().all_reduce_calls, 5);
  EXPECT_EQ(comm->stats().all_gather_calls, 5);
}

TEST(Watchdog, RejectsNonPositiveTimeout) {
  EXPECT_THROW(with_watchdog(make_local_communicator(), 0.0, [](const std::string&, double) {}), std::exception);
}

}  // namespace
}  // namespace negatron::distributed
