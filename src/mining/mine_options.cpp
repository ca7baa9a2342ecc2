#include "mining/mine_options.h"

#include "common/check.h"

namespace negatron::mining {

void validate(const MineOptions& o) {
  NEG_CHECK(o.num_negatives >= 1, "--num-negatives must be at least 1, got ", o.num_negatives);
  NEG_CHECK(o.range_min >= 0, "--range-min must be non-negative, got ", o.range_min);
  if (o.range_max) {
    NEG_CHECK(o.range_min < *o.range_max, "--range-min must be smaller than --range-max, got ", o.range_min, " and ",
              *o.range_max);
    NEG_CHECK(o.num_negatives <= *o.range_max - o.range_min, "cannot mine ", o.num_negatives,
              " negatives per anchor: only ", *o.range_max - o.range_min, " candidates remain after skipping the first ",
              o.range_min, " of --range-max ", *o.range_max);
  }
  NEG_CHECK(o.sampling_strategy == "top" || o.sampling_strategy == "random", "--sampling-strategy must be top or random, got '",
            o.sampling_strategy, "'");
  NEG_CHECK(o.output_format == "triplet" || o.output_format == "n-tuple", "--output-format must be triplet or n-tuple, got '",
            o.output_format, "' (labeled-pair and labeled-list are CrossEncoder formats negatron does not train)");
  NEG_CHECK(o.batch_size > 0, "--batch-size must be positive, got ", o.batch_size);
  NEG_CHECK(o.score_memory_mb > 0, "--score-memory-mb must be positive, got ", o.score_memory_mb);
  NEG_CHECK(o.shard_rows > 0, "--shard-rows must be positive, got ", o.shard_rows);
}

}  // namespace negatron::mining
