// The generic option-struct reader/writer that the training config and the loss parameters share:
// defaults kept, every field type read, errors that name the key path and the expected type, unknown
// keys answered with the nearest valid key, and the written JSON holding every field.
#include "common/options_json.h"

#include <gtest/gtest.h>

#include "common/suggest.h"
#include "support/error_of.h"

namespace negatron::options {
namespace {

using negatron::testing::error_of;

struct Inner {
  int64_t steps = 3;
  template <class V>
  void visit(V& v) {
    v("steps", steps, "how many steps");
  }
};

struct Outer {
  double rate = 0.5;
  bool on = true;
  std::string mode = "fast";
  std::optional<int64_t> limit;
  std::vector<std::string> tags = {"a"};
  std::vector<int64_t> sizes;
  Json spec = nullptr;
  Inner inner;
  std::vector<Inner> items;
  template <class V>
  void visit(V& v) {
    v("rate", rate, "a rate");
    v("on", on, "a switch");
    v("mode", mode, "a mode");
    v("limit", limit, "optional limit");
    v("tags", tags, "names");
    v("sizes", sizes, "numbers");
    v("spec", spec, "kept as given");
    v("inner", inner, "nested");
    v("items", items, "nested list");
  }
};

const KeyStyle kConfig{};
const KeyStyle kStrict{"parameter", /*list_valid_keys=*/true, /*scalars_as_strings=*/false};

Outer read_outer(const Json& json, const KeyStyle& style = kConfig) {
  Outer out;
  read(json, out, style);
  return out;
}

TEST(OptionsJson, MissingKeysKeepDefaultsAndGivenOnesAreRead) {
  const Outer d = read_outer(Json::object());
  EXPECT_EQ(d.rate, 0.5);
  EXPECT_TRUE(d.on);
  EXPECT_FALSE(d.limit.has_value());
  EXPECT_EQ(d.tags, std::vector<std::string>{"a"});

  const Outer o = read_outer(Json::parse(R"({"rate": 2, "on": false, "mode": "slow", "limit": 7, "tags": "x,y",
      "sizes": [4, 5], "spec": {"k": [1]}, "inner": {"steps": 9}, "items": [{}, {"steps": 1}]})"));
  EXPECT_EQ(o.rate, 2.0);  // an integer where a number is expected
  EXPECT_FALSE(o.on);
  EXPECT_EQ(o.mode, "slow");
  EXPECT_EQ(o.limit, 7);
  EXPECT_EQ(o.tags, (std::vector<std::string>{"x", "y"}));  // "a,b" from --set
  EXPECT_EQ(o.sizes, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(o.spec, Json::parse(R"({"k": [1]})"));
  EXPECT_EQ(o.inner.steps, 9);
  ASSERT_EQ(o.items.size(), 2u);
  EXPECT_EQ(o.items[0].steps, 3);
  EXPECT_EQ(o.items[1].steps, 1);
  EXPECT_EQ(read_outer(Json::parse(R"({"limit": null})")).limit, std::nullopt);
}

TEST(OptionsJson, WrongTypesNameTheKeyPathAndTheExpectedType) {
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"inner": {"steps": 1.5}})")); })
                .find("config key 'inner.steps' must be an integer in range, got 1.5"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"on": "yes"})")); })
                .find("config key 'on' must be true or false, got \"yes\""),
            std::string::npos);
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"items": [{}, {"steps": "x"}]})")); })
                .find("config key 'items.1.steps' must be an integer"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"sizes": 4})")); }).find("'sizes' must be a list, got 4"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"rate": [1]})"), kStrict); })
                .find("parameter 'rate' must be a finite number, got [1]"),
            std::string::npos);
}

TEST(OptionsJson, StringsFromScalarsOnlyWhenAllowed) {
  EXPECT_EQ(read_outer(Json::parse(R"({"mode": 3})")).mode, "3");  // YAML's `mode: 3`
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"mode": 3})"), kStrict); })
                .find("parameter 'mode' must be a string, got 3"),
            std::string::npos);
  EXPECT_NE(error_of([] { read_outer(Json::parse(R"({"mode": null})")); }).find("must be a string, got null"),
            std::string::npos);
}

TEST(OptionsJson, UnknownKeysSuggestTheNearestAndMayListAll) {
  const std::string config = error_of([] { read_outer(Json::parse(R"({"inner": {"stpes": 1}})")); });
  EXPECT_NE(config.find("unknown config key 'inner.stpes' (did you mean 'inner.steps'?)"), std::string::npos)
      << config;
  const std::string strict = error_of([] { read_outer(Json::parse(R"({"rat": 1})"), kStrict); });
  EXPECT_NE(strict.find("unknown parameter 'rat' (did you mean 'rate'? valid: rate, on, mode, limit, tags, sizes, "
                        "spec, inner, items)"),
            std::string::npos)
      << strict;
}

TEST(OptionsJson, WrittenJsonHoldsEveryFieldAndReadsBackTheSame) {
  Outer o;
  o.limit = 4;
  o.items.resize(1);
  const Json written = to_json(o);
  const Json expected = Json::parse(R"({"rate": 0.5, "on": true, "mode": "fast", "limit": 4, "tags": ["a"],
      "sizes": [], "spec": null, "inner": {"steps": 3}, "items": [{"steps": 3}]})");
  EXPECT_EQ(written, expected);
  EXPECT_EQ(to_json(read_outer(written)), expected);
  EXPECT_EQ(to_json(Outer{})["limit"], Json(nullptr));
}

TEST(OptionsJson, DescribeListsFieldsInOrderWithDefaultsAndDocs) {
  const std::vector<FieldDoc> fields = describe<Outer>();
  ASSERT_EQ(fields.size(), 9u);
  EXPECT_EQ(fields[0].key, "rate");
  EXPECT_EQ(fields[0].default_value, Json(0.5));
  EXPECT_EQ(fields[0].doc, "a rate");
  EXPECT_EQ(fields[7].default_value, Json::parse(R"({"steps": 3})"));
}

TEST(Suggest, NearestNameByEditDistanceOrContainment) {
  EXPECT_EQ(nearest_name("learnig_rate", {"learning_rate", "seed", "warmup_ratio"}), "learning_rate");
  EXPECT_EQ(nearest_name("scale", {"logit_scale", "margin"}), "logit_scale");
  EXPECT_EQ(nearest_name("x", {}), "");
  EXPECT_EQ(join_names({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(join_names({}), "");
}

}  // namespace
}  // namespace negatron::options
