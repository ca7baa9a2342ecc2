// Config agreement under mpirun (np 1..4): equal configs pass; a rank with other values fails on
// every rank with a message naming that rank and the differing keys.
#include "distributed/config_agreement.h"

#include <gtest/gtest.h>

#include "support/error_of.h"

#include "distributed/mpi_communicator.h"

namespace negatron::distributed {
namespace {

using negatron::testing::error_of;

TEST(MpiConfigAgreement, EqualConfigsPassInAnyEntryOrder) {
  auto comm = make_mpi_communicator();
  ConfigEntries entries = {{"optim.lr", "1e-4"}, {"seed", "7"}};
  if (comm->rank() % 2 == 1) std::swap(entries[0], entries[1]);
  EXPECT_NO_THROW(check_config_agreement(*comm, entries));
  EXPECT_NO_THROW(check_config_agreement(*comm, std::string("optim:\n  lr: 1e-4\n")));
}

TEST(MpiConfigAgreement, MismatchNamesRankAndKeysOnEveryRank) {
  auto comm = make_mpi_communicator();
  if (comm->world_size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  const int last = comm->world_size() - 1;
  ConfigEntries entries = {{"optim.lr", "1e-4"}, {"seed", "7"}, {"data.batch", "32"}};
  if (comm->rank() == last) {
    entries[0].second = "2e-4";
    entries.emplace_back("extra.key", "1");
  }
  const std::string message = error_of([&] { check_config_agreement(*comm, entries); });
  EXPECT_NE(message.find("rank " + std::to_string(last) + " differs from rank 0 in: extra.key, optim.lr"),
            std::string::npos)
      << message;
  const std::string text_message =
      error_of([&] { check_config_agreement(*comm, std::string(comm->rank() == last ? "lr: 2" : "lr: 1")); });
  EXPECT_NE(text_message.find("rank(s) " + std::to_string(last) + " do not match"), std::string::npos) << text_message;
}

TEST(MpiConfigAgreement, AllGatherStringsWithUnequalAndEmptyLengths) {
  auto comm = make_mpi_communicator();
  auto text_of = [](int r) { return std::string(static_cast<size_t>(r), static_cast<char>('a' + r)); };  // rank 0: ""
  std::vector<std::string> expected;
  for (int r = 0; r < comm->world_size(); ++r) expected.push_back(text_of(r));
  EXPECT_EQ(all_gather_strings(*comm, text_of(comm->rank())), expected);
}

}  // namespace
}  // namespace negatron::distributed
