#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "edgec/core/error.hpp"
#include "edgec/core/tensor.hpp"

using namespace edgec;
namespace fs = std::filesystem;

TEST_CASE("element_count rejects negative dims and overflow") {
  const std::array<int64_t, 2> ok{3, 4};
  CHECK(element_count(ok) == 12);
  const std::array<int64_t, 2> negative{3, -1};
  CHECK_FALSE(element_count(negative).has_value());
  const std::array<int64_t, 3> huge{int64_t{1} << 30, int64_t{1} << 30, int64_t{1} << 4};
  CHECK_FALSE(element_count(huge).has_value());
  const std::array<int64_t, 2> zero{0, int64_t{1} << 62};
  CHECK(element_count(zero) == 0);
}

TEST_CASE("owning tensors check their size and widen to f32") {
  const std::array<float, 3> values{1.5f, -2.0f, 3.25f};
  const auto tensor = Tensor::from_values<float>(DType::f32, {3}, values);
  CHECK(tensor.elements() == 3);
  CHECK(tensor.data<float>()[2] == 3.25f);
  CHECK(tensor.to_f32() == std::vector<float>{1.5f, -2.0f, 3.25f});
  CHECK_THROWS_AS(tensor.data<double>(), Error);
  CHECK_THROWS_AS(Tensor::owning(DType::f32, {4}, std::vector<std::byte>(12)), Error);

  const std::array<uint16_t, 2> halves{0x3c00, 0xc000};
  CHECK(Tensor::from_values<uint16_t>(DType::f16, {2}, halves).to_f32() == std::vector<float>{1.0f, -2.0f});
  CHECK(Tensor::from_values<uint16_t>(DType::bf16, {2}, std::array<uint16_t, 2>{0x3f80, 0x4000}).to_f32() ==
        std::vector<float>{1.0f, 2.0f});
  CHECK(Tensor::owning(DType::i4, {3}, std::vector<std::byte>(2)).bytes().size() == 2);
}

TEST_CASE("views share the mapping and read the file's bytes without copying") {
  const fs::path path = fs::temp_directory_path() / "edgec_tensor_view_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    const std::array<float, 4> values{0.0f, 1.0f, 2.0f, 3.0f};
    out.write(reinterpret_cast<const char*>(values.data()), sizeof(values));
  }
  Tensor view;
  {
    const auto file = MappedFile::open(path);
    view = Tensor::view(DType::f32, {2}, file, 8, 8);
    CHECK(view.bytes().data() == file->bytes().data() + 8);
    CHECK_THROWS_AS(Tensor::view(DType::f32, {2}, file, 12, 8), Error);
  }
  // The mapping outlives the local shared_ptr because the view holds it.
  CHECK(view.is_view());
  CHECK(view.to_f32() == std::vector<float>{2.0f, 3.0f});
  fs::remove(path);
}

TEST_CASE("MappedFile errors name the path and are input errors") {
  try {
    MappedFile::open("/nonexistent/edgec/file.bin");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    CHECK(std::string(e.what()).starts_with("/nonexistent/edgec/file.bin: cannot open"));
  }
  CHECK_THROWS_AS(MappedFile::open(fs::temp_directory_path()), Error);  // a folder
  const fs::path empty = fs::temp_directory_path() / "edgec_empty_file.bin";
  std::ofstream(empty).close();
  CHECK(MappedFile::open(empty)->size() == 0);
  fs::remove(empty);
}
