#include "data/batch_sampler_plans.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "common/check.h"
#include "data/dataset_reader.h"
#include "data/rank_balance.h"

namespace negatron::data {

namespace {

constexpr uint64_t kPermutationStream = 1;

void validate(const SamplerOptions& o, const SamplerSource& source) {
  NEG_CHECK(o.world_size >= 1 && 0 <= o.rank && o.rank < o.world_size, "sampler: rank ", o.rank,
            " outside world size ", o.world_size);
  NEG_CHECK(o.batch_size_global > 0 && o.batch_size_global % o.world_size == 0, "sampler: global batch size ",
            o.batch_size_global, " must be a positive multiple of the world size ", o.world_size);
  if (o.kind == BatchSamplerKind::kGroupByLabel) {
    NEG_CHECK(o.batch_size_local() % 2 == 0, "GROUP_BY_LABEL: the per-rank batch size ", o.batch_size_local(),
              " must be even (rows come in same-label pairs)");
    NEG_CHECK(static_cast<bool>(source.labels), "GROUP_BY_LABEL needs int64 labels");
  }
  if (o.kind == BatchSamplerKind::kNoDuplicates) {
    NEG_CHECK(source.hashes && source.hash_width > 0, "NO_DUPLICATES needs text hashes");
  }
  NEG_CHECK(!o.balance_tokens || source.token_cost, "sampler: balance_tokens needs the rows' token counts");
}

int64_t count_label_pairs(const std::vector<int64_t>& labels) {
  std::unordered_map<int64_t, int64_t> counts;
  for (int64_t label : labels) ++counts[label];
  int64_t pairs = 0;
  for (const auto& [label, count] : counts) pairs += count / 2;
  return pairs;
}

}  // namespace

BatchSamplerKind parse_batch_sampler_kind(const std::string& name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "BATCH_SAMPLER") return BatchSamplerKind::kBatchSampler;
  if (upper == "NO_DUPLICATES") return BatchSamplerKind::kNoDuplicates;
  if (upper == "GROUP_BY_LABEL") return BatchSamplerKind::kGroupByLabel;
  NEG_FAIL("unknown batch sampler '", name, "' (expected BATCH_SAMPLER, NO_DUPLICATES or GROUP_BY_LABEL)");
}

std::string batch_sampler_kind_name(BatchSamplerKind kind) {
  switch (kind) {
    case BatchSamplerKind::kBatchSampler: return "BATCH_SAMPLER";
    case BatchSamplerKind::kNoDuplicates: return "NO_DUPLICATES";
    case BatchSamplerKind::kGroupByLabel: return "GROUP_BY_LABEL";
  }
  return "?";
}

SamplerSource sampler_source(std::shared_ptr<const DatasetReader> reader, int64_t max_tokens_per_text) {
  SamplerSource source;
  source.token_cost = [reader, max_tokens_per_text](const std::vector<int64_t>& rows) {
    const std::vector<int64_t> counts = reader->read_token_counts(rows);
    const auto columns = static_cast<size_t>(reader->text_columns());
    std::vector<int64_t> cost(rows.size(), 0);
    for (size_t i = 0; i < counts.size(); ++i) {
      cost[i / columns] += max_tokens_per_text > 0 ? std::min(counts[i], max_tokens_per_text) : counts[i];
    }
    return cost;
  };
  source.rows = reader->rows();
  source.hash_width = reader->text_columns();
  source.hashes = [reader](const std::vector<int64_t>& rows) { return reader->read_hashes(rows); };
  if (reader->manifest().label_kind == LabelKind::kInt64) {
    source.labels = [reader] { return reader->read_all_int_labels(); };
  }
  return source;
}

nlohmann::json position_to_json(const SamplerPosition& p) { return {{"epoch", p.epoch}, {"step", p.step}}; }

SamplerPosition position_from_json(const nlohmann::json& json, const std::string& origin) {
  NEG_CHECK(json.contains("epoch") && json.contains("step"), origin, ": sampler state needs 'epoch' and 'step'");
  SamplerPosition p{json.at("epoch").get<int64_t>(), json.at("step").get<int64_t>()};
  NEG_CHECK(p.epoch >= 0 && p.step >= 0, origin, ": negative epoch or step in sampler state");
  return p;
}

BatchSampler::BatchSampler(SamplerSource source, SamplerOptions options)
    : source_(std::move(source)), options_(options) {
  validate(options_, source_);
  if (options_.kind == BatchSamplerKind::kGroupByLabel) {
    labels_ = source_.labels();
    NEG_CHECK(static_cast<int64_t>(labels_.size()) == source_.rows, "GROUP_BY_LABEL: ", labels_.size(),
              " labels for ", source_.rows, " rows");
    steps_per_epoch_ = 2 * count_label_pairs(labels_) / options_.batch_size_global;
  } else {
    steps_per_epoch_ = source_.rows / options_.batch_size_global;
  }
  NEG_CHECK(steps_per_epoch_ > 0, "sampler: ", source_.rows, " rows make no full global batch of ",
            options_.batch_size_global, options_.kind == BatchSamplerKind::kGroupByLabel ? " same-label pairs" : "");
}

BatchSampler::~BatchSampler() = default;

std::vector<int64_t> BatchSampler::global_batch(int64_t epoch, int64_t step) {
  NEG_CHECK(0 <= step && step < steps_per_epoch_, "sampler: step ", step, " outside [0, ", steps_per_epoch_, ")");
  switch (options_.kind) {
    case BatchSamplerKind::kGroupByLabel: return group_by_label_batch(epoch, step);
    case BatchSamplerKind::kNoDuplicates: return no_duplicates_batch(epoch, step);
    case BatchSamplerKind::kBatchSampler: break;
  }
  const Permutation permutation(source_.rows, derive_seed(options_.seed, epoch, kPermutationStream));
  std::vector<int64_t> rows(options_.batch_size_global);
  for (int64_t i = 0; i < options_.batch_size_global; ++i) rows[i] = permutation(step * options_.batch_size_global + i);
  return rows;
}

SamplerBatch BatchSampler::batch(int64_t epoch, int64_t step) {
  std::vector<int64_t> global = global_batch(epoch, step);
  if (options_.balance_tokens && options_.world_size > 1) {
    const int64_t unit = options_.kind == BatchSamplerKind::kGroupByLabel ? 2 : 1;
    global = balance_ranks(global, source_.token_cost(global), options_.world_size, unit);
  }
  const int64_t local = options_.batch_size_local();
  SamplerBatch out;
  out.epoch = epoch;
  out.step = step;
  out.rows.assign(global.begin() + options_.rank * local, global.begin() + (options_.rank + 1) * local);
  out.rank_rows.assign(options_.world_size, local);
  return out;
}

std::vector<int64_t> BatchSampler::group_by_label_batch(int64_t epoch, int64_t step) {
  if (!group_plan_ || group_plan_->epoch != epoch) {
    group_plan_ = std::make_unique<GroupPlan>();
    group_plan_->epoch = epoch;
    const Permutation permutation(source_.rows, derive_seed(options_.seed, epoch, kPermutationStream));
    std::unordered_map<int64_t, int64_t> waiting;  // label -> a row still without its partner
    for (int64_t position = 0; position < source_.rows; ++position) {
      const int64_t row = permutation(position);
      auto [it, inserted] = waiting.emplace(labels_[row], row);
      if (inserted) continue;
      group_plan_->rows.push_back(it->second);
      group_plan_->rows.push_back(row);
      waiting.erase(it);
    }
  }
  const auto begin = group_plan_->rows.begin() + step * options_.batch_size_global;
  return {begin, begin + options_.batch_size_global};
}

SamplerBatch BatchSampler::next() {
  SamplerBatch out = batch(position_.epoch, position_.step);
  if (++position_.step == steps_per_epoch_) position_ = {position_.epoch + 1, 0};
  return out;
}

nlohmann::json BatchSampler::state() const {
  nlohmann::json state = position_to_json(position_);
  state["kind"] = batch_sampler_kind_name(options_.kind);
  state["seed"] = options_.seed;
  state["batch_size_global"] = options_.batch_size_global;
  state["rows"] = source_.rows;
  return state;
}

void BatchSampler::restore(const nlohmann::json& state) {
  const std::string origin = "sampler state";
  NEG_CHECK(state.value("kind", "") == batch_sampler_kind_name(options_.kind) &&
                state.value("seed", uint64_t{0}) == options_.seed &&
                state.value("batch_size_global", int64_t{0}) == options_.batch_size_global &&
                state.value("rows", int64_t{-1}) == source_.rows,
            origin, " ", state.dump(), " was saved with another sampler kind, seed, global batch size or dataset (now ",
            batch_sampler_kind_name(options_.kind), ", seed ", options_.seed, ", batch ", options_.batch_size_global,
            ", ", source_.rows, " rows)");
  SamplerPosition p = position_from_json(state, origin);
  NEG_CHECK(p.step < steps_per_epoch_, origin, ": step ", p.step, " >= steps per epoch ", steps_per_epoch_);
  position_ = p;
}

}  // namespace negatron::data
