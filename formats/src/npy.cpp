#include "edgec/formats/npy.hpp"

#include <fstream>
#include <optional>
#include <cctype>

#include "edgec/core/error.hpp"

namespace edgec::npy {
namespace {

struct DescrEntry {
  const char* descr;
  DType dtype;
};
// '|' is NumPy's "byte order not applicable" for one-byte types.
constexpr DescrEntry kDescrs[] = {{"<f4", DType::f32}, {"<f8", DType::f64}, {"<f2", DType::f16}, {"|i1", DType::i8},
                                  {"|u1", DType::u8},  {"<i2", DType::i16}, {"<u2", DType::u16}, {"<i4", DType::i32},
                                  {"<u4", DType::u32}, {"<i8", DType::i64}, {"<u8", DType::u64}, {"|b1", DType::boolean}};

std::optional<DType> dtype_of(const std::string& descr) {
  for (const auto& entry : kDescrs)
    if (descr == entry.descr) return entry.dtype;
  return std::nullopt;
}

const char* descr_of(DType dtype) {
  for (const auto& entry : kDescrs)
    if (entry.dtype == dtype) return entry.descr;
  return nullptr;
}

// The value of 'key' in the header dict: a quoted string, a (tuple) or a bare word (True/False). A small
// hand parser: the header is a Python dict literal written by numpy, not general Python.
std::string dict_value(const std::string& header, const std::string& key, const std::string& where) {
  size_t at = std::string::npos;
  for (const char quote : {'\'', '"'}) {
    const size_t found = header.find(std::string(1, quote) + key + quote);
    if (found != std::string::npos) at = found + key.size() + 2;
  }
  if (at == std::string::npos) throw_input_error(where + ": header", "no '" + key + "' entry in " + header);
  at = header.find_first_not_of(" \t", at);
  if (at == std::string::npos || header[at] != ':') throw_input_error(where + ": header", "malformed entry '" + key + "' in " + header);
  at = header.find_first_not_of(" \t", at + 1);
  if (at == std::string::npos) throw_input_error(where + ": header", "no value for '" + key + "'");
  const char open = header[at];
  const char close = open == '(' ? ')' : open == '\'' || open == '"' ? open : '\0';
  size_t end = close ? header.find(close, at + 1) : header.find_first_of(",}", at);
  if (end == std::string::npos) throw_input_error(where + ": header", "unterminated value for '" + key + "'");
  if (close) ++end;
  std::string value = header.substr(at, end - at);
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

}  // namespace

Tensor read(const std::filesystem::path& file) {
  const std::string where = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) throw_input_error(where, "cannot open");
  char magic[8] = {};
  if (!in.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    throw_input_error(where, "not a .npy file (missing the \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(magic[6]);
  if (major < 1 || major > 3) throw_input_error(where, "unsupported .npy version " + std::to_string(major));
  uint32_t header_length = 0;
  unsigned char length_bytes[4] = {};
  const int length_size = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char*>(length_bytes), length_size)) throw_input_error(where, "truncated header length");
  for (int i = length_size - 1; i >= 0; --i) header_length = header_length * 256 + length_bytes[i];
  if (header_length > (1u << 20)) throw_input_error(where, "header length " + std::to_string(header_length) + " is implausible");
  std::string header(header_length, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_length))) throw_input_error(where, "truncated header");

  std::string descr = dict_value(header, "descr", where);
  descr = descr.substr(1, descr.size() - 2);
  if (descr.size() == 3 && descr[0] == '=') descr[0] = descr[2] == '1' ? '|' : '<';
  if (descr.size() == 3 && descr[0] == '<' && descr[2] == '1') descr[0] = '|';
  const auto dtype = dtype_of(descr);
  if (!dtype) throw_input_error(where + ": descr", "dtype '" + descr + "' is not supported (little-endian numeric or bool)");
  if (dict_value(header, "fortran_order", where) != "False") throw_input_error(where + ": fortran_order", "Fortran order is not supported; save C order");
  const std::string shape_text = dict_value(header, "shape", where);
  std::vector<int64_t> dims;
  if (shape_text.empty() || shape_text.front() != '(') throw_input_error(where + ": shape", "expected a tuple, got " + shape_text);
  for (size_t i = 1; i < shape_text.size();) {
    if (std::isdigit(static_cast<unsigned char>(shape_text[i]))) {
      size_t used = 0;
      dims.push_back(std::stoll(shape_text.substr(i, 18), &used));
      i += used;
    } else if (shape_text[i] == ',' || shape_text[i] == ' ' || shape_text[i] == ')') {
      ++i;
    } else {
      throw_input_error(where + ": shape", "expected non-negative integers, got " + shape_text);
    }
  }
  const auto count = element_count(dims);
  const auto bytes = count ? dtype_storage_bytes(*dtype, static_cast<uint64_t>(*count)) : std::nullopt;
  if (!bytes || *bytes > (size_t{1} << 40)) throw_input_error(where + ": shape", "shape " + shape_text + " is too large");
  std::vector<std::byte> data(*bytes);
  if (!data.empty() && !in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
    throw_input_error(where, "data truncated: shape " + dims_to_string(dims) + " needs " + std::to_string(*bytes) + " bytes");
  if (in.peek() != std::char_traits<char>::eof())
    throw_input_error(where, "trailing bytes after the " + std::to_string(*bytes) + " data bytes of shape " + dims_to_string(dims));
  return Tensor::owning(*dtype, std::move(dims), std::move(data));
}

void write(const std::filesystem::path& file, const Tensor& tensor) {
  const char* descr = descr_of(tensor.dtype());
  if (!descr) throw Error(ErrorCategory::input, file.string() + ": cannot write dtype " + std::string(dtype_name(tensor.dtype())) + " to .npy");
  std::string shape = "(";
  for (const int64_t d : tensor.dims()) shape += std::to_string(d) + ",";
  if (tensor.dims().size() > 1) shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic + version + length + header + '\n' must be a multiple of 64 bytes.
  const bool v2 = header.size() + 11 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(file, std::ios::binary);
  if (!out) throw_input_error(file.string(), "cannot create the output file");
  out.write("\x93NUMPY", 6);
  out.put(static_cast<char>(v2 ? 2 : 1));
  out.put(0);
  const auto length = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xff));
  out << header;
  const auto bytes = tensor.bytes();
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw_input_error(file.string(), "write failed");
}

}  // namespace edgec::npy
