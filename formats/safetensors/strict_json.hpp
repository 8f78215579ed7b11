#pragma once
// Strict JSON parsing shared by the safetensors and Hugging Face readers: duplicate keys and absurd nesting are
// errors (nlohmann silently keeps one of two equal keys), and every message is one printable line.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace edgec::formats_detail {

// Parses `text`; throws Error(input) "<where>: ..." on malformed JSON, a duplicate key or nesting deeper
// than `max_depth`.
nlohmann::json parse_strict_json(std::string_view text, const std::string& where, int max_depth);

// `text` made safe for a one-line message: control and non-ASCII bytes escaped, cut after `max_chars`.
std::string printable(std::string_view text, size_t max_chars = 80);

// A JSON value shown in a message ("got ..."): compact, printable, shortened.
std::string describe_json(const nlohmann::json& value);

}  // namespace edgec::formats_detail
