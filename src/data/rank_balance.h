#pragma once
// Which rank computes which rows of a global batch. The plain split gives rank r the r-th slice;
// with texts of mixed lengths one rank can draw far more tokens than another, and every rank then
// waits for it at the gradient all-reduce. balance_ranks reorders the global batch so that every
// slice carries about the same cost (token count) while keeping exactly batch/world rows per rank.
// Rows only move between ranks of the same step, so losses that gather across ranks see the same
// global batch (its candidates in another order, which they do not depend on).
#include <cstdint>
#include <vector>

namespace negatron::data {

/// `global` reordered so that slice r ([r * b, (r + 1) * b), b = global.size() / world_size) is rank
/// r's. Rows move in units of `unit` consecutive rows (GROUP_BY_LABEL's same-label pairs: 2) whose
/// cost is the sum of their rows' `cost`. Greedy longest-processing-time: units by decreasing cost,
/// each to the least-loaded rank that still has room (ties: lowest rank, then earliest unit); inside
/// a slice, rows keep their order in `global`. Deterministic: every rank computes the same answer.
std::vector<int64_t> balance_ranks(const std::vector<int64_t>& global, const std::vector<int64_t>& cost,
                                   int world_size, int64_t unit = 1);

}  // namespace negatron::data
