#pragma once
// Work a rank does on its own between collectives (reading its part of an input, writing its shards)
// must not leave the other ranks waiting in their next collective when it fails on one rank.
// run_collectively runs such a step and then agrees on its outcome with one all_gather of the ranks'
// error messages: if it failed anywhere, every rank throws CollectiveFailure with the lowest failing
// rank's message, so the job ends on every rank together (and can clean up after itself first)
// instead of hanging or being aborted halfway through a write. When ranks work on consecutive parts
// of one input, the lowest failing rank's error is the one a single process would have met first.
#include <functional>
#include <string>

#include "common/check.h"
#include "distributed/communicator.h"

namespace negatron::distributed {

class CollectiveFailure : public Error {
 public:
  CollectiveFailure(int failed_rank, const std::string& message) : Error(message), failed_rank_(failed_rank) {}
  /// The lowest rank on which the step failed.
  int failed_rank() const { return failed_rank_; }

 private:
  int failed_rank_;
};

/// Runs `step` here and agrees on the outcome with every rank (a collective: all ranks call it, in
/// the same order). Throws CollectiveFailure on every rank if `step` threw on any; its message is
/// that rank's, prefixed with "rank R: " when the job has more than one rank.
void run_collectively(Communicator& comm, const std::function<void()>& step);

}  // namespace negatron::distributed
