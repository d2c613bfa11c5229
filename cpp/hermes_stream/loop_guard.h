// Loop guard: exact online detection of a degenerate repeating reasoning trace.
//
// Rule (docs/design.md, "Loop guard"): after unit n of a reasoning region, let run(p) be the
// number of consecutive positions i, ending at n-1, with x[i] == x[i-p]; the periodic suffix of
// period p then has L(p) = run(p) + p units. The rule holds for p when 1 <= p <= max_period,
// L(p) >= min_repeats * p and L(p) >= min_span. The detector reports the first unit at which the
// rule holds for some p (the smallest such p), exactly; the reference
// (python/hermes_stream/reference/loop_guard.py) checks every p and must agree.
//
// Algorithm (sum over p of 1/s(p) checks per unit, about 0.5 with the defaults; memory
// O(max_period)):
//  * discovery: period p is checked every s(p) units,
//    s(p) = min(need(p) - p, 6 max_period - 2, max(16p, 64)), where need(p) = max((min_repeats - 1)
//    * p, min_span - p) is the run the rule needs (a calendar queue visits exactly the due
//    periods). The check compares the last p units with the p before them, newest first, stopping
//    at the first difference (on ordinary text, the first comparison). A run of period p is
//    therefore found by the time run(p) = p + s(p) - 1 < need(p), before the rule can hold, and its
//    exact length is then counted back (at most p + s(p) units, all inside the ring of >= 2
//    max_period + max s + 2 units).
//  * tracking: a found period stays "active" and its run grows by one comparison per unit until
//    it breaks; the rule is checked on active periods only.
//  * pruning: a period q is not activated while an active c < q with c | q has run(c) >= q:
//    then L(q) <= L(c) (so q can only qualify together with c, which is smaller), and when c's
//    run breaks, q's breaks at the same unit.
#ifndef HERMES_STREAM_LOOP_GUARD_H_
#define HERMES_STREAM_LOOP_GUARD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hermes_stream {

/// A detected loop. Offsets count units (token ids or bytes) of reasoning; `start` and `end` are
/// relative to what the caller chose (the detector itself counts from its last Reset()).
struct LoopInfo {
  std::int64_t period = 0;   // units in the repeated span
  std::int64_t repeats = 0;  // (end - start) / period, full repetitions
  std::int64_t start = 0;    // first unit of the periodic suffix
  std::int64_t end = 0;      // one past the unit that completed the rule
};

/// Guard settings as the parser receives them (units resolved by the Python layer).
struct LoopGuardOptions {
  bool enabled = false;
  std::int64_t min_repeats = 8;
  std::int64_t max_period_tokens = 256;
  std::int64_t min_span_tokens = 512;
  std::int64_t max_period_bytes = 1024;
  std::int64_t min_span_bytes = 2048;
  bool close = false;  // on_loop="close"
};

class LoopDetector {
 public:
  /// Throws std::invalid_argument unless min_repeats >= 3, max_period >= 1, min_span >= 1.
  LoopDetector(std::int64_t min_repeats, std::int64_t max_period, std::int64_t min_span);

  /// The constructor's checks alone (no allocation).
  static void Validate(std::int64_t min_repeats, std::int64_t max_period, std::int64_t min_span);

  /// Start a new sequence (a new reasoning region).
  void Reset();

  /// Append one unit (a token id or a byte; only its low 32 bits are compared, and token ids are
  /// below the vocabulary size). Returns true at the unit where the rule first holds (info() is
  /// then set); afterwards every Push is ignored (returns false) until Reset().
  bool Push(std::int64_t unit);

  /// Push bytes[0..n) as units, stopping at a detection: returns how many were pushed up to and
  /// including the one that met the rule (then done()), or n.
  std::size_t PushBytes(const char* bytes, std::size_t n);

  bool done() const { return done_; }
  std::int64_t size() const { return n_; }
  const LoopInfo& info() const { return info_; }

 private:
  struct Active {
    std::int32_t period;
    std::int64_t run;
  };
  std::int64_t Need(std::int64_t p) const;
  bool PushOne(std::uint32_t u);
  std::uint32_t At(std::int64_t i) const { return ring_[static_cast<std::size_t>(i) & mask_]; }
  void Check(std::int32_t p);

  std::int64_t min_repeats_;
  std::int32_t max_period_;
  std::int64_t min_span_;
  std::vector<std::uint32_t> ring_;  // the last ring_.size() units (a power of two)
  std::size_t mask_ = 0;
  std::int64_t n_ = 0;                // units since Reset()
  std::int32_t buckets_ = 0;          // calendar size: max s(p) + 1
  std::int32_t slot_ = 0;             // n_ % buckets_: the calendar bucket due now
  std::vector<std::int32_t> stride_;  // s(p)
  std::vector<std::int32_t> head_;    // calendar: first period due in each bucket, -1 if none
  std::vector<std::int32_t> next_;    // next period in the same bucket
  std::vector<Active> active_;
  std::vector<std::uint8_t> is_active_;
  bool done_ = false;
  LoopInfo info_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_LOOP_GUARD_H_
