// Tests of LoopDetector (cpp/hermes_stream/loop_guard.h) against a brute-force checker of the
// rule, and of its wiring in StreamParser (byte mode: report, close, regions, misuse).
#include "hermes_stream/loop_guard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "hermes_stream/error.h"
#include "hermes_stream/stream_parser.h"

namespace hermes_stream {
namespace {

struct Hit {
  std::int64_t at = -1;  // units pushed when the rule first held; -1: never
  LoopInfo info;
};

// The rule straight from its definition: after each unit, every period, run counted afresh.
Hit BruteForce(const std::vector<std::int64_t>& x, std::int64_t m, std::int64_t max_p,
               std::int64_t span) {
  for (std::int64_t n = 1; n <= static_cast<std::int64_t>(x.size()); ++n) {
    for (std::int64_t p = 1; p <= max_p && p < n; ++p) {
      std::int64_t run = 0;
      while (run < n - p && x[static_cast<std::size_t>(n - 1 - run)] ==
                                x[static_cast<std::size_t>(n - 1 - run - p)]) {
        ++run;
      }
      const std::int64_t len = run + p;
      if (len >= m * p && len >= span) {
        return Hit{n, LoopInfo{p, len / p, n - len, n}};
      }
    }
  }
  return Hit{};
}

Hit Detect(const std::vector<std::int64_t>& x, std::int64_t m, std::int64_t max_p,
           std::int64_t span) {
  LoopDetector d(m, max_p, span);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (d.Push(x[i])) return Hit{static_cast<std::int64_t>(i) + 1, d.info()};
  }
  return Hit{};
}

void ExpectSame(const Hit& a, const Hit& b) {
  EXPECT_EQ(a.at, b.at);
  EXPECT_EQ(a.info.period, b.info.period);
  EXPECT_EQ(a.info.repeats, b.info.repeats);
  EXPECT_EQ(a.info.start, b.info.start);
  EXPECT_EQ(a.info.end, b.info.end);
}

TEST(LoopDetector, PureLoopAfterPrefix) {
  for (std::int64_t period = 1; period <= 12; ++period) {
    std::vector<std::int64_t> x;
    for (int i = 0; i < 40; ++i) x.push_back(1000 + i);  // distinct prefix
    for (int i = 0; i < 200; ++i) x.push_back(i % period);
    const Hit h = Detect(x, 4, 12, 20);
    ASSERT_NE(h.at, -1) << period;
    EXPECT_EQ(h.info.period, period);
    EXPECT_EQ(h.info.start, 40);
    const std::int64_t need = std::max<std::int64_t>(4 * period, 20);
    EXPECT_EQ(h.at, 40 + need) << period;
    EXPECT_EQ(h.info.repeats, need / period);
    ExpectSame(h, BruteForce(x, 4, 12, 20));
  }
}

TEST(LoopDetector, PeriodAboveMaxIsIgnored) {
  std::vector<std::int64_t> x;
  for (int i = 0; i < 500; ++i) x.push_back(i % 9);
  EXPECT_EQ(Detect(x, 3, 8, 1).at, -1);
  EXPECT_EQ(Detect(x, 3, 9, 1).at, 27);
}

// Sequences over small alphabets with pieces repeated a few times (squares, near-loops, loops
// that break): where an exact detector could go wrong.
void RandomTrials(std::uint64_t seed, int trials, int max_p_limit, int max_len,
                  int max_extra_repeats = 3) {
  std::mt19937_64 rng(seed);
  int hits = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::int64_t m =
        3 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_extra_repeats + 1));
    const std::int64_t max_p =
        1 + static_cast<std::int64_t>(rng() % static_cast<unsigned>(max_p_limit));
    const std::int64_t span =
        1 + static_cast<std::int64_t>(rng() % (4 * static_cast<unsigned>(max_p_limit)));
    const int alphabet = 1 + static_cast<int>(rng() % 4);
    std::vector<std::int64_t> x;
    const int len = static_cast<int>(rng() % static_cast<unsigned>(max_len));
    while (static_cast<int>(x.size()) < len) {
      if (rng() % 3 == 0 && !x.empty()) {  // repeat a recent piece a few times
        const std::size_t back =
            1 + rng() % std::min<std::size_t>(x.size(), static_cast<std::size_t>(max_p_limit) + 2);
        const int reps =
            1 + static_cast<int>(rng() % static_cast<unsigned>(3 + 2 * max_extra_repeats));
        const std::vector<std::int64_t> piece(x.end() - static_cast<std::ptrdiff_t>(back), x.end());
        for (int r = 0; r < reps; ++r) x.insert(x.end(), piece.begin(), piece.end());
        if (rng() % 2 == 0) x.pop_back();
      } else {
        x.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(alphabet)));
      }
    }
    SCOPED_TRACE("seed " + std::to_string(seed) + " trial " + std::to_string(trial));
    const Hit expected = BruteForce(x, m, max_p, span);
    ExpectSame(Detect(x, m, max_p, span), expected);
    if (expected.at >= 0) ++hits;
  }
  EXPECT_GT(hits, trials / 5);  // the generator does produce loops
  EXPECT_LT(hits, trials);      // ... and sequences without one
}

TEST(LoopDetector, RandomAgainstBruteForce) { RandomTrials(12345, 3000, 12, 120); }

TEST(LoopDetector, RandomLongerPeriodsAgainstBruteForce) { RandomTrials(777, 400, 40, 400); }

// Many repeats (long discovery strides, long counted-back runs).
TEST(LoopDetector, RandomManyRepeatsAgainstBruteForce) { RandomTrials(4242, 300, 20, 600, 12); }

TEST(LoopDetector, ResetStartsOver) {
  LoopDetector d(3, 4, 1);
  EXPECT_FALSE(d.Push(7));
  EXPECT_FALSE(d.Push(7));
  EXPECT_TRUE(d.Push(7));  // three copies of period 1
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.info().start, 0);
  EXPECT_EQ(d.info().end, 3);
  EXPECT_FALSE(d.Push(7));  // once per sequence
  d.Reset();
  EXPECT_FALSE(d.done());
  EXPECT_EQ(d.size(), 0);
}

TEST(LoopDetector, BadOptionsThrow) {
  EXPECT_THROW(LoopDetector(2, 4, 1), std::invalid_argument);
  EXPECT_THROW(LoopDetector(3, 0, 1), std::invalid_argument);
  EXPECT_THROW(LoopDetector(3, 4, 0), std::invalid_argument);
  EXPECT_THROW(LoopDetector(std::int64_t{1} << 21, 4, 1), std::invalid_argument);
  EXPECT_THROW(LoopDetector::Validate(3, 4, std::int64_t{1} << 41), std::invalid_argument);
  EXPECT_NO_THROW(LoopDetector::Validate(3, 4, 1));
}

ParserOptions GuardOptions(bool close) {
  ParserOptions o;
  o.reasoning_budget = -1;
  o.loop_guard.enabled = true;
  o.loop_guard.min_repeats = 4;
  o.loop_guard.max_period_bytes = 16;
  o.loop_guard.min_span_bytes = 24;
  o.loop_guard.close = close;
  return o;
}

std::string Loop(const std::string& unit, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += unit;
  return s;
}

TEST(LoopGuardParser, ReportsOnceInBytes) {
  StreamParser p(GuardOptions(false));
  const std::string prefix = "<think>Let me think. ";
  const std::string looped = Loop("ab cd ", 20);
  const DeltaOut& d = p.Feed(prefix + looped + "</think>answer", 1);
  EXPECT_TRUE(d.loop);
  EXPECT_EQ(d.loop_info.period, 6);
  // Reasoning bytes start after "<think>"; the period-6 suffix reaches back one byte into the
  // prefix (its final ' ' equals the loop's last byte).
  EXPECT_EQ(d.loop_info.start, static_cast<std::int64_t>(prefix.size() - 7 - 1));
  EXPECT_EQ(d.loop_info.end - d.loop_info.start, 24);  // max(4 * 6, 24)
  EXPECT_EQ(d.loop_info.repeats, 4);
  ASSERT_EQ(p.loops().size(), 1u);
  EXPECT_FALSE(p.loop_closed());
  EXPECT_EQ(p.JoinedText(SegmentKind::kContent), "answer");
  EXPECT_STREQ(p.loop_unit(), "bytes");
}

TEST(LoopGuardParser, CloseForcesAtEndOfDelta) {
  ParserOptions o = GuardOptions(true);
  o.budget_close_text = "\n</think>\n";
  StreamParser p(std::move(o));
  p.Feed("<think>plan: ", 1);
  std::int64_t forced_at = -1;
  for (int i = 0; i < 30 && forced_at < 0; ++i) {
    const DeltaOut& d = p.Feed("xyz ", 1);
    if (d.forced) {
      EXPECT_TRUE(d.loop);
      EXPECT_EQ(d.forced_text, "\n</think>\n");
      forced_at = i;
    }
  }
  ASSERT_GE(forced_at, 0);
  EXPECT_TRUE(p.loop_closed());
  EXPECT_FALSE(p.budget_exceeded());
  EXPECT_FALSE(p.in_reasoning());
  p.Feed("</think>done", 1);  // the model's own close after the forced one is absorbed
  p.Finish();
  EXPECT_EQ(p.JoinedText(SegmentKind::kContent), "done");
}

TEST(LoopGuardParser, EachRegionOnItsOwn) {
  StreamParser p(GuardOptions(false));
  // 20 bytes of period 1 are short of min_span 24: the two regions do not join.
  p.Feed("<think>" + Loop("q", 20) + "</think>x<think>" + Loop("q", 20) + "</think>", 1);
  EXPECT_TRUE(p.loops().empty());
  p.Feed("<think>" + Loop("q", 30) + "</think>", 1);
  ASSERT_EQ(p.loops().size(), 1u);
  EXPECT_EQ(p.loops()[0].start, 40);  // offsets run over the message's reasoning bytes
  EXPECT_EQ(p.loops()[0].end, 64);
  EXPECT_EQ(p.loops()[0].period, 1);
  EXPECT_EQ(p.loops()[0].repeats, 24);
}

TEST(LoopGuardParser, MixingUnitsThrows) {
  StreamParser p(GuardOptions(false));
  p.Feed("<think>", 1);
  std::int64_t id = 0;
  EXPECT_THROW(p.FeedTokens(&id, 1), UsageError);  // no vocab is a UsageError too
}

}  // namespace
}  // namespace hermes_stream
