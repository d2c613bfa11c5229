#include "hermes_stream/loop_guard.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace hermes_stream {

void LoopDetector::Validate(std::int64_t min_repeats, std::int64_t max_period,
                            std::int64_t min_span) {
  if (min_repeats < 3 || min_repeats > (std::int64_t{1} << 20)) {
    throw std::invalid_argument("loop guard min_repeats must be in [3, 1048576], got " +
                                std::to_string(min_repeats));
  }
  if (max_period < 1 || max_period > (1 << 20)) {
    throw std::invalid_argument("loop guard max_period must be in [1, 1048576], got " +
                                std::to_string(max_period));
  }
  if (min_span < 1 || min_span > (std::int64_t{1} << 40)) {
    throw std::invalid_argument("loop guard min_span must be in [1, 2^40], got " +
                                std::to_string(min_span));
  }
}

LoopDetector::LoopDetector(std::int64_t min_repeats, std::int64_t max_period, std::int64_t min_span)
    : min_repeats_(min_repeats), max_period_(0), min_span_(min_span) {
  Validate(min_repeats, max_period, min_span);
  max_period_ = static_cast<std::int32_t>(max_period);
  stride_.assign(static_cast<std::size_t>(max_period) + 1, 0);
  // The longest stride that still finds every run in time is need(p) - p; capping it at
  // 6 max_period - 2 keeps the ring at 8 max_period (rounded up to a power of two).
  const std::int64_t stride_cap = 6 * max_period - 2;
  std::int64_t max_stride = 1;
  for (std::int64_t p = 1; p <= max_period; ++p) {
    // Short periods are re-checked often (at least every 64 units): once found, a short period
    // prunes its multiples, which keeps the active set small on runs like "aaaa…b".
    const std::int64_t s =
        std::max<std::int64_t>(1, std::min({stride_cap, Need(p) - p,
                                            std::max<std::int64_t>(16 * p, 64)}));
    stride_[static_cast<std::size_t>(p)] = static_cast<std::int32_t>(s);
    max_stride = std::max(max_stride, s);
  }
  buckets_ = static_cast<std::int32_t>(max_stride) + 1;
  std::size_t cap = 1;
  while (cap <
         2 * static_cast<std::size_t>(max_period) + static_cast<std::size_t>(max_stride) + 2) {
    cap <<= 1;
  }
  ring_.assign(cap, 0);
  mask_ = cap - 1;
  head_.assign(static_cast<std::size_t>(buckets_), -1);
  next_.assign(static_cast<std::size_t>(max_period) + 1, -1);
  is_active_.assign(static_cast<std::size_t>(max_period) + 1, 0);
  Reset();
}

void LoopDetector::Reset() {
  n_ = 0;
  slot_ = 0;
  done_ = false;
  info_ = LoopInfo{};
  active_.clear();
  std::fill(is_active_.begin(), is_active_.end(), 0);
  // Period p is first due at n = s(p) (< buckets_), then every s(p) units.
  std::fill(head_.begin(), head_.end(), -1);
  for (std::int32_t p = max_period_; p >= 1; --p) {
    const std::size_t b = static_cast<std::size_t>(stride_[static_cast<std::size_t>(p)]);
    next_[static_cast<std::size_t>(p)] = head_[b];
    head_[b] = p;
  }
}

std::int64_t LoopDetector::Need(std::int64_t p) const {
  return std::max((min_repeats_ - 1) * p, min_span_ - p);
}

bool LoopDetector::Push(std::int64_t unit) {
  return !done_ && PushOne(static_cast<std::uint32_t>(unit));
}

std::size_t LoopDetector::PushBytes(const char* bytes, std::size_t n) {
  if (done_) return 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (PushOne(static_cast<unsigned char>(bytes[i]))) return i + 1;
  }
  return n;
}

inline bool LoopDetector::PushOne(std::uint32_t u) {
  ring_[static_cast<std::size_t>(n_) & mask_] = u;
  const std::int64_t n = ++n_;
  if (++slot_ == buckets_) slot_ = 0;
  std::int32_t best = 0;
  std::int64_t best_run = 0;
  auto consider = [&](std::int32_t p, std::int64_t run) {
    if (run >= Need(p) && (best == 0 || p < best)) {
      best = p;
      best_run = run;
    }
  };
  // Active periods: one comparison each; a broken run leaves the set.
  for (std::size_t k = 0; k < active_.size();) {
    Active& a = active_[k];
    if (u == At(n - 1 - a.period)) {
      ++a.run;
      consider(a.period, a.run);
      ++k;
    } else {
      is_active_[static_cast<std::size_t>(a.period)] = 0;
      active_[k] = active_.back();
      active_.pop_back();
    }
  }
  // Periods due now (n is a multiple of each one's stride): move each to its next bucket, then
  // check it; on ordinary text the first comparison already differs.
  std::int32_t p = head_[static_cast<std::size_t>(slot_)];
  head_[static_cast<std::size_t>(slot_)] = -1;
  while (p != -1) {
    const std::int32_t following = next_[static_cast<std::size_t>(p)];
    std::int32_t bucket = slot_ + stride_[static_cast<std::size_t>(p)];
    if (bucket >= buckets_) bucket -= buckets_;
    next_[static_cast<std::size_t>(p)] = head_[static_cast<std::size_t>(bucket)];
    head_[static_cast<std::size_t>(bucket)] = p;
    if (n >= 2 * static_cast<std::int64_t>(p) && u == At(n - 1 - p) &&
        is_active_[static_cast<std::size_t>(p)] == 0) {
      Check(p);
      if (is_active_[static_cast<std::size_t>(p)] != 0) consider(p, active_.back().run);
    }
    p = following;
  }
  if (best == 0) return false;
  const std::int64_t span = best_run + best;
  info_.period = best;
  info_.repeats = span / best;
  info_.start = n - span;
  info_.end = n;
  done_ = true;
  active_.clear();
  return true;
}

void LoopDetector::Check(std::int32_t p) {
  for (const Active& a : active_) {  // covered by a smaller active divisor: see the header
    if (p % a.period == 0 && a.run >= p) return;
  }
  const std::int64_t n = n_;
  const std::int64_t cap = static_cast<std::int64_t>(ring_.size());
  std::int64_t j = 0;
  for (; j < p; ++j) {
    if (At(n - 1 - j) != At(n - 1 - j - p)) return;
  }
  const std::int64_t limit = std::min(n - p, cap - p);
  while (j < limit && At(n - 1 - j) == At(n - 1 - j - p)) ++j;
  is_active_[static_cast<std::size_t>(p)] = 1;
  active_.push_back(Active{p, j});
}

}  // namespace hermes_stream
