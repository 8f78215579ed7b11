// TensorProto -> Tensor for every data_type and storage field, including types newer than libonnx 1.12.
#include <cstring>
#include <functional>

#include "edgec/core/graph.hpp"
#include "onnx_test_support.hpp"

namespace fs = std::filesystem;
using namespace edgec;

namespace {

// Imports small_model() with initializer `w` replaced by `edit`'s tensor (the Add then reads a tensor of
// another type; import does not type-check ops).
Tensor import_w(const std::function<void(onnx::TensorProto&)>& edit) {
  auto model = test::small_model();
  auto* w = model.mutable_graph()->mutable_initializer(0);
  w->Clear();
  w->set_name("w");
  edit(*w);
  test::TempDir dir("tensor");
  test::write_model(dir / "m.onnx", model);
  return onnx_format::import_onnx_file(dir / "m.onnx").graphs.at(0).initializers.at("w");
}

std::vector<uint8_t> bytes_of(const Tensor& t) {
  std::vector<uint8_t> out(t.bytes().size());
  if (!out.empty()) std::memcpy(out.data(), t.bytes().data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("data types newer than libonnx 1.12 (float8, int4) import from raw_data and int32_data") {
  struct Case {
    int32_t data_type;
    DType dtype;
  };
  for (const Case c : {Case{17, DType::f8e4m3fn}, Case{18, DType::f8e4m3fnuz}, Case{19, DType::f8e5m2},
                       Case{20, DType::f8e5m2fnuz}}) {
    CAPTURE(c.data_type);
    const Tensor raw = import_w([&](onnx::TensorProto& w) {
      w.set_data_type(c.data_type);
      w.add_dims(3);
      w.set_raw_data(std::string("\x01\x7f\xff", 3));
    });
    CHECK(raw.dtype() == c.dtype);
    CHECK(bytes_of(raw) == std::vector<uint8_t>{0x01, 0x7f, 0xff});
    const Tensor typed = import_w([&](onnx::TensorProto& w) {
      w.set_data_type(c.data_type);
      w.add_dims(2);
      w.add_int32_data(0x38);
      w.add_int32_data(0xb8);
    });
    CHECK(bytes_of(typed) == std::vector<uint8_t>{0x38, 0xb8});
  }
  // 4-bit types: two elements per byte, low nibble first; 5 elements need 3 bytes.
  for (const Case c : {Case{21, DType::u4}, Case{22, DType::i4}}) {
    CAPTURE(c.data_type);
    const Tensor raw = import_w([&](onnx::TensorProto& w) {
      w.set_data_type(c.data_type);
      w.add_dims(5);
      w.set_raw_data(std::string("\x21\x43\x05", 3));
    });
    CHECK(raw.dtype() == c.dtype);
    CHECK(raw.elements() == 5);
    CHECK(bytes_of(raw) == std::vector<uint8_t>{0x21, 0x43, 0x05});
    const Tensor typed = import_w([&](onnx::TensorProto& w) {
      w.set_data_type(c.data_type);
      w.add_dims(5);
      for (const int v : {0x21, 0x43, 0x05}) w.add_int32_data(v);
    });
    CHECK(bytes_of(typed) == std::vector<uint8_t>{0x21, 0x43, 0x05});
  }
}

TEST_CASE("typed fields: every dtype reads its values from the field onnx.proto assigns") {
  const Tensor f16 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::FLOAT16);
    w.add_dims(2);
    w.add_int32_data(0x3c00);
    w.add_int32_data(0x4200);
  });
  CHECK(f16.to_f32() == std::vector<float>{1.0f, 3.0f});
  const Tensor bf16 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::BFLOAT16);
    w.add_dims(1);
    w.add_int32_data(0x3fc0);  // 1.5
  });
  CHECK(bf16.to_f32() == std::vector<float>{1.5f});
  const Tensor i8 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::INT8);
    w.add_dims(3);
    for (const int v : {-128, 0, 127}) w.add_int32_data(v);
  });
  CHECK(i8.to_f32() == std::vector<float>{-128, 0, 127});
  const Tensor u16 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::UINT16);
    w.add_dims(1);
    w.add_int32_data(65535);
  });
  CHECK(u16.data<uint16_t>()[0] == 65535);
  const Tensor i16 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::INT16);
    w.add_dims(1);
    w.add_int32_data(-300);
  });
  CHECK(i16.data<int16_t>()[0] == -300);
  const Tensor boolean = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::BOOL);
    w.add_dims(2);
    w.add_int32_data(1);
    w.add_int32_data(0);
  });
  CHECK(bytes_of(boolean) == std::vector<uint8_t>{1, 0});
  const Tensor i32 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::INT32);
    w.add_dims(1);
    w.add_int32_data(-123456);
  });
  CHECK(i32.data<int32_t>()[0] == -123456);
  const Tensor i64 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::INT64);
    w.add_dims(1);
    w.add_int64_data(int64_t{1} << 40);
  });
  CHECK(i64.data<int64_t>()[0] == int64_t{1} << 40);
  const Tensor u32 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::UINT32);
    w.add_dims(1);
    w.add_uint64_data(4000000000u);
  });
  CHECK(u32.data<uint32_t>()[0] == 4000000000u);
  const Tensor u64 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::UINT64);
    w.add_dims(1);
    w.add_uint64_data(~uint64_t{0});
  });
  CHECK(u64.data<uint64_t>()[0] == ~uint64_t{0});
  const Tensor f64 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::DOUBLE);
    w.add_dims(1);
    w.add_double_data(0.125);
  });
  CHECK(f64.data<double>()[0] == 0.125);
  const Tensor c64 = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::COMPLEX64);
    w.add_dims(1);
    w.add_float_data(1.0f);  // real
    w.add_float_data(-1.0f); // imaginary
  });
  CHECK(c64.bytes().size() == 8);
  const Tensor scalar = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::FLOAT);
    w.add_float_data(2.5f);
  });
  CHECK(scalar.dims().empty());
  CHECK(scalar.to_f32() == std::vector<float>{2.5f});
  const Tensor empty = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::FLOAT);
    w.add_dims(0);
    w.add_dims(4);
  });
  CHECK(empty.elements() == 0);
  CHECK(empty.bytes().empty());
  const Tensor strings = import_w([](onnx::TensorProto& w) {
    w.set_data_type(onnx::TensorProto::STRING);
    w.add_dims(2);
    w.add_string_data("");
    w.add_string_data("xyz");
  });
  CHECK(bytes_of(strings) == std::vector<uint8_t>{0, 0, 0, 0, 3, 0, 0, 0, 'x', 'y', 'z'});
}

TEST_CASE("export writes float8/int4 by number and raw_data that reimports byte-identically") {
  Graph graph;
  graph.name = "g";
  const std::vector<uint8_t> nibbles{0x21, 0x03};
  graph.initializers["q"] = Tensor::from_values<uint8_t>(DType::u4, {3}, nibbles);
  const std::vector<uint8_t> f8{0x01, 0x02};
  graph.initializers["e"] = Tensor::from_values<uint8_t>(DType::f8e5m2, {2}, f8);
  graph.outputs.push_back({"q", {}});
  graph.outputs.push_back({"e", {}});
  test::TempDir dir("tensor-export");
  onnx_format::export_onnx(graph, dir / "g.onnx");
  const auto proto = test::read_model(dir / "g.onnx");
  REQUIRE(proto.graph().initializer_size() == 2);
  CHECK(proto.graph().initializer(0).name() == "e");
  CHECK(proto.graph().initializer(0).data_type() == 19);
  CHECK(proto.graph().initializer(1).data_type() == 21);
  CHECK(proto.graph().initializer(1).raw_data() == std::string("\x21\x03", 2));
  const Model back = onnx_format::import_onnx_file(dir / "g.onnx");
  CHECK(bytes_of(back.graphs[0].initializers.at("q")) == std::vector<uint8_t>{0x21, 0x03});
  CHECK(back.graphs[0].initializers.at("e").dtype() == DType::f8e5m2);
}
