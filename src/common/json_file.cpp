#include "common/json_file.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace negatron {

std::string json_error_text(const nlohmann::json::exception& e) {
  std::string message = e.what();
  if (!message.empty() && message.front() == '[') {
    const auto end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

nlohmann::json parse_json(std::string_view text, const std::string& origin) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::out_of_range& e) {
    NEG_FAIL(origin, ": invalid JSON, a number is out of range (", json_error_text(e), ")");
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(origin, ": invalid JSON (", json_error_text(e), ")");
  }
}

nlohmann::json read_json_file(const std::string& path) {
  struct stat info {};
  NEG_CHECK(::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode), "cannot read ", path, ": it is a folder");
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, "cannot open ", path);
  std::ostringstream text;
  text << in.rdbuf();
  NEG_CHECK(!in.bad(), "cannot read ", path);
  return parse_json(text.str(), path);
}

void JsonFile::wrong_type(const nlohmann::json& value, const std::string& key, const char* expected) const {
  std::string shown = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  NEG_FAIL(origin_, ": key '", key, "' must be ", expected, ", got ", shown);
}

}  // namespace negatron
