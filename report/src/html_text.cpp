#include "html_text.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace edgec::report::html {

namespace {

constexpr std::string_view replacement = "\uFFFD";

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid (overlong forms,
// surrogates and code points above U+10FFFF included).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t code = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    code = (code << 6) | (byte(i + k) & 0x3Fu);
  }
  if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (length == 4 && (code < 0x10000 || code > 0x10FFFF)))
    return 0;
  return length;
}

std::string non_finite(double value) {
  if (std::isnan(value)) return "n/a";
  return value > 0 ? "\u221E" : "\u2212\u221E";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&#39;"; ++i; continue;
      default: break;
    }
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7F) {
      out += replacement;
      ++i;
      continue;
    }
    const size_t length = utf8_sequence_length(text, i);
    if (length == 0) {
      out += replacement;
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

std::string number(double value, int significant) {
  if (!std::isfinite(value)) return non_finite(value);
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::general, significant);
  return std::string(buffer.data(), result.ptr);
}

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return non_finite(value);
  std::array<char, 400> buffer{};  // fixed notation of a large double needs up to ~310 digits
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, decimals);
  std::string text(buffer.data(), result.ptr);
  if (text.starts_with("-") && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);  // no "-0.00"
  return text;
}

std::string signed_number(double value, int significant) {
  const std::string text = number(value, significant);
  return std::isfinite(value) && value > 0 ? "+" + text : text;
}

std::string bytes(uint64_t count) {
  constexpr std::array<const char*, 4> units = {"KiB", "MiB", "GiB", "TiB"};
  if (count < 1024) return std::to_string(count) + " B";
  double scaled = static_cast<double>(count);
  size_t unit = 0;
  scaled /= 1024.0;
  while (scaled >= 1024.0 && unit + 1 < units.size()) {
    scaled /= 1024.0;
    ++unit;
  }
  // Three significant digits: "1.23 MiB", "12.3 MiB", "123 MiB".
  const int decimals = scaled < 10.0 ? 2 : scaled < 100.0 ? 1 : 0;
  return fixed(scaled, decimals) + " " + units[unit];
}

}  // namespace edgec::report::html
