#pragma once
// Text for the HTML page: escaping and locale-independent number formatting (std::to_chars), so the page is
// safe for any layer name and byte-identical on every machine.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgec::report::html {

// Escapes & < > " ' for element content and attribute values alike; invalid UTF-8 and control characters
// (other than tab and newline) become U+FFFD, so a hostile name cannot break the page's structure.
std::string escape(std::string_view text);

// `significant` significant digits, shortest form ("62.24", "0.0001523", "1.5e-07"); non-finite values print
// as "∞", "−∞" and "n/a" (NaN).
std::string number(double value, int significant = 4);

// Fixed decimals ("12.50"), for coordinates and percentages; non-finite as number().
std::string fixed(double value, int decimals);

// A leading "+" for positive values (deltas).
std::string signed_number(double value, int significant = 4);

// Binary units: "512 B", "12.3 KiB", "4.56 MiB", "1.23 GiB".
std::string bytes(uint64_t count);

}  // namespace edgec::report::html
