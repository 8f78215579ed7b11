// Language-model perplexity, KL(reference || model) and top-1 agreement over non-overlapping windows of a token
// stream (see lm_eval.hpp). Each window is one full-sequence run of GraphCausalModel (no KV cache), whose
// logits at every position are scored and dropped before the next window.
#include "edgec/runtime/lm_eval.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "edgec/core/error.hpp"
#include "edgec/runtime/generation.hpp"

namespace edgec::runtime {
namespace {

// log(sum(exp(x))) in double and the first index of the largest logit.
struct RowSummary {
  double log_z = 0;
  int64_t argmax = 0;
};

RowSummary summarize(const float* x, int64_t vocab) {
  RowSummary row;
  double top = x[0];
  for (int64_t v = 1; v < vocab; ++v)
    if (x[v] > top) {
      top = x[v];
      row.argmax = v;
    }
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(x[v]) - top);
  row.log_z = top + std::log(sum);
  return row;
}

// KL(p || q) = sum_v p(v) (log p(v) - log q(v)) with log p = p_logits - p_log_z (log-softmax in double).
double kl_divergence(const float* p_logits, double p_log_z, const float* q_logits, double q_log_z, int64_t vocab) {
  double kl = 0;
  for (int64_t v = 0; v < vocab; ++v) {
    const double log_p = static_cast<double>(p_logits[v]) - p_log_z;
    const double log_q = static_cast<double>(q_logits[v]) - q_log_z;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return kl;
}

// The vocabulary size: the width of the logits for a one-token sequence (id 0 at position 0).
int64_t probe_vocab(GraphCausalModel& model) {
  const HostTensor logits = model.prefill({{0}}, nullptr);
  return logits.dims().at(1);
}

void check_text_model(const GraphCausalModel& model, const Graph& graph) {
  if (model.takes_images())
    throw Error(ErrorCategory::input, "lm eval: graph '" + graph.name +
                                          "' takes pixel_values; perplexity is measured on text-only causal LMs");
}

}  // namespace

void LmEvalAccumulator::add_window(std::span<const int64_t> tokens, std::span<const float> logits,
                                   std::span<const float> reference, int64_t vocab) {
  const auto length = static_cast<int64_t>(tokens.size());
  if (vocab <= 0 || static_cast<int64_t>(logits.size()) != length * vocab)
    throw Error(ErrorCategory::input, "lm eval: " + std::to_string(logits.size()) + " logits for a window of " +
                                          std::to_string(length) + " tokens x vocabulary " + std::to_string(vocab));
  const bool with_reference = !reference.empty();
  if (with_reference && reference.size() != logits.size())
    throw Error(ErrorCategory::input, "lm eval: the reference gave " + std::to_string(reference.size()) +
                                          " logits for a window, the model " + std::to_string(logits.size()));
  if (windows_ > 0 && with_reference != reference_)
    throw Error(ErrorCategory::internal, "lm eval: every window must come with a reference, or none");
  reference_ = with_reference;
  for (int64_t t = 0; t + 1 < length; ++t) {
    const int64_t target = tokens[static_cast<size_t>(t + 1)];
    if (target < 0 || target >= vocab)
      throw Error(ErrorCategory::input, "lm eval: token id " + std::to_string(target) + " is outside the vocabulary [0, " +
                                            std::to_string(vocab) + ")");
    const float* row = logits.data() + t * vocab;
    const RowSummary model_row = summarize(row, vocab);
    nll_ += model_row.log_z - static_cast<double>(row[target]);
    if (with_reference) {
      const float* ref_row = reference.data() + t * vocab;
      const RowSummary ref_row_summary = summarize(ref_row, vocab);
      reference_nll_ += ref_row_summary.log_z - static_cast<double>(ref_row[target]);
      kl_ += kl_divergence(ref_row, ref_row_summary.log_z, row, model_row.log_z, vocab);
      agree_ += ref_row_summary.argmax == model_row.argmax;
    }
    ++predictions_;
  }
  ++windows_;
}

LmEvalResult LmEvalAccumulator::result() const {
  LmEvalResult result;
  result.windows = windows_;
  result.predictions = predictions_;
  result.has_reference = reference_;
  const double n = static_cast<double>(predictions_);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  result.nll = predictions_ ? nll_ / n : nan;
  result.perplexity = std::exp(result.nll);
  if (reference_) {
    result.reference_nll = predictions_ ? reference_nll_ / n : nan;
    result.reference_perplexity = std::exp(result.reference_nll);
    result.kl = predictions_ ? kl_ / n : nan;
    result.top1_agreement = predictions_ ? static_cast<double>(agree_) / n : nan;
  }
  return result;
}

int64_t lm_eval_window_count(int64_t tokens, const LmEvalOptions& options) {
  if (options.window < 2)
    throw Error(ErrorCategory::usage, "lm eval: the window must hold at least 2 tokens, got " + std::to_string(options.window));
  const int64_t whole = tokens / options.window;
  return options.limit > 0 && options.limit < whole ? options.limit : whole;
}

LmEvalResult evaluate_lm(const Graph& model, const Graph* reference, std::span<const int64_t> tokens,
                         const LmEvalOptions& options) {
  const int64_t windows = lm_eval_window_count(static_cast<int64_t>(tokens.size()), options);
  const int64_t window = options.window;
  if (windows == 0)
    throw_input_error(options.source, "holds " + std::to_string(tokens.size()) + " tokens, fewer than one window of " +
                                          std::to_string(window));
  GraphCausalModel lm(model, /*use_kv_cache=*/false);
  check_text_model(lm, model);
  const int64_t vocab = probe_vocab(lm);
  std::unique_ptr<GraphCausalModel> ref;
  if (reference) {
    ref = std::make_unique<GraphCausalModel>(*reference, /*use_kv_cache=*/false);
    check_text_model(*ref, *reference);
    const int64_t ref_vocab = probe_vocab(*ref);
    if (ref_vocab != vocab)
      throw Error(ErrorCategory::input, "lm eval: the model's vocabulary has " + std::to_string(vocab) +
                                            " tokens, the reference's " + std::to_string(ref_vocab));
  }
  // Every id the scored windows use, before anything long runs: the message names the stream and the index.
  for (int64_t i = 0; i < windows * window; ++i) {
    const int64_t id = tokens[static_cast<size_t>(i)];
    if (id < 0 || id >= vocab)
      throw_input_error(options.source, "token id " + std::to_string(id) + " at index " + std::to_string(i) +
                                            " is outside the model's vocabulary [0, " + std::to_string(vocab) + ")");
  }

  LmEvalAccumulator accumulator;
  const auto logits_of = [window, vocab](GraphCausalModel& m, const TokenRows& rows) {
    m.prefill(rows, nullptr);
    const HostTensor& all = m.last_logits();
    if (all.dtype() != DType::f32 || all.dims() != std::vector<int64_t>{1, window, vocab})
      throw Error(ErrorCategory::input, "lm eval: expected f32 logits [1," + std::to_string(window) + "," +
                                            std::to_string(vocab) + "], got " + describe(all));
    return all;
  };
  for (int64_t w = 0; w < windows; ++w) {
    const auto ids = tokens.subspan(static_cast<size_t>(w * window), static_cast<size_t>(window));
    const TokenRows rows{std::vector<int64_t>(ids.begin(), ids.end())};
    const HostTensor logits = logits_of(lm, rows);
    HostTensor ref_logits;
    if (ref) ref_logits = logits_of(*ref, rows);
    accumulator.add_window(ids, logits.span<float>(), ref ? ref_logits.span<float>() : std::span<const float>{}, vocab);
  }
  return accumulator.result();
}

LmEvalResult evaluate_lm(const Graph& model, const Graph* reference, std::span<const int32_t> tokens,
                         const LmEvalOptions& options) {
  const std::vector<int64_t> wide(tokens.begin(), tokens.end());
  return evaluate_lm(model, reference, std::span<const int64_t>(wide), options);
}

}  // namespace edgec::runtime
