// Every recipe under recipes/broken/ fails with exactly the message of its .expected file (every line
// `FILE:LINE:COL: message`, the file named as passed: NAME.yaml), as Error(usage). NAME.args holds `--set`
// arguments, one a line. Recipes that validate are run through preflight against the synthetic graph, so
// pattern, group and overlap errors are covered too. `${RECIPES}` in an .expected file stands for tests/pipeline/recipes.
#include <algorithm>
#include <set>

#include "edgec/pipeline/preflight.hpp"
#include "edgec/pipeline/recipe.hpp"
#include "recipe_test_support.hpp"
#include "synthetic_model.hpp"

namespace edgec::pipeline::test {
namespace {

fs::path broken_dir() { return recipes_dir() / "broken"; }

std::vector<fs::path> broken_recipes() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(broken_dir()))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string expected_message(const fs::path& recipe) {
  std::string text = read_text(fs::path(recipe).replace_extension(".expected"));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const std::string folder = recipes_dir().lexically_normal().string();
  for (size_t at; (at = text.find("${RECIPES}")) != std::string::npos;) text.replace(at, 10, folder);
  return text;
}

std::string actual_message(const fs::path& recipe) {
  const Graph graph = synthetic_llama();
  return usage_error([&] {
    const Recipe parsed = parse_recipe(read_text(recipe), recipe.filename().string(), recipe.parent_path(),
                                       read_lines(fs::path(recipe).replace_extension(".args")));
    preflight(parsed, graph);
  });
}

TEST_CASE("broken recipes: each fails with exactly its .expected message, as a usage error (exit 2)") {
  const auto files = broken_recipes();
  CHECK(files.size() >= 35);
  for (const fs::path& file : files) {
    INFO("recipe: " << file.filename().string());
    REQUIRE_MESSAGE(fs::exists(fs::path(file).replace_extension(".expected")), "missing " << file.stem().string() << ".expected");
    CHECK(actual_message(file) == expected_message(file));
  }
}

TEST_CASE("broken recipes: every .expected and .args file belongs to a recipe") {
  std::set<std::string> recipes;
  for (const fs::path& file : broken_recipes()) recipes.insert(file.stem().string());
  for (const auto& entry : fs::directory_iterator(broken_dir())) {
    const auto ext = entry.path().extension();
    if (ext == ".expected" || ext == ".args") CHECK_MESSAGE(recipes.count(entry.path().stem().string()) == 1, entry.path().filename().string());
  }
}

TEST_CASE("broken recipes: several problems are reported together, sorted by line") {
  const std::string message = actual_message(broken_dir() / "many_errors.yaml");
  const auto lines = std::count(message.begin(), message.end(), '\n') + 1;
  CHECK(lines >= 5);
  int previous = 0;
  for (size_t start = 0; start < message.size();) {
    const size_t end = std::min(message.find('\n', start), message.size());
    const std::string line = message.substr(start, end - start);
    const size_t colon = line.find(':');
    const int number = std::stoi(line.substr(colon + 1));
    CHECK(number >= previous);
    previous = number;
    start = end + 1;
  }
}

}  // namespace
}  // namespace edgec::pipeline::test
