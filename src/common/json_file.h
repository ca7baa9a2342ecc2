#pragma once
// JSON files whose every error names the file and the key: parse errors (syntax, numbers out of
// range such as 1e999, bad UTF-8) and type errors never reach the user as bare nlohmann messages.
// Integers must be JSON integers that fit the C++ type; floating-point values must be numbers.
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/check.h"

namespace negatron {

/// nlohmann's message without its "[json.exception.type_error.302] " prefix, for wrapping.
std::string json_error_text(const nlohmann::json::exception& e);

/// Parses `text`; errors name `origin` (a file, or "file:line").
nlohmann::json parse_json(std::string_view text, const std::string& origin);
/// Reads and parses a file; errors name it.
nlohmann::json read_json_file(const std::string& path);

/// Typed reads from a parsed file; errors name the file and the key path ("model.vocab").
class JsonFile {
 public:
  explicit JsonFile(std::string origin) : origin_(std::move(origin)) {}
  const std::string& origin() const { return origin_; }

  /// nullptr when `object` is not an object, or the key is absent or null.
  static const nlohmann::json* find(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  /// The value at `where` + `key`; throws when absent (or when `object` is not an object).
  const nlohmann::json& require(const nlohmann::json& object, const char* key, const std::string& where = "") const {
    NEG_CHECK(object.is_object(), origin_, ": '", where.empty() ? std::string("(top level)") : where,
              "' must be a JSON object, got ", object.type_name());
    const nlohmann::json* value = find(object, key);
    NEG_CHECK(value, origin_, ": missing key '", where, key, "'");
    return *value;
  }
  template <typename T>
  T get(const nlohmann::json& value, const std::string& key) const;
  template <typename T>
  T get_or(const nlohmann::json& object, const char* key, T fallback, const std::string& where = "") const {
    const nlohmann::json* value = find(object, key);
    return value ? get<T>(*value, where + key) : fallback;
  }
  template <typename T>
  T required(const nlohmann::json& object, const char* key, const std::string& where = "") const {
    return get<T>(require(object, key, where), where + key);
  }

 private:
  template <typename T>
  struct IsVector : std::false_type {};
  template <typename T>
  struct IsVector<std::vector<T>> : std::true_type {};

  [[noreturn]] void wrong_type(const nlohmann::json& value, const std::string& key, const char* expected) const;

  std::string origin_;
};

template <typename T>
T JsonFile::get(const nlohmann::json& value, const std::string& key) const {
  if constexpr (std::is_same_v<T, nlohmann::json>) {
    return value;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!value.is_boolean()) wrong_type(value, key, "true or false");
    return value.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(v);
    } else if (value.is_number_integer()) {
      const auto v = value.get<int64_t>();
      if constexpr (std::is_signed_v<T>) {
        if (v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
            v <= static_cast<int64_t>(std::numeric_limits<T>::max())) {
          return static_cast<T>(v);
        }
      } else if (v >= 0 && static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return static_cast<T>(v);
      }
    }
    wrong_type(value, key, std::is_signed_v<T> ? "an integer in range" : "a non-negative integer in range");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) wrong_type(value, key, "a number");
    return value.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!value.is_string()) wrong_type(value, key, "a string");
    return value.get<std::string>();
  } else if constexpr (IsVector<T>::value) {
    if (!value.is_array()) wrong_type(value, key, "a list");
    T out;
    for (size_t i = 0; i < value.size(); ++i) {
      out.push_back(get<typename T::value_type>(value[i], key + "[" + std::to_string(i) + "]"));
    }
    return out;
  } else {
    static_assert(sizeof(T) == 0, "JsonFile::get: unsupported type");
  }
}

}  // namespace negatron
