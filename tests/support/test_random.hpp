#pragma once
// Deterministic pseudo-random numbers for tests (xorshift64*), independent of the standard library's
// distributions, so every platform draws the same values.
#include <cmath>
#include <cstdint>
#include <vector>

namespace edgec::test {

struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed * 2654435761u + 0x9E3779B97F4A7C15ull) {}
  uint64_t bits() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(bits() >> 11) / 9007199254740992.0; }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(uniform()); }
  int integer(int lo, int hi) { return lo + static_cast<int>(bits() % static_cast<uint64_t>(hi - lo + 1)); }
  // Uniform in [-1, 1) on a 24-bit grid (exact in f32).
  float next() { return static_cast<float>(bits() >> 40) / 8388608.0f - 1.0f; }
  std::vector<float> values(size_t n, float scale = 1.0f, float offset = 0.0f) {
    std::vector<float> v(n);
    for (float& e : v) e = offset + scale * next();
    return v;
  }
  // Standard normal (Box-Muller).
  double normal() {
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  std::vector<float> normals(size_t n, double scale = 1.0) {
    std::vector<float> v(n);
    for (float& e : v) e = static_cast<float>(scale * normal());
    return v;
  }
};

}  // namespace edgec::test
