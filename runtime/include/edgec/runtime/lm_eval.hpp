#pragma once
// Language-model accuracy on a token stream: perplexity of a model and, against a reference (the fp32 model a
// compressed one came from), the mean KL(reference || model) per token and the top-1 agreement.
//
// The protocol (stories260k/eval/README.md): the stream is cut into non-overlapping windows of `window` tokens
// (an incomplete tail is dropped); each window runs on its own from position 0 (no state carried between
// windows) and every next-token prediction inside it is scored, window - 1 per window. For stories260k's
// heldout_ids.i32 (24,014 tokens) and window 256: 93 windows, 23,715 predictions, fp32 perplexity 57.96.
//
// Statistics are computed in double from log-softmax of the f32 logits and summed in a fixed order (window by
// window, position by position), so the result does not depend on the thread count.
#include <cstdint>
#include <span>
#include <string>

#include "edgec/core/graph.hpp"

namespace edgec::runtime {

struct LmEvalOptions {
  int64_t window = 256;           // tokens per window (>= 2); window - 1 scored predictions each
  int64_t limit = -1;             // at most this many windows (<= 0: all)
  std::string source = "tokens";  // names the token stream in error messages (the CLI passes the file)
};

struct LmEvalResult {
  int64_t windows = 0;
  int64_t predictions = 0;         // windows * (window - 1)
  double nll = 0;                  // mean negative log-likelihood of the next token, nats/token
  double perplexity = 0;           // exp(nll)
  bool has_reference = false;      // the fields below are set only with a reference
  double reference_nll = 0;
  double reference_perplexity = 0;
  double kl = 0;                   // mean KL(reference || model) over the predictions, nats/token
  double top1_agreement = 0;       // fraction of predictions where both argmaxes (first index on ties) agree
};

// Sums per-prediction statistics in the order they are added. For callers that produce logits themselves
// (e.g. a fake-quantized executor); evaluate_lm() uses it too.
class LmEvalAccumulator {
 public:
  // One window: `tokens` its S ids, `logits` [S, vocab] row-major (row t scores tokens[t + 1]; the last row is
  // not used), `reference` the reference's logits of the same shape, or empty. Ids must be in [0, vocab).
  void add_window(std::span<const int64_t> tokens, std::span<const float> logits, std::span<const float> reference,
                  int64_t vocab);
  LmEvalResult result() const;

 private:
  int64_t windows_ = 0, predictions_ = 0, agree_ = 0;
  bool reference_ = false;
  double nll_ = 0, reference_nll_ = 0, kl_ = 0;
};

// Windows a stream of `tokens` ids gives: min(tokens / window, limit).
int64_t lm_eval_window_count(int64_t tokens, const LmEvalOptions& options);

// Runs `model` (and `reference`, if not null) window by window and scores them. Both are causal LM graphs as
// GraphCausalModel takes (inputs input_ids and position_ids, output logits [B, S, V]) without image input, with
// the same vocabulary. Only one window's logits per model are alive at a time.
// Throws Error(usage) for window < 2; Error(input) naming options.source when the stream holds fewer tokens
// than one window or an id of the scored windows is outside [0, vocab), and for graphs that do not fit.
LmEvalResult evaluate_lm(const Graph& model, const Graph* reference, std::span<const int64_t> tokens,
                         const LmEvalOptions& options = {});
LmEvalResult evaluate_lm(const Graph& model, const Graph* reference, std::span<const int32_t> tokens,
                         const LmEvalOptions& options = {});

}  // namespace edgec::runtime
