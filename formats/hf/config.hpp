#pragma once
// A typed view of config.json (or one of its sub-objects such as text_config). Every accessor names the
// file and the full key path in its error, e.g.
//   ".../config.json: text_config.num_attention_heads: expected a positive integer, got \"4\"".
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgec::hf {

class Config {
 public:
  Config(const nlohmann::json& json, std::string file, std::string prefix = "")
      : json_(&json), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool has(const std::string& key) const;  // present and not null
  Config object(const std::string& key) const;  // required sub-object

  int64_t positive_int(const std::string& key) const;
  int64_t positive_int(const std::string& key, int64_t fallback) const;
  int64_t integer(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  double positive_number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  const nlohmann::json* find(const std::string& key) const;  // nullptr when absent or null

  // "config.json: text_config.<key>" for messages.
  std::string where(const std::string& key) const;
  std::string key_path(const std::string& key) const { return prefix_ + key; }
  const std::string& file() const { return file_; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  const nlohmann::json& require(const std::string& key, const char* expected) const;
  const nlohmann::json* json_;
  std::string file_;
  std::string prefix_;
};

}  // namespace edgec::hf
