#include "data/multi_dataset_sampler.h"

#include <algorithm>
#include <cctype>

#include "common/check.h"
#include "data/permutation.h"

namespace negatron::data {

constexpr uint64_t kScheduleStream = 2;

MultiDatasetKind parse_multi_dataset_kind(const std::string& name) {
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "ROUND_ROBIN") return MultiDatasetKind::kRoundRobin;
  if (upper == "PROPORTIONAL") return MultiDatasetKind::kProportional;
  NEG_FAIL("unknown multi-dataset sampler '", name, "' (expected ROUND_ROBIN or PROPORTIONAL)");
}

std::string multi_dataset_kind_name(MultiDatasetKind kind) {
  return kind == MultiDatasetKind::kRoundRobin ? "ROUND_ROBIN" : "PROPORTIONAL";
}

MultiDatasetSampler::MultiDatasetSampler(std::vector<std::shared_ptr<BatchSampler>> samplers, MultiDatasetKind kind,
                                         uint64_t seed)
    : samplers_(std::move(samplers)), kind_(kind), seed_(seed) {
  NEG_CHECK(!samplers_.empty(), "multi-dataset sampler: no datasets");
  int64_t fewest = samplers_.front()->steps_per_epoch(), total = 0;
  for (const auto& sampler : samplers_) {
    NEG_CHECK(sampler->options().world_size == samplers_.front()->options().world_size &&
                  sampler->options().rank == samplers_.front()->options().rank,
              "multi-dataset sampler: datasets disagree on rank / world size");
    fewest = std::min(fewest, sampler->steps_per_epoch());
    total += sampler->steps_per_epoch();
  }
  steps_per_epoch_ = kind_ == MultiDatasetKind::kRoundRobin ? fewest * static_cast<int64_t>(samplers_.size()) : total;
}

void MultiDatasetSampler::build_proportional_schedule(int64_t epoch) {
  std::vector<std::pair<int, int64_t>> ordered;
  for (size_t d = 0; d < samplers_.size(); ++d) {
    for (int64_t s = 0; s < samplers_[d]->steps_per_epoch(); ++s) ordered.emplace_back(static_cast<int>(d), 0);
  }
  const Permutation permutation(steps_per_epoch_, derive_seed(seed_, epoch, kScheduleStream));
  std::vector<int64_t> next_step(samplers_.size(), 0);
  schedule_.assign(steps_per_epoch_, {0, 0});
  for (int64_t step = 0; step < steps_per_epoch_; ++step) {
    const int dataset = ordered[permutation(step)].first;
    schedule_[step] = {dataset, next_step[dataset]++};  // each dataset's own steps stay in order
  }
  schedule_epoch_ = epoch;
}

std::pair<int, int64_t> MultiDatasetSampler::schedule(int64_t epoch, int64_t step) {
  NEG_CHECK(0 <= step && step < steps_per_epoch_, "multi-dataset sampler: step ", step, " outside [0, ",
            steps_per_epoch_, ")");
  if (kind_ == MultiDatasetKind::kRoundRobin) {
    const auto count = static_cast<int64_t>(samplers_.size());
    return {static_cast<int>(step % count), step / count};
  }
  if (schedule_epoch_ != epoch) build_proportional_schedule(epoch);
  return schedule_[step];
}

SamplerBatch MultiDatasetSampler::batch(int64_t epoch, int64_t step) {
  const auto [dataset, dataset_step] = schedule(epoch, step);
  SamplerBatch out = samplers_[dataset]->batch(epoch, dataset_step);
  out.dataset_index = dataset;
  out.step = step;
  return out;
}

SamplerBatch MultiDatasetSampler::next() {
  SamplerBatch out = batch(position_.epoch, position_.step);
  if (++position_.step == steps_per_epoch_) position_ = {position_.epoch + 1, 0};
  return out;
}

nlohmann::json MultiDatasetSampler::state() const {
  nlohmann::json datasets = nlohmann::json::array();
  for (const auto& sampler : samplers_) {
    nlohmann::json s = sampler->state();
    s.erase("epoch");
    s.erase("step");
    datasets.push_back(s);
  }
  nlohmann::json state = position_to_json(position_);
  state["kind"] = multi_dataset_kind_name(kind_);
  state["seed"] = seed_;
  state["datasets"] = datasets;
  return state;
}

void MultiDatasetSampler::restore(const nlohmann::json& state) {
  const nlohmann::json mine = this->state();
  NEG_CHECK(state.value("kind", "") == mine["kind"] && state.value("seed", uint64_t{0}) == seed_ &&
                state.value("datasets", nlohmann::json()) == mine["datasets"],
            "sampler state was saved for other datasets or sampler settings:\n  saved ", state.dump(), "\n  now   ",
            mine.dump());
  SamplerPosition p = position_from_json(state, "sampler state");
  NEG_CHECK(p.step < steps_per_epoch_, "sampler state: step ", p.step, " >= steps per epoch ", steps_per_epoch_);
  position_ = p;
}

}  // namespace negatron::data
