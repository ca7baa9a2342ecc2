#include "train/loss_window.h"

#include <gtest/gtest.h>

#include <limits>

namespace negatron::train {
namespace {

const double kNone = std::numeric_limits<double>::quiet_NaN();

TEST(FormatDatasetLosses, OneDatasetShowsItsLossWithoutAName) {
  EXPECT_EQ(format_dataset_losses({"nli"}, {0.41234}), "loss 0.4123");
}

TEST(FormatDatasetLosses, SeveralDatasetsEachShowTheirOwnLoss) {
  EXPECT_EQ(format_dataset_losses({"nli", "sts"}, {0.41234, 8.0123}), "loss nli 0.4123 | sts 8.012");
}

TEST(FormatDatasetLosses, ADatasetNotLoggedYetShowsADash) {
  EXPECT_EQ(format_dataset_losses({"nli", "sts"}, {kNone, 8.0}), "loss nli - | sts 8");
}

}  // namespace
}  // namespace negatron::train
