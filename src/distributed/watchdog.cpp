#include "distributed/watchdog.h"

#include <cstdlib>

#include "common/log.h"

namespace negatron::distributed {

CollectiveWatchdog::CollectiveWatchdog(double timeout_s, TimeoutHandler on_timeout)
    : timeout_s_(timeout_s), on_timeout_(std::move(on_timeout)) {
  NEG_CHECK(timeout_s > 0, "collective timeout must be > 0 seconds, got ", timeout_s);
  NEG_CHECK(on_timeout_ != nullptr, "collective watchdog needs a timeout handler");
  thread_ = std::thread([this] { watch(); });
}

CollectiveWatchdog::~CollectiveWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void CollectiveWatchdog::begin(const std::string& collective) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = true;
    ++generation_;
    collective_ = collective;
    started_ = std::chrono::steady_clock::now();
  }
  changed_.notify_all();
}

void CollectiveWatchdog::end() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = false;
  }
  changed_.notify_all();
}

void CollectiveWatchdog::watch() {
  const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(timeout_s_));
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t fired_generation = 0;
  while (!stop_) {
    if (!active_ || generation_ == fired_generation) {
      changed_.wait(lock);
      continue;
    }
    const uint64_t generation = generation_;
    const auto deadline = started_ + timeout;
    changed_.wait_until(lock, deadline, [&] { return stop_ || !active_ || generation_ != generation; });
    if (stop_ || !active_ || generation_ != generation) continue;
    fired_generation = generation;
    const std::string collective = collective_;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    lock.unlock();
    on_timeout_(collective, elapsed);
    lock.lock();
  }
}

namespace {

/// Forwards every call to `inner_` inside a watchdog scope; mirrors the inner stats.
class WatchedCommunicator : public Communicator {
  /// An inner pending reduction whose wait() is timed too (as "all_reduce_async.wait").
  class WatchedReduction : public PendingReduction {
   public:
    WatchedReduction(WatchedCommunicator& owner, std::unique_ptr<PendingReduction> inner)
        : owner_(owner), inner_(std::move(inner)) {}
    void wait() override;  // defined below WatchedCommunicator (it uses watched())
    void progress() override { inner_->progress(); }

   private:
    WatchedCommunicator& owner_;
    std::unique_ptr<PendingReduction> inner_;
  };

  // Runs `call` between watchdog begin/end (end also on throw); returns its result.
  template <typename Call>
  auto watched(const char* collective, Call&& call) {
    struct Scope {
      CollectiveWatchdog& dog;
      ~Scope() { dog.end(); }
    };
    watchdog_.begin(collective);
    Scope scope{watchdog_};
    auto result = call();
    stats_ = inner_->stats();
    return result;
  }

 public:
  WatchedCommunicator(std::shared_ptr<Communicator> inner, double timeout_s,
                      CollectiveWatchdog::TimeoutHandler on_timeout)
      : inner_(std::move(inner)), watchdog_(timeout_s, on_timeout ? std::move(on_timeout) : abort_handler()) {}

  int rank() const override { return inner_->rank(); }
  int world_size() const override { return inner_->world_size(); }
  int local_rank() const override { return inner_->local_rank(); }
  std::string backend() const override { return inner_->backend(); }

  at::Tensor all_gather(const at::Tensor& tensor) override {
    return watched("all_gather", [&] { return inner_->all_gather(tensor); });
  }
  at::Tensor all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    return watched("all_gather_rows", [&] { return inner_->all_gather_rows(tensor, rank_rows); });
  }
  at::Tensor reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows) override {
    return watched("reduce_scatter", [&] { return inner_->reduce_scatter(tensor, rank_rows); });
  }
  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    watched("all_reduce", [&] { inner_->all_reduce(tensor, op); return 0; });
  }
  std::unique_ptr<PendingReduction> all_reduce_async(at::Tensor& tensor, ReduceOp op) override {
    auto inner = watched("all_reduce_async", [&] { return inner_->all_reduce_async(tensor, op); });
    return std::make_unique<WatchedReduction>(*this, std::move(inner));
  }
  void broadcast(at::Tensor& tensor, int root) override {
    watched("broadcast", [&] { inner_->broadcast(tensor, root); return 0; });
  }
  void barrier() override {
    watched("barrier", [&] { inner_->barrier(); return 0; });
  }
  [[noreturn]] void abort(const std::string& message, int code) override {
    inner_->abort(message, code);
    std::abort();  // not reached: Communicator::abort never returns
  }

 private:
  CollectiveWatchdog::TimeoutHandler abort_handler() {
    Communicator* inner = inner_.get();
    return [inner](const std::string& collective, double elapsed_s) {
      inner->abort(detail::concat("collective ", collective, " on rank ", inner->rank(), " ran ", elapsed_s,
                                  " s, beyond the collective timeout; a peer rank has probably failed or is stuck"),
                   1);
    };
  }

  std::shared_ptr<Communicator> inner_;
  CollectiveWatchdog watchdog_;
};

void WatchedCommunicator::WatchedReduction::wait() {
  owner_.watched("all_reduce_async.wait", [&] { inner_->wait(); return 0; });
}

}  // namespace

std::shared_ptr<Communicator> with_watchdog(std::shared_ptr<Communicator> inner, double timeout_s,
                                            CollectiveWatchdog::TimeoutHandler on_timeout) {
  NEG_CHECK(inner != nullptr, "with_watchdog: no communicator to watch");
  return std::make_shared<WatchedCommunicator>(std::move(inner), timeout_s, std::move(on_timeout));
}

}  // namespace negatron::distributed
