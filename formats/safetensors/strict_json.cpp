#include "safetensors/strict_json.hpp"

#include <set>
#include <vector>

#include "edgec/core/error.hpp"

namespace edgec::formats_detail {

using nlohmann::json;

nlohmann::json parse_strict_json(std::string_view text, const std::string& where, int max_depth) {
  // One key set per open object, innermost last.
  std::vector<std::set<std::string>> open_objects;
  const json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_depth)
      throw_input_error(where, "JSON nests deeper than " + std::to_string(max_depth) + " levels");
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second)
          throw_input_error(where, "duplicate key '" + printable(parsed.get_ref<const std::string&>()) + "'");
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& error) {
    throw_input_error(where, "not valid JSON: " + printable(error.what(), 200));
  }
}

std::string printable(std::string_view text, size_t max_chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

std::string describe_json(const nlohmann::json& value) {
  return printable(value.dump(-1, ' ', false, json::error_handler_t::replace), 60);
}

}  // namespace edgec::formats_detail
