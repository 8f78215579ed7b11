// `edgec inspect --json` on every ONNX model of libonnx-testdata and every PP-OCR model: each must succeed
// and report exactly one graph with at least one node, and parameters consistent with its components.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "run_command.hpp"
#include "test_paths.hpp"

namespace fs = std::filesystem;

TEST_CASE("inspect walks every libonnx-testdata and PP-OCR model") {
  std::vector<fs::path> models;
  const auto testdata = edgec::test::onnx_testdata();
  if (!testdata.empty())
    for (const auto& entry : fs::recursive_directory_iterator(testdata))
      if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  if (const auto ppocr = edgec::test::ppocr_models(); !ppocr.empty())
    for (const auto& entry : fs::directory_iterator(ppocr))
      if (entry.path().extension() == ".onnx") models.push_back(entry.path());
  if (models.empty()) return;
  std::sort(models.begin(), models.end());

  // One edgec process per model would take minutes under ASan; a shell loop writes one JSON document per line.
  const auto list = fs::temp_directory_path() / "edgec_walk_list.txt";
  {
    std::ofstream out(list);
    for (const auto& model : models) out << model.string() << '\n';
  }
  const auto result = edgec::test::run_command(
      "while IFS= read -r m; do " + edgec::test::edgec_binary() +
      " inspect --json \"$m\" | tr -d '\\n'; echo \" $?\"; done < '" + list.string() + "'");
  fs::remove(list);
  REQUIRE(result.exit_code == 0);

  std::istringstream lines(result.out);
  std::string line;
  size_t index = 0, failures = 0;
  while (std::getline(lines, line)) {
    REQUIRE(index < models.size());
    CAPTURE(models[index].string());
    const auto status_at = line.rfind(' ');
    const bool ok = status_at != std::string::npos && line.substr(status_at + 1) == "0";
    if (!ok) {
      ++failures;
      FAIL_CHECK("inspect failed: " << line);
    } else {
      const auto report = nlohmann::json::parse(line.substr(0, status_at));
      CHECK(report["graphs"].size() == 1);
      CHECK(report["graphs"][0]["nodes"].get<int64_t>() >= 1);
      int64_t sum = 0;
      for (const auto& component : report["components"]) sum += component["parameters"].get<int64_t>();
      CHECK(sum == report["parameters"].get<int64_t>());
    }
    ++index;
  }
  CHECK(index == models.size());
  CHECK(failures == 0);
  MESSAGE("inspected " << index << " models");
  if (!testdata.empty()) CHECK(models.size() > 1000);
}
