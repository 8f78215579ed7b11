// PP-OCRv4 latency on the reference executor: recognition of one 48x320 text-line crop, detection of the page,
// and the whole page (detect, crop, recognise). Each is run --runs times after one warm-up; the median, min and
// max are printed as a table, or as JSON with --json.
//
// Usage: bench_ocr [--runs N] [--json] [--models DIR] [--image PNG]
// Defaults: .cache/ppocr and .cache/ocr-images/tesseract-sys-img.png (scripts/fetch-test-data.sh).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/core/allocator.hpp"
#include "edgec/core/parallel.hpp"
#include "edgec/formats/image.hpp"
#include "edgec/runtime/ppocr.hpp"

namespace fs = std::filesystem;
namespace ppocr = edgec::runtime::ppocr;

namespace {

struct Result {
  std::string name;
  std::string shape;
  std::vector<double> ms;  // sorted
  double median() const { return ms[ms.size() / 2]; }
};

Result measure(const std::string& name, const std::string& shape, int runs, const std::function<void()>& work) {
  work();  // warm-up: first-touch allocations, page faults of the mapped weights
  Result result{name, shape, {}};
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    work();
    result.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(result.ms.begin(), result.ms.end());
  return result;
}

int usage(const char* why) {
  std::cerr << "bench_ocr: " << why << "\nusage: bench_ocr [--runs N] [--json] [--models DIR] [--image PNG]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  edgec::keep_freed_memory_for_reuse();
  edgec::ThreadPool pool;  // every CPU
  const edgec::ParallelScope scope(&pool);
  int runs = 7;
  bool json = false;
  fs::path models = fs::path(EDGEC_SOURCE_DIR) / ".cache" / "ppocr";
  fs::path image_path = fs::path(EDGEC_SOURCE_DIR) / ".cache" / "ocr-images" / "tesseract-sys-img.png";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") json = true;
    else if (arg == "--runs" && has_value) runs = std::atoi(argv[++i]);
    else if (arg == "--models" && has_value) models = argv[++i];
    else if (arg == "--image" && has_value) image_path = argv[++i];
    else return usage(("unknown argument " + arg).c_str());
  }
  if (runs < 1) return usage("--runs must be at least 1");
  try {
    const ppocr::PpOcr ocr(models);
    const edgec::Image page = edgec::load_image(image_path);
    const auto boxes = ocr.detect(page);
    if (boxes.empty()) throw edgec::Error(edgec::ErrorCategory::input, image_path.string() + ": no text detected");
    // One line crop resized to exactly 48 x 320 (the recogniser's minimum width).
    const ppocr::Box first = boxes.front();
    const int crop_height = first.y1 - first.y0;
    const int crop_width = std::min(first.x1 - first.x0, crop_height * 320 / 48);
    const edgec::Image line = ppocr::crop_box(page, {first.x0, first.y0, first.x0 + crop_width, first.y1, 1});
    const auto rec_shape = ppocr::rec_preprocess(line).dims();
    const auto det_shape = ppocr::det_preprocess(page).dims();
    const auto dims = [](const std::vector<int64_t>& d) {
      std::string s;
      for (const int64_t v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
      return s;
    };

    std::vector<Result> results;
    results.push_back(measure("rec one line", dims(rec_shape), runs, [&] { (void)ocr.recognize(line); }));
    results.push_back(measure("det page", dims(det_shape), runs, [&] { (void)ocr.detect(page); }));
    size_t line_count = 0;
    results.push_back(measure("page (det + " + std::to_string(boxes.size()) + " rec)",
                              std::to_string(page.width) + "x" + std::to_string(page.height), runs,
                              [&] { line_count = ocr.read(page).size(); }));

    const unsigned threads = std::thread::hardware_concurrency();
    if (json) {
      nlohmann::ordered_json out;
      out["benchmark"] = "bench_ocr";
      out["image"] = image_path.string();
      out["runs"] = runs;
      out["hardware_threads"] = threads;
      out["lines_read"] = line_count;
      for (const auto& r : results)
        out["results"].push_back({{"name", r.name}, {"input", r.shape}, {"median_ms", r.median()},
                                  {"min_ms", r.ms.front()}, {"max_ms", r.ms.back()}});
      std::cout << out.dump(2) << "\n";
    } else {
      std::cout << "PP-OCRv4 on the reference executor, " << runs << " runs after a warm-up, " << threads
                << " hardware threads; image " << image_path.filename().string() << " (" << line_count
                << " lines read)\n";
      std::cout << std::left << std::setw(22) << "step" << std::setw(16) << "input" << std::right << std::setw(12)
                << "median ms" << std::setw(10) << "min ms" << std::setw(10) << "max ms" << "\n";
      for (const auto& r : results)
        std::cout << std::left << std::setw(22) << r.name << std::setw(16) << r.shape << std::right << std::fixed
                  << std::setprecision(1) << std::setw(12) << r.median() << std::setw(10) << r.ms.front()
                  << std::setw(10) << r.ms.back() << "\n";
    }
  } catch (const edgec::Error& e) {
    std::cerr << "bench_ocr: " << e.what() << "\n";
    return edgec::exit_code(e.category());
  }
  return 0;
}
