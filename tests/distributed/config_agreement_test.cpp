#include "distributed/config_agreement.h"

#include <gtest/gtest.h>

namespace negatron::distributed {
namespace {

TEST(DifferingKeys, ListsChangedMissingAndExtraKeysSorted) {
  const ConfigEntries reference = {{"optim.lr", "1e-4"}, {"data.batch", "32"}, {"seed", "1"}};
  const ConfigEntries other = {{"seed", "1"}, {"optim.lr", "2e-4"}, {"extra", "x"}};
  EXPECT_EQ(differing_keys(reference, other), (std::vector<std::string>{"data.batch", "extra", "optim.lr"}));
  EXPECT_TRUE(differing_keys(reference, reference).empty());
}

TEST(ConfigAgreement, SingleRankAlwaysAgrees) {
  auto comm = make_local_communicator();
  EXPECT_NO_THROW(check_config_agreement(*comm, std::string("a: 1\n")));
  EXPECT_NO_THROW(check_config_agreement(*comm, ConfigEntries{{"a", "1"}}));
  EXPECT_EQ(all_gather_strings(*comm, "hello"), std::vector<std::string>{"hello"});
}

}  // namespace
}  // namespace negatron::distributed
