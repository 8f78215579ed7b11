// fmnist-vlm-a end to end: quantized on Fashion-MNIST *training* images, greedy-captioned on the first
// kImages *test* images of its eval folder, exact-caption accuracy against the fp32 model on the same images:
//  - GPTQ W4 g32 (every linear layer of tower, projector and language model) within 1 point of fp32;
//  - at W2 g32 round-to-nearest loses accuracy visibly, and GPTQ wins back at least half of that loss;
//  - SmoothQuant W8A8 (8-bit per-channel weights, int8 per-token activations) within 1 point of fp32.
#include "quant_models.hpp"

using namespace edgec::test::quant_models;
using edgec::test::shared_model;

namespace {

constexpr int kImages = 1000;
constexpr int kSamples = 64;  // calibration images

}  // namespace

TEST_CASE("fmnist-vlm-a, first 1000 test images: GPTQ W4 and SmoothQuant W8A8 within 1 point of fp32, GPTQ W2 recovers RTN W2's loss") {
  const fs::path vlm = shared_model("fmnist-vlm-a");
  if (vlm.empty()) return;
  const fs::path train = fashion_mnist_train();
  if (train.empty()) return;
  ScratchDir tmp("vlm_accuracy");
  const std::string calibration = vlm_calibration(vlm, train, kSamples);
  quantize(vlm, "--method gptq --bits 4 --group 32 " + calibration, tmp / "gptq4");
  quantize(vlm, "--method rtn --bits 2 --group 32", tmp / "rtn2");
  quantize(vlm, "--method gptq --bits 2 --group 32 " + calibration, tmp / "gptq2");
  quantize(vlm, "--method smoothquant " + calibration, tmp / "sq");
  CHECK(quantization_report(tmp / "sq")["layers"][0]["scheme"] == "w8 per-channel sym f16-scales a8-per-token");

  const double fp32 = eval_captions(vlm, vlm, kImages)["exact_acc"];
  const double gptq4 = eval_captions(tmp / "gptq4", vlm, kImages)["exact_acc"];
  const double rtn2 = eval_captions(tmp / "rtn2", vlm, kImages)["exact_acc"];
  const double gptq2 = eval_captions(tmp / "gptq2", vlm, kImages)["exact_acc"];
  const double sq = eval_captions(tmp / "sq", vlm, kImages)["exact_acc"];
  MESSAGE("exact_acc on " << kImages << " test images: fp32 " << fp32 << ", GPTQ W4 g32 " << gptq4 << ", RTN W2 g32 " << rtn2
                          << ", GPTQ W2 g32 " << gptq2 << ", SmoothQuant W8A8 " << sq);
  CHECK(fp32 > 0.8);
  CHECK(std::abs(gptq4 - fp32) <= 0.01);
  CHECK(std::abs(sq - fp32) <= 0.01);
  const double rtn_loss = fp32 - rtn2;
  CHECK_MESSAGE(rtn_loss >= 0.02, "RTN W2 g32 loses only " << rtn_loss << " on these images: too few to show recovery");
  CHECK(fp32 - gptq2 <= 0.5 * rtn_loss);
}
