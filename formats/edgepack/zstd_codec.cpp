#include "edgepack/zstd_codec.hpp"

#include <zstd.h>

#include <algorithm>
#include <memory>

#include "edgec/core/error.hpp"

namespace edgec::edgepack {
namespace {

struct CctxFree {
  void operator()(ZSTD_CCtx* context) const { ZSTD_freeCCtx(context); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* context) const { ZSTD_freeDCtx(context); }
};

void check_zstd(size_t result, const char* step) {
  if (ZSTD_isError(result))
    throw Error(ErrorCategory::internal, std::string("zstd ") + step + ": " + ZSTD_getErrorName(result));
}

}  // namespace

std::vector<std::byte> zstd_compress(std::span<const std::byte> raw) {
  const std::unique_ptr<ZSTD_CCtx, CctxFree> context(ZSTD_createCCtx());
  if (!context) throw Error(ErrorCategory::internal, "zstd: cannot create a compression context");
  // Every parameter that shapes the frame is set explicitly, so a changed library default cannot change bytes.
  check_zstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, kZstdLevel), "level");
  check_zstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_nbWorkers, 0), "workers");
  check_zstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 0), "checksum flag");
  check_zstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_contentSizeFlag, 1), "content size flag");
  check_zstd(ZSTD_CCtx_setParameter(context.get(), ZSTD_c_dictIDFlag, 0), "dictionary id flag");
  std::vector<std::byte> frame(ZSTD_compressBound(raw.size()));
  const size_t size = ZSTD_compress2(context.get(), frame.data(), frame.size(), raw.data(), raw.size());
  check_zstd(size, "compress");
  frame.resize(size);
  return frame;
}

std::vector<std::byte> zstd_decompress(std::span<const std::byte> frame, uint64_t size, const std::string& where,
                                       const std::string& what) {
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) throw_input_error(where, what + ": not a zstd frame");
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) throw_input_error(where, what + ": the zstd frame does not record its size");
  if (declared != size)
    throw_input_error(where, what + ": the zstd frame holds " + std::to_string(declared) + " bytes, the manifest says " +
                                 std::to_string(size));
  const size_t frame_size = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frame_size)) throw_input_error(where, what + ": truncated zstd frame (" + ZSTD_getErrorName(frame_size) + ")");
  if (frame_size != frame.size())
    throw_input_error(where, what + ": " + std::to_string(frame.size() - frame_size) + " bytes follow the zstd frame");
  const std::unique_ptr<ZSTD_DCtx, DctxFree> context(ZSTD_createDCtx());
  if (!context) throw Error(ErrorCategory::internal, "zstd: cannot create a decompression context");
  auto corrupt = [&](size_t code) {
    throw_input_error(where, what + ": corrupt zstd frame (" + ZSTD_getErrorName(code) + ")");
  };

  // The manifest's size is within kZstdMaxRatio of the frame (checked when the container was opened), and the
  // frame itself declares that size: the allocation is what a genuine frame of this length can produce.
  std::vector<std::byte> out(static_cast<size_t>(size));
  const size_t produced = ZSTD_decompressDCtx(context.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(produced)) corrupt(produced);
  if (produced != size)
    throw_input_error(where, what + ": the zstd frame gave " + std::to_string(produced) + " bytes, expected " + std::to_string(size));
  return out;
}

}  // namespace edgec::edgepack
