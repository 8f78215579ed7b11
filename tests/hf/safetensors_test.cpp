// safetensors reading: views and values, sharded indexes, and corrupt files (every truncation, random byte
// flips, and each header rule) that must give one-line input errors and never crash.
#include <cstring>
#include <random>

#include <doctest/doctest.h>

#include "edgec/formats/safetensors.hpp"
#include "expect_error.hpp"
#include "synthetic.hpp"

namespace st = edgec::safetensors;
using edgec::test::contains;
using edgec::test::expect_input_error;
using edgec::test::TempDir;
using nlohmann::json;

namespace {

// Two small tensors, a few hundred bytes in all.
std::string small_file() {
  return edgec::test::make_safetensors({{"a.weight", {4, 6}}, {"b.bias", {8}}, {"c", {2, 3, 2}}}, 7,
                                       json{{"format", "pt"}});
}

std::string header_file(const json& header, size_t data_bytes) {
  return edgec::test::safetensors_with_header(header.dump(), std::string(data_bytes, '\0'));
}

std::string load_error(const TempDir& dir, const std::string& bytes) {
  const auto path = dir.path() / "model.safetensors";
  edgec::test::write_bytes(path, bytes);
  const std::string message = expect_input_error([&] { st::read_file(path); });
  CHECK_MESSAGE(message.rfind(path.string(), 0) == 0, message);  // starts with the file path
  return message;
}

}  // namespace

TEST_CASE("safetensors: tensors are views with the file's values and metadata") {
  TempDir dir("st_ok");
  const auto path = dir.path() / "x.safetensors";
  const std::string bytes = small_file();
  edgec::test::write_bytes(path, bytes);
  const auto checkpoint = st::read_file(path);
  REQUIRE(checkpoint.tensors.size() == 3);
  CHECK(checkpoint.metadata.at("format") == "pt");
  REQUIRE(checkpoint.files.size() == 1);
  const auto& b = checkpoint.tensors.at("b.bias");
  CHECK(b.is_view());
  CHECK(b.dtype() == edgec::DType::f32);
  CHECK(b.dims() == std::vector<int64_t>{8});
  // Independent decoding: header length, JSON, offsets.
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const json header = json::parse(bytes.substr(8, n));
  const auto begin = header["b.bias"]["data_offsets"][0].get<size_t>();
  std::vector<float> expected(8);
  std::memcpy(expected.data(), bytes.data() + 8 + n + begin, 32);
  CHECK(b.to_f32() == expected);
  CHECK(std::memcmp(b.bytes().data(), bytes.data() + 8 + n + begin, 32) == 0);
}

TEST_CASE("safetensors: every dtype name maps to an IR dtype") {
  TempDir dir("st_dtypes");
  const std::vector<std::pair<std::string, edgec::DType>> cases{
      {"F32", edgec::DType::f32},  {"F16", edgec::DType::f16},   {"BF16", edgec::DType::bf16},
      {"F64", edgec::DType::f64},  {"I8", edgec::DType::i8},     {"U8", edgec::DType::u8},
      {"I16", edgec::DType::i16},  {"U16", edgec::DType::u16},   {"I32", edgec::DType::i32},
      {"U32", edgec::DType::u32},  {"I64", edgec::DType::i64},   {"U64", edgec::DType::u64},
      {"BOOL", edgec::DType::boolean}, {"F8_E4M3", edgec::DType::f8e4m3fn}, {"F8_E5M2", edgec::DType::f8e5m2}};
  json header = json::object();
  size_t offset = 0;
  for (const auto& [name, dtype] : cases) {
    const size_t size = 3 * static_cast<size_t>(edgec::dtype_bits(dtype) / 8);
    header["t_" + name] = {{"dtype", name}, {"shape", {3}}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  const auto path = dir.path() / "d.safetensors";
  edgec::test::write_bytes(path, header_file(header, offset));
  const auto checkpoint = st::read_file(path);
  for (const auto& [name, dtype] : cases) CHECK(checkpoint.tensors.at("t_" + name).dtype() == dtype);
}

TEST_CASE("safetensors: an empty header and zero-size tensors are valid") {
  TempDir dir("st_empty");
  const auto path = dir.path() / "e.safetensors";
  edgec::test::write_bytes(path, header_file(json{{"z", {{"dtype", "F32"}, {"shape", {0, 5}}, {"data_offsets", {0, 0}}}}}, 0));
  const auto checkpoint = st::read_file(path);
  CHECK(checkpoint.tensors.at("z").elements() == 0);
  edgec::test::write_bytes(path, edgec::test::safetensors_with_header("{}  ", ""));
  CHECK(st::read_file(path).tensors.empty());
}

TEST_CASE("safetensors: every truncation is an input error") {
  TempDir dir("st_trunc");
  const std::string bytes = small_file();
  REQUIRE(bytes.size() < 1000);
  for (size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    load_error(dir, bytes.substr(0, length));
  }
}

TEST_CASE("safetensors: random byte flips never crash") {
  TempDir dir("st_flip");
  const std::string original = small_file();
  const auto path = dir.path() / "f.safetensors";
  std::mt19937 rng(12345);
  int loaded = 0;
  int rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = original;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    edgec::test::write_bytes(path, bytes);
    try {
      const auto checkpoint = st::read_file(path);
      // Loaded: every tensor must lie inside the file and match its dtype x dims.
      for (const auto& [name, tensor] : checkpoint.tensors) {
        const auto raw = tensor.bytes();
        unsigned sum = 0;  // touches every byte: ASan reports a view outside the mapping
        for (const std::byte byte : raw) sum += static_cast<unsigned>(byte);
        CHECK(sum <= 255u * raw.size());
        CHECK(static_cast<int64_t>(raw.size()) ==
              tensor.elements() * edgec::dtype_bits(tensor.dtype()) / 8);
      }
      ++loaded;
    } catch (const edgec::Error& error) {
      CHECK(error.category() == edgec::ErrorCategory::input);
      CHECK(std::string(error.what()).find('\n') == std::string::npos);
      ++rejected;
    }
  }
  MESSAGE("byte flips: " << loaded << " loaded, " << rejected << " rejected");
  CHECK(loaded + rejected == 2000);
  CHECK(rejected > 0);
}

TEST_CASE("safetensors: header rules") {
  TempDir dir("st_rules");
  const json ok_entry = {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}};

  SUBCASE("header length larger than the file") {
    std::string bytes = header_file(json{{"a", ok_entry}}, 16);
    bytes[0] = static_cast<char>(0xff);
    CHECK(contains(load_error(dir, bytes), "header length"));
  }
  SUBCASE("header length 2^63") {
    std::string bytes = header_file(json{{"a", ok_entry}}, 16);
    for (int i = 0; i < 7; ++i) bytes[static_cast<size_t>(i)] = 0;
    bytes[7] = static_cast<char>(0x80);
    CHECK(contains(load_error(dir, bytes), "header length: 9223372036854775808"));
  }
  SUBCASE("not JSON") {
    CHECK(contains(load_error(dir, edgec::test::safetensors_with_header("{\"a\": [1,", "")), "not valid JSON"));
  }
  SUBCASE("non-object JSON") {
    CHECK(contains(load_error(dir, edgec::test::safetensors_with_header("[1, 2]", "")), "expected a JSON object"));
  }
  SUBCASE("entry is not an object") {
    CHECK(contains(load_error(dir, header_file(json{{"a", 5}}, 0)), "tensor 'a'"));
  }
  SUBCASE("missing fields") {
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      json entry = ok_entry;
      entry.erase(field);
      const auto message = load_error(dir, header_file(json{{"a", entry}}, 16));
      CHECK(contains(message, "tensor 'a'"));
      CHECK(contains(message, std::string(field) + ": missing"));
    }
  }
  SUBCASE("mistyped fields") {
    json entry = ok_entry;
    entry["dtype"] = 3;
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "dtype: expected a string"));
    entry = ok_entry;
    entry["shape"] = "2x2";
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "shape: expected an array"));
    entry = ok_entry;
    entry["data_offsets"] = {0, 8, 16};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "data_offsets: expected [begin, end]"));
  }
  SUBCASE("unknown dtype") {
    json entry = ok_entry;
    entry["dtype"] = "F128";
    const auto message = load_error(dir, header_file(json{{"a", entry}}, 16));
    CHECK(contains(message, "unknown dtype \"F128\""));
    CHECK(contains(message, "BF16"));
  }
  SUBCASE("negative and fractional dims") {
    json entry = ok_entry;
    entry["shape"] = {-2, -2};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "shape: expected non-negative integers, got -2"));
    entry["shape"] = {2.0, 2};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "shape: expected non-negative integers"));
  }
  SUBCASE("2^60 elements") {
    json entry = ok_entry;
    entry["shape"] = {uint64_t{1} << 30, uint64_t{1} << 30};
    entry["data_offsets"] = {0, 16};
    const auto message = load_error(dir, header_file(json{{"a", entry}}, 16));
    CHECK(contains(message, "data_offsets"));  // 2^60 x 4 bytes fits u64: the byte count mismatch reports it
    entry["shape"] = {uint64_t{1} << 60, 16};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "more elements than can be stored"));
  }
  SUBCASE("begin > end") {
    json entry = ok_entry;
    entry["data_offsets"] = {16, 0};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "begin <= end"));
  }
  SUBCASE("offsets past the end") {
    json entry = ok_entry;
    entry["data_offsets"] = {8, 24};
    CHECK(contains(load_error(dir, header_file(json{{"a", entry}}, 16)), "past the data section"));
  }
  SUBCASE("shape x dtype != byte count") {
    json entry = ok_entry;
    entry["data_offsets"] = {0, 12};
    const auto message = load_error(dir, header_file(json{{"a", entry}}, 16));
    CHECK(contains(message, "tensor 'a'"));
    CHECK(contains(message, "needs 16 bytes, got 12"));
  }
  SUBCASE("overlapping offsets") {
    json b = ok_entry;
    b["data_offsets"] = {8, 24};
    const auto message = load_error(dir, header_file(json{{"a", ok_entry}, {"b", b}}, 32));
    CHECK(contains(message, "overlaps"));
  }
  SUBCASE("duplicate names") {
    const std::string entry = ok_entry.dump();
    const auto message = load_error(dir, edgec::test::safetensors_with_header(
                                             "{\"a\":" + entry + ",\"a\":" + entry + "}", std::string(16, '\0')));
    CHECK(contains(message, "duplicate key 'a'"));
  }
  SUBCASE("non-string metadata") {
    const auto message = load_error(dir, header_file(json{{"__metadata__", {{"n", 3}}}, {"a", ok_entry}}, 16));
    CHECK(contains(message, "__metadata__.n"));
    CHECK(contains(load_error(dir, header_file(json{{"__metadata__", 3}}, 0)), "__metadata__"));
  }
  SUBCASE("control characters in names stay on one line") {
    json entry = ok_entry;
    entry["dtype"] = "XX";
    CHECK(contains(load_error(dir, header_file(json{{"a\nb", entry}}, 16)), "a\\x0ab"));
  }
}

TEST_CASE("safetensors: sharded index") {
  TempDir dir("st_index");
  edgec::test::write_sharded_model(dir.path(), json::object(),
                                   {{"w1", {2, 3}}, {"w2", {4}}, {"w3", {5}}, {"w4", {1, 1}}});
  const auto checkpoint = st::read_index(dir.path() / "model.safetensors.index.json");
  CHECK(checkpoint.tensors.size() == 4);
  REQUIRE(checkpoint.files.size() == 2);
  CHECK(checkpoint.files[0].filename() == "model-00001-of-00002.safetensors");
  CHECK(checkpoint.metadata.at("total_size") == "0");
  CHECK(checkpoint.tensors.at("w3").is_view());

  const auto index_path = dir.path() / "model.safetensors.index.json";
  auto index_error = [&](const json& index) {
    edgec::test::write_bytes(index_path, index.dump());
    const auto message = expect_input_error([&] { st::read_index(index_path); });
    CHECK_MESSAGE(message.rfind(index_path.string(), 0) == 0, message);
    return message;
  };
  const std::string shard1 = "model-00001-of-00002.safetensors";
  const std::string shard2 = "model-00002-of-00002.safetensors";
  CHECK(contains(index_error(json{{"weight_map", {{"w1", "../x.safetensors"}}}}), "'..'"));
  CHECK(contains(index_error(json{{"weight_map", {{"w1", "/etc/passwd"}}}}), "relative"));
  CHECK(contains(index_error(json{{"weight_map", {{"w1", shard2}}}}), "not found in shard"));
  CHECK(contains(index_error(json{{"weight_map", {{"missing", shard1}}}}), "weight_map.missing"));
  CHECK(contains(index_error(json{{"weight_map", {{"w1", 3}}}}), "expected a shard file name"));
  CHECK(contains(index_error(json{{"metadata", {}}}), "weight_map"));
  CHECK(contains(index_error(json::array()), "expected a JSON object"));

  // A symlink inside the folder that points outside it.
  TempDir outside("st_outside");
  std::filesystem::copy_file(dir.path() / shard1, outside.path() / "elsewhere.safetensors");
  std::filesystem::create_symlink(outside.path() / "elsewhere.safetensors", dir.path() / "link.safetensors");
  CHECK(contains(index_error(json{{"weight_map", {{"w1", "link.safetensors"}}}}), "outside the index's folder"));

  // The same tensor in two shards.
  edgec::test::write_bytes(dir.path() / shard2, edgec::test::make_safetensors({{"w1", {2, 3}}, {"w3", {5}}}));
  CHECK(contains(index_error(json{{"weight_map", {{"w1", shard1}, {"w3", shard2}}}}), "stored in two shards"));
}
