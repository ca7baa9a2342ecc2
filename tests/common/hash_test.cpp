#include "common/hash.h"

#include <gtest/gtest.h>

namespace negatron {
namespace {

TEST(Fnv1a64, MatchesPublishedTestVectors) {
  // Reference values from the FNV specification's test suite (draft-eastlake-fnv).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Fnv1a64, HashesAStreamPieceByPiece) {
  EXPECT_EQ(fnv1a64("bar", 3, fnv1a64("foo")), fnv1a64("foobar"));
}

TEST(Splitmix64, MatchesTheReferenceGenerator) {
  // Vigna's splitmix64.c seeded with 0: its first output is splitmix64(0), its second
  // splitmix64(golden gamma).
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafull);
  EXPECT_EQ(splitmix64(0x9e3779b97f4a7c15ull), 0x6e789e6aa1b965f4ull);
}

}  // namespace
}  // namespace negatron
