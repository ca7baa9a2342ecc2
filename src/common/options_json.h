#pragma once
// Option structs <-> JSON. An option struct lists its fields once, in visit(v), as
//   v("key", field, "one-line doc");
// and a field's default is its initializer. The training config (train/options.h) and every loss's
// parameters (losses/*.h) are read, written back and documented through these templates, so both
// answer a wrong type with the key and the expected type, and an unknown key with the nearest
// valid one ("did you mean ...?").
// Field types: bool, integers, floating point, std::string, nlohmann::json (kept as given),
// std::optional<T> (JSON null = unset), std::vector<T> and nested option structs.
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace negatron::options {

using Json = nlohmann::json;

/// How a reader names keys in its errors, and how strictly it reads strings.
struct KeyStyle {
  std::string noun = "config key";  // errors say "<noun> 'a.b'"
  bool list_valid_keys = false;      // an unknown-key error also lists every valid key beside it
  bool scalars_as_strings = true;    // a number or bool read into a string becomes its text (YAML's 1 -> "1")
  std::string name(const std::string& path) const;
};

/// JSON text of a value; bytes that are not UTF-8 (YAML lets them through) become U+FFFD instead of
/// making the dump itself throw.
std::string shown(const Json& value);

/// "a.b" from "a" and "b"; "b" from "" and "b".
std::string join_path(const std::string& prefix, const std::string& key);

/// One field of an option struct: its key, default (as JSON) and doc line.
struct FieldDoc {
  std::string key;
  Json default_value;
  std::string doc;
};

/// Reads `json` into `value`: keys missing from `json` keep their defaults; wrong types and unknown
/// keys throw, naming the key path below `path` as `style` says.
template <class T>
void read(const Json& json, T& value, const KeyStyle& style, const std::string& path = "");

/// `value` as JSON, every field included.
template <class T>
Json to_json(const T& value);

/// The top-level fields of `value` (by default a default-constructed T), in visit() order.
template <class T>
std::vector<FieldDoc> describe(T value = T{});

// ---- implementation ---------------------------------------------------------------------------

namespace detail {

template <class T, class = void>
struct HasVisit : std::false_type {};
template <class T>
struct HasVisit<T, std::void_t<decltype(std::declval<T&>().template visit<int>(std::declval<int&>()))>>
    : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
inline constexpr bool kUnsupported = false;

[[noreturn]] void fail_type(const KeyStyle& style, const std::string& path, const char* expected, const Json& got);
void reject_unknown_keys(const Json& json, const std::vector<std::string>& known, const KeyStyle& style,
                         const std::string& path);
std::vector<std::string> split_commas(const std::string& text);

class FieldReader {
 public:
  FieldReader(const Json& json, const KeyStyle& style, const std::string& path)
      : json_(json), style_(style), path_(path) {}
  template <class T>
  void operator()(const char* key, T& value, const char* /*doc*/) {
    known_.emplace_back(key);
    if (!json_.is_object()) return;
    const auto it = json_.find(key);
    if (it != json_.end()) read(*it, value, style_, join_path(path_, key));
  }
  void finish() const { reject_unknown_keys(json_, known_, style_, path_); }

 private:
  const Json& json_;
  const KeyStyle& style_;
  const std::string& path_;
  std::vector<std::string> known_;
};

struct FieldWriter {
  Json out = Json::object();
  template <class T>
  void operator()(const char* key, T& value, const char* /*doc*/) {
    out[key] = to_json(value);
  }
};

struct FieldCollector {
  std::vector<FieldDoc> fields;
  template <class T>
  void operator()(const char* key, T& value, const char* doc) {
    fields.push_back({key, to_json(value), doc});
  }
};

}  // namespace detail

template <class T>
void read(const Json& json, T& value, const KeyStyle& style, const std::string& path) {
  if constexpr (detail::HasVisit<T>::value) {
    if (!json.is_object() && !json.is_null()) detail::fail_type(style, path, "a map", json);
    detail::FieldReader reader(json, style, path);
    value.visit(reader);
    reader.finish();
  } else if constexpr (std::is_same_v<T, Json>) {
    value = json;
  } else if constexpr (detail::IsOptional<T>::value) {
    if (json.is_null()) return value.reset();
    typename T::value_type inner{};
    read(json, inner, style, path);
    value = std::move(inner);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (json.is_string()) return void(value = json.get<std::string>());
    if (!style.scalars_as_strings || !json.is_primitive() || json.is_null())
      detail::fail_type(style, path, "a string", json);
    value = shown(json);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!json.is_boolean()) detail::fail_type(style, path, "true or false", json);
    value = json.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    const bool fits = json.is_number_unsigned()
                          ? json.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                          : json.is_number_integer() && json.get<int64_t>() >= std::numeric_limits<T>::min() &&
                                json.get<int64_t>() <= std::numeric_limits<T>::max();
    if (!fits) detail::fail_type(style, path, "an integer in range", json);
    value = json.get<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!json.is_number() || !std::isfinite(json.get<double>())) detail::fail_type(style, path, "a finite number", json);
    value = json.get<T>();
  } else if constexpr (detail::IsVector<T>::value) {
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (json.is_string()) return void(value = detail::split_commas(json.get<std::string>()));  // "a,b" from --set
    }
    if (!json.is_array()) detail::fail_type(style, path, "a list", json);
    value.clear();
    for (size_t i = 0; i < json.size(); ++i) {
      value.emplace_back();
      read(json[i], value.back(), style, join_path(path, std::to_string(i)));
    }
  } else {
    static_assert(detail::kUnsupported<T>, "option field of a type options::read does not know");
  }
}

template <class T>
Json to_json(const T& value) {
  if constexpr (detail::HasVisit<T>::value) {
    detail::FieldWriter writer;
    const_cast<T&>(value).visit(writer);  // visit() only reads the fields here
    return writer.out;
  } else if constexpr (detail::IsOptional<T>::value) {
    return value ? to_json(*value) : Json(nullptr);
  } else if constexpr (detail::IsVector<T>::value) {
    Json out = Json::array();
    for (const auto& item : value) out.push_back(to_json(item));
    return out;
  } else {
    return Json(value);
  }
}

template <class T>
std::vector<FieldDoc> describe(T value) {
  detail::FieldCollector collector;
  value.visit(collector);
  return collector.fields;
}

}  // namespace negatron::options
