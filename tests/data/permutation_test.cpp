// Permutation: a bijection of [0, n) for every n (brute force), depending on the seed.
#include <gtest/gtest.h>

#include <vector>

#include "data/permutation.h"

namespace negatron::data {

TEST(Permutation, IsABijectionForManySizes) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 65537}) {
    const Permutation permutation(n, 42);
    std::vector<int> hits(n, 0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t x = permutation(i);
      ASSERT_GE(x, 0);
      ASSERT_LT(x, n);
      ++hits[x];
    }
    for (int64_t x = 0; x < n; ++x) ASSERT_EQ(hits[x], 1) << "n=" << n << " x=" << x;
  }
}

TEST(Permutation, SeedChangesTheOrderAndIsNotIdentity) {
  const Permutation a(1000, 1), b(1000, 2);
  int same = 0, fixed = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    same += a(i) == b(i);
    fixed += a(i) == i;
  }
  EXPECT_LT(same, 20);   // ~1 expected for independent permutations
  EXPECT_LT(fixed, 20);
  EXPECT_EQ(Permutation(1000, 1)(123), a(123));  // deterministic
}

}  // namespace negatron::data
