#include "distributed/config_agreement.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "common/check.h"
#include "common/hash.h"

namespace negatron::distributed {
namespace {

/// Every rank's hash of `text`, in rank order.
std::vector<uint64_t> all_gather_hashes(Communicator& comm, const std::string& text) {
  const uint64_t hash = fnv1a64(text);
  int64_t as_signed = 0;
  std::memcpy(&as_signed, &hash, sizeof(hash));
  const at::Tensor all = comm.all_gather(at::full({1}, as_signed, at::kLong)).cpu();
  std::vector<uint64_t> hashes(static_cast<size_t>(all.numel()));
  std::memcpy(hashes.data(), all.data_ptr<int64_t>(), hashes.size() * sizeof(uint64_t));
  return hashes;
}

std::vector<int> ranks_differing_from_rank0(const std::vector<uint64_t>& hashes) {
  std::vector<int> ranks;
  for (size_t r = 1; r < hashes.size(); ++r) {
    if (hashes[r] != hashes[0]) ranks.push_back(static_cast<int>(r));
  }
  return ranks;
}

/// One "key\tvalue\n" line per entry, sorted by key so entry order does not count as a difference.
std::string serialize(ConfigEntries entries) {
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& [key, value] : entries) {
    NEG_CHECK(key.find_first_of("\t\n") == std::string::npos && value.find_first_of("\t\n") == std::string::npos,
              "config key/value for '", key, "' contains a tab or newline, which the agreement check cannot encode");
    out += key + "\t" + value + "\n";
  }
  return out;
}

ConfigEntries deserialize(const std::string& text) {
  ConfigEntries entries;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    entries.emplace_back(line.substr(0, tab), tab == std::string::npos ? "" : line.substr(tab + 1));
  }
  return entries;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

std::vector<std::string> all_gather_strings(Communicator& comm, const std::string& text) {
  at::Tensor bytes = at::empty({static_cast<int64_t>(text.size())}, at::kByte);
  if (!text.empty()) std::memcpy(bytes.data_ptr(), text.data(), text.size());
  const std::vector<int64_t> lengths = [&] {
    const at::Tensor all = comm.all_gather(at::full({1}, static_cast<int64_t>(text.size()), at::kLong)).cpu();
    return std::vector<int64_t>(all.data_ptr<int64_t>(), all.data_ptr<int64_t>() + all.numel());
  }();
  const at::Tensor gathered = comm.all_gather(bytes).cpu();
  const char* data = static_cast<const char*>(gathered.data_ptr());
  std::vector<std::string> texts;
  int64_t offset = 0;
  for (int64_t length : lengths) {
    texts.emplace_back(data + offset, static_cast<size_t>(length));
    offset += length;
  }
  return texts;
}

std::vector<std::string> differing_keys(const ConfigEntries& reference, const ConfigEntries& other) {
  const std::map<std::string, std::string> a(reference.begin(), reference.end());
  const std::map<std::string, std::string> b(other.begin(), other.end());
  std::set<std::string> keys;
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second != value) keys.insert(key);
  }
  for (const auto& [key, value] : b) {
    if (!a.count(key)) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

void check_config_agreement(Communicator& comm, const std::string& config_text) {
  const std::vector<int> ranks = ranks_differing_from_rank0(all_gather_hashes(comm, config_text));
  if (ranks.empty()) return;
  std::ostringstream message;
  for (int r : ranks) message << (r == ranks.front() ? "" : ", ") << r;
  NEG_FAIL("config differs between ranks: rank(s) ", message.str(), " do not match rank 0 (seen on rank ",
           comm.rank(), ")");
}

void check_config_agreement(Communicator& comm, const ConfigEntries& entries) {
  const std::string text = serialize(entries);
  const std::vector<int> ranks = ranks_differing_from_rank0(all_gather_hashes(comm, text));
  if (ranks.empty()) return;
  const std::vector<std::string> texts = all_gather_strings(comm, text);
  const ConfigEntries reference = deserialize(texts[0]);
  std::ostringstream message;
  for (int r : ranks) {
    message << "; rank " << r << " differs from rank 0 in: " << join(differing_keys(reference, deserialize(texts[r])));
  }
  NEG_FAIL("config differs between ranks", message.str(), " (seen on rank ", comm.rank(), ")");
}

}  // namespace negatron::distributed
