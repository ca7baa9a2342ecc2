#pragma once
// Every rank must train with the same configuration; these checks catch a rank that read another
// file or got other overrides. Cheap path: each rank hashes its config (FNV-1a, 64 bit) and the
// hashes are all-gathered. Only on a mismatch are the full texts gathered, to name the keys.
// A mismatch throws the same message on every rank, so the job fails everywhere, not in a hang.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "distributed/communicator.h"

namespace negatron::distributed {

using ConfigEntries = std::vector<std::pair<std::string, std::string>>;  // key, value

/// Throws naming the ranks whose config text differs from rank 0's.
void check_config_agreement(Communicator& comm, const std::string& config_text);
/// Throws naming, per rank, the keys whose value differs from rank 0's (or that one side lacks).
void check_config_agreement(Communicator& comm, const ConfigEntries& entries);

/// Every rank's string, in rank order (an all_gather of bytes with unequal lengths).
std::vector<std::string> all_gather_strings(Communicator& comm, const std::string& text);

/// Keys of `other` and `reference` whose values differ, or that only one of them has (sorted).
std::vector<std::string> differing_keys(const ConfigEntries& reference, const ConfigEntries& other);

}  // namespace negatron::distributed
