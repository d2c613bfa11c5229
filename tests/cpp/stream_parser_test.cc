// Tests of StreamParser (cpp/hermes_stream/stream_parser.h): think tags, holdback, chunking
// invariance, the reasoning budget, misuse and large input.
//
// Expected segments and deltas were checked against the executable spec,
// python/hermes_stream/reference/stream_parser.py (hermes_stream.reference.StreamParser), e.g.
//   p = hermes_stream.reference.StreamParser(reasoning_budget=3); p.feed("<think>", 1); ...
#include "hermes_stream/stream_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hermes_stream/error.h"
#include "hermes_stream/events.h"

namespace hermes_stream {
namespace {

using Segs = std::vector<std::pair<std::string, std::string>>;  // (kind name, text)

constexpr std::string_view kFffd = "\xEF\xBF\xBD";
constexpr std::int64_t kUnlimited = -1;

Segs SegsOf(const StreamParser& p) {
  Segs out;
  for (const Segment& s : p.segments()) out.emplace_back(SegmentKindName(s.kind), s.text);
  return out;
}

std::string JoinAll(const StreamParser& p) {
  std::string out;
  for (const Segment& s : p.segments()) out.append(s.text);
  return out;
}

ParserOptions Opts(std::int64_t budget = kUnlimited, bool start_in_reasoning = false) {
  ParserOptions o;
  o.reasoning_budget = budget;
  o.start_in_reasoning = start_in_reasoning;
  return o;
}

struct Piece {
  std::string_view bytes;
  std::int64_t n_tokens = 1;
};

struct DeltaCopy {
  std::string reasoning;
  std::string content;
  std::string forced_text;
  bool forced = false;
};

DeltaCopy Copy(const DeltaOut& d) { return {d.reasoning, d.content, d.forced_text, d.forced}; }

// The whole run of one stream: every delta (Finish last), the concatenations, final state.
struct Outcome {
  std::vector<DeltaCopy> deltas;
  std::string reasoning;  // concatenated deltas
  std::string content;
  std::string forced_text;
  Segs segments;
  std::string joined;  // all segment texts in order
  std::int64_t reasoning_tokens = 0;
  bool budget_exceeded = false;
};

Outcome RunStream(const ParserOptions& options, const std::vector<Piece>& pieces) {
  StreamParser p(options);
  Outcome out;
  auto take = [&out](const DeltaOut& d) {
    out.deltas.push_back(Copy(d));
    out.reasoning += d.reasoning;
    out.content += d.content;
    out.forced_text += d.forced_text;
    EXPECT_EQ(d.forced, !d.forced_text.empty());
  };
  for (const Piece& piece : pieces) take(p.Feed(piece.bytes, piece.n_tokens));
  take(p.Finish());
  EXPECT_TRUE(p.finished());
  out.segments = SegsOf(p);
  out.joined = JoinAll(p);
  out.reasoning_tokens = p.reasoning_tokens();
  out.budget_exceeded = p.budget_exceeded();
  if (options.keep_message) {
    // Deltas are append-only and exactly once: they add up to the message.
    EXPECT_EQ(out.reasoning, p.JoinedText(SegmentKind::kReasoning));
    EXPECT_EQ(out.content, p.JoinedText(SegmentKind::kContent));
    EXPECT_EQ(out.forced_text, p.JoinedText(SegmentKind::kForced));
    // Adjacent reasoning/content text is merged; no segment is empty.
    const auto& segs = p.segments();
    for (std::size_t i = 0; i < segs.size(); ++i) {
      EXPECT_FALSE(segs[i].text.empty()) << "empty segment " << i;
      if (i > 0 &&
          (segs[i].kind == SegmentKind::kReasoning || segs[i].kind == SegmentKind::kContent)) {
        EXPECT_NE(segs[i].kind, segs[i - 1].kind) << "unmerged segment " << i;
      }
    }
  }
  return out;
}

Outcome RunWhole(const ParserOptions& options, std::string_view text, std::int64_t n_tokens = 1) {
  return RunStream(options, {{text, n_tokens}});
}

std::vector<Piece> Split(std::string_view s, const std::vector<std::size_t>& cuts) {
  std::vector<Piece> pieces;
  std::size_t prev = 0;
  for (std::size_t cut : cuts) {
    pieces.push_back({s.substr(prev, cut - prev), 1});
    prev = cut;
  }
  pieces.push_back({s.substr(prev), 1});
  return pieces;
}

std::vector<Piece> Bytewise(std::string_view s, std::int64_t n_tokens = 1) {
  std::vector<Piece> pieces;
  for (std::size_t i = 0; i < s.size(); ++i) pieces.push_back({s.substr(i, 1), n_tokens});
  return pieces;
}

// ----------------------------------------------------------------------------------------------
// Basic parsing

TEST(StreamParser, ContentOnly) {
  StreamParser p(Opts());
  EXPECT_FALSE(p.in_reasoning());
  const DeltaOut& d = p.Feed("Hello, world!", 1);
  EXPECT_EQ(d.content, "Hello, world!");  // no holdback: nothing could start a tag
  EXPECT_EQ(d.reasoning, "");
  EXPECT_FALSE(d.forced);
  EXPECT_TRUE(p.Finish().empty());
  EXPECT_EQ(SegsOf(p), (Segs{{"content", "Hello, world!"}}));
  EXPECT_EQ(p.JoinedText(SegmentKind::kContent), "Hello, world!");
  EXPECT_EQ(p.JoinedText(SegmentKind::kReasoning), "");
  EXPECT_EQ(p.reasoning_tokens(), 0);
  EXPECT_FALSE(p.budget_exceeded());
}

TEST(StreamParser, EmptyStream) {
  const Outcome o = RunStream(Opts(), {});
  EXPECT_TRUE(o.segments.empty());
  ASSERT_EQ(o.deltas.size(), 1u);
  EXPECT_TRUE(o.deltas[0].reasoning.empty() && o.deltas[0].content.empty());
}

TEST(StreamParser, ThinkThenContent) {
  StreamParser p(Opts());
  const DeltaOut& d = p.Feed("<think>a</think>b", 1);
  EXPECT_EQ(d.reasoning, "a");
  EXPECT_EQ(d.content, "b");
  EXPECT_FALSE(p.in_reasoning());
  p.Finish();
  EXPECT_EQ(SegsOf(p),
            (Segs{{"tag", "<think>"}, {"reasoning", "a"}, {"tag", "</think>"}, {"content", "b"}}));
  EXPECT_EQ(p.JoinedText(SegmentKind::kReasoning), "a");
  EXPECT_EQ(p.JoinedText(SegmentKind::kContent), "b");
  EXPECT_EQ(p.JoinedText(SegmentKind::kTag), "<think></think>");
}

TEST(StreamParser, SeveralReasoningSegments) {
  const Outcome o = RunWhole(Opts(), "<think>a</think>b<think>c</think>d");
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "a"},
                              {"tag", "</think>"},
                              {"content", "b"},
                              {"tag", "<think>"},
                              {"reasoning", "c"},
                              {"tag", "</think>"},
                              {"content", "d"}}));
  EXPECT_EQ(o.reasoning, "ac");
  EXPECT_EQ(o.content, "bd");
}

TEST(StreamParser, StrayCloseTagInContentIsContent) {
  const Outcome o = RunWhole(Opts(), "a</think>b");
  EXPECT_EQ(o.segments, (Segs{{"content", "a</think>b"}}));
  EXPECT_EQ(o.content, "a</think>b");
  // Also after a natural close.
  const Outcome o2 = RunWhole(Opts(), "<think>r</think>c</think>d");
  EXPECT_EQ(o2.segments, (Segs{{"tag", "<think>"},
                               {"reasoning", "r"},
                               {"tag", "</think>"},
                               {"content", "c</think>d"}}));
}

TEST(StreamParser, NestedThinkInsideReasoningIsReasoningText) {
  const Outcome o = RunWhole(Opts(), "<think>x<think>y</think>z");
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "x<think>y"},
                              {"tag", "</think>"},
                              {"content", "z"}}));
  // The first </think> closes; the second is content text.
  const Outcome o2 = RunWhole(Opts(), "<think>x<think>y</think>z</think>w");
  EXPECT_EQ(o2.segments, (Segs{{"tag", "<think>"},
                               {"reasoning", "x<think>y"},
                               {"tag", "</think>"},
                               {"content", "z</think>w"}}));
}

TEST(StreamParser, ThinkRightAtTheStartOfReasoningIsATag) {
  // SPEC rule 7 (amended): only whitespace since reasoning began, so <think> is absorbed.
  const Outcome o = RunWhole(Opts(), "<think><think>y</think>z");
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"tag", "<think>"},
                              {"reasoning", "y"},
                              {"tag", "</think>"},
                              {"content", "z"}}));
  StreamParser p(Opts(kUnlimited, /*start_in_reasoning=*/true));
  p.Feed("\n", 1);
  p.Feed("<thi", 1);
  p.Feed("nk>y</think>z", 1);
  p.Finish();
  EXPECT_EQ(SegsOf(p), (Segs{{"reasoning", "\n"},
                             {"tag", "<think>"},
                             {"reasoning", "y"},
                             {"tag", "</think>"},
                             {"content", "z"}}));
}

TEST(StreamParser, StartInReasoning) {
  StreamParser p(Opts(kUnlimited, /*start_in_reasoning=*/true));
  EXPECT_TRUE(p.in_reasoning());
  const DeltaOut& d = p.Feed("abc</think>def", 1);
  EXPECT_EQ(d.reasoning, "abc");
  EXPECT_EQ(d.content, "def");
  p.Finish();
  EXPECT_EQ(SegsOf(p), (Segs{{"reasoning", "abc"}, {"tag", "</think>"}, {"content", "def"}}));
  EXPECT_EQ(p.reasoning_tokens(), 1);
}

TEST(StreamParser, ReasoningTokensCountWhenInReasoningAtFirstByte) {
  // start_in_reasoning: the piece holding </think> began in reasoning, so it counts; the next
  // one began in content and does not.
  const Outcome o = RunStream(Opts(kUnlimited, true), {{"a", 2}, {"b</think>c", 3}, {"d", 4}});
  EXPECT_EQ(o.reasoning_tokens, 5);
  EXPECT_EQ(o.segments, (Segs{{"reasoning", "ab"}, {"tag", "</think>"}, {"content", "cd"}}));
  // Model-opened: the piece holding <think> began in content.
  const Outcome o2 = RunStream(Opts(), {{"<think>abc", 5}, {"def", 2}});
  EXPECT_EQ(o2.reasoning_tokens, 2);
  EXPECT_FALSE(o2.budget_exceeded);
}

// ----------------------------------------------------------------------------------------------
// Holdback

TEST(StreamParser, HoldsOnlyLiveTagPrefixes) {
  StreamParser p(Opts());
  EXPECT_EQ(p.Feed("a<", 1).content, "a");  // '<' could start <think>
  EXPECT_EQ(p.Feed("b", 1).content, "<b");
  EXPECT_EQ(p.Feed("x<b>y", 1).content, "x<b>y");    // "<b" cannot start a tag
  EXPECT_EQ(p.Feed("x</thi", 1).content, "x</thi");  // </think> is not live in content
  EXPECT_EQ(p.Feed("q<thi", 1).content, "q");
  const DeltaOut& d = p.Feed("nk>r", 1);
  EXPECT_EQ(d.content, "");
  EXPECT_EQ(d.reasoning, "r");
  EXPECT_TRUE(p.in_reasoning());
  EXPECT_EQ(p.Feed("x<thin", 1).reasoning, "x<thin");  // <think> is not live in reasoning
  EXPECT_EQ(p.Feed("abc</thi", 1).reasoning, "abc");
  const DeltaOut& f = p.Finish();  // a partial tag at the end is text of its region
  EXPECT_EQ(f.reasoning, "</thi");
  EXPECT_EQ(f.content, "");
  EXPECT_EQ(SegsOf(p), (Segs{{"content", "a<bx<b>yx</thiq"},
                             {"tag", "<think>"},
                             {"reasoning", "rx<thinabc</thi"}}));
}

TEST(StreamParser, FinishReleasesHeldTextThenHeldUtf8) {
  const Outcome o = RunStream(Opts(), {{"x<th", 1}, {"\xE2", 1}});
  ASSERT_EQ(o.deltas.size(), 3u);
  EXPECT_EQ(o.deltas[0].content, "x");
  EXPECT_EQ(o.deltas[1].content, "");
  EXPECT_EQ(o.deltas[2].content, "<th" + std::string(kFffd));
  EXPECT_EQ(o.segments, (Segs{{"content", "x<th" + std::string(kFffd)}}));
}

TEST(StreamParser, Utf8SplitAcrossFeedsAndInvalidBytes) {
  StreamParser p(Opts());
  EXPECT_TRUE(p.Feed("<think>", 1).empty());
  const DeltaOut& d1 = p.Feed("\xFF\xE2\x82", 1);
  EXPECT_EQ(d1.reasoning, kFffd);  // FF replaced at once, E2 82 held
  EXPECT_EQ(p.Feed("\xAC", 1).reasoning, "\xE2\x82\xAC");
  EXPECT_TRUE(p.Feed("\xF0\x9F", 1).empty());
  EXPECT_EQ(p.Finish().reasoning, kFffd);
  EXPECT_EQ(SegsOf(p),
            (Segs{{"tag", "<think>"},
                  {"reasoning", std::string(kFffd) + "\xE2\x82\xAC" + std::string(kFffd)}}));
}

TEST(StreamParser, EmptyFeedsProduceEmptyDeltas) {
  StreamParser p(Opts());
  const DeltaOut& d = p.Feed("", 0);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(&p.Feed("", 1), &d);  // the parser owns and reuses one DeltaOut
  p.Feed("a<", 1);
  EXPECT_TRUE(p.Feed("", 0).empty());  // '<' still held
  EXPECT_EQ(p.Finish().content, "<");
  EXPECT_EQ(SegsOf(p), (Segs{{"content", "a<"}}));
}

// ----------------------------------------------------------------------------------------------
// Chunking invariance

const char* const kChunkingInputs[] = {
    "pre<think>reason</think>post",
    "<think></think>",
    "a<<think>b<</think>c<",
    "<think>x<think>y</think>z</think>w",
    "</think><thi<think>nk></think><think",
    "<<<think>>></think></think><",
    "<think>\xC3\xA9\xE2\x82\xAC\xFF</think>\xF0\x9F\x98\x80\xED\xA0\x80!",
    "x<think",
    "\xE2\x82<think>\x80</think\xF0\x9F",
};

TEST(StreamParser, TagsSplitAtEveryBytePositionGiveSameResult) {
  const ParserOptions option_sets[] = {Opts(), Opts(kUnlimited, true), Opts(0), Opts(0, true)};
  for (const ParserOptions& options : option_sets) {
    for (const char* input : kChunkingInputs) {
      const std::string_view s = input;
      const Outcome whole = RunWhole(options, s);
      SCOPED_TRACE(std::string("input=") + input +
                   " budget=" + std::to_string(options.reasoning_budget) +
                   " start_in_reasoning=" + std::to_string(options.start_in_reasoning));
      for (std::size_t i = 0; i <= s.size(); ++i) {
        for (std::size_t j = i; j <= s.size(); ++j) {
          const Outcome split = RunStream(options, Split(s, {i, j}));
          ASSERT_EQ(split.segments, whole.segments) << "cuts " << i << "," << j;
          ASSERT_EQ(split.reasoning, whole.reasoning) << "cuts " << i << "," << j;
          ASSERT_EQ(split.content, whole.content) << "cuts " << i << "," << j;
          ASSERT_EQ(split.forced_text, whole.forced_text) << "cuts " << i << "," << j;
        }
      }
      const Outcome bytewise = RunStream(options, Bytewise(s));
      EXPECT_EQ(bytewise.segments, whole.segments);
      EXPECT_EQ(bytewise.reasoning, whole.reasoning);
      EXPECT_EQ(bytewise.content, whole.content);
    }
  }
}

TEST(StreamParser, LosslessOnValidInput) {
  for (const char* input : kChunkingInputs) {
    const std::string_view s = input;
    if (ValidUtf8PrefixLength(s) != s.size()) continue;
    EXPECT_EQ(RunWhole(Opts(), s).joined, s);
    EXPECT_EQ(RunStream(Opts(), Bytewise(s)).joined, s);
  }
}

TEST(StreamParser, ExpectedSegmentsOfChunkingInputs) {
  EXPECT_EQ(RunWhole(Opts(), "a<<think>b<</think>c<").segments, (Segs{{"content", "a<"},
                                                                      {"tag", "<think>"},
                                                                      {"reasoning", "b<"},
                                                                      {"tag", "</think>"},
                                                                      {"content", "c<"}}));
  EXPECT_EQ(RunWhole(Opts(), "</think><thi<think>nk></think><think").segments,
            (Segs{{"content", "</think><thi"},
                  {"tag", "<think>"},
                  {"reasoning", "nk>"},
                  {"tag", "</think>"},
                  {"content", "<think"}}));
  EXPECT_EQ(RunWhole(Opts(), "<think></think>").segments,
            (Segs{{"tag", "<think>"}, {"tag", "</think>"}}));
}

TEST(StreamParser, RandomChunkingMatchesSingleFeed) {
  std::mt19937 rng(1234567u);
  std::vector<std::string> inputs(std::begin(kChunkingInputs), std::end(kChunkingInputs));
  // A longer mixed input, built deterministically.
  {
    std::string s;
    const char* const parts[] = {
        "<think>", "</think>", "<",           "</",           "<th",
        "</thi",   "text ",    "\xC3\xA9",    "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
        "\xFF",    "\n",       "<tool_call>", "{\"a\": 1}",   "</tool_call>",
        "\xE2\x82"};
    std::uniform_int_distribution<std::size_t> pick(0, std::size(parts) - 1);
    for (int k = 0; k < 300; ++k) s += parts[pick(rng)];
    inputs.push_back(s);
  }
  const ParserOptions option_sets[] = {Opts(), Opts(kUnlimited, true), Opts(0)};
  for (const ParserOptions& options : option_sets) {
    for (const std::string& input : inputs) {
      const Outcome whole = RunWhole(options, input);
      for (int iter = 0; iter < 200; ++iter) {
        const std::size_t max_piece = 1 + static_cast<std::size_t>(iter % 16);
        std::uniform_int_distribution<std::size_t> piece(0, max_piece);
        std::vector<std::size_t> cuts;
        for (std::size_t pos = 0; pos < input.size();) {
          pos = std::min(input.size(), pos + piece(rng));
          cuts.push_back(pos);
        }
        const Outcome split = RunStream(options, Split(input, cuts));
        ASSERT_EQ(split.segments, whole.segments) << "input=" << input << " iter=" << iter;
        ASSERT_EQ(split.reasoning, whole.reasoning);
        ASSERT_EQ(split.content, whole.content);
        ASSERT_EQ(split.forced_text, whole.forced_text);
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Reasoning budget

TEST(StreamParser, BudgetForcesCloseOneTokenPerFeed) {
  ParserOptions options = Opts(3);
  StreamParser p(options);
  EXPECT_TRUE(p.Feed("<think>", 1).empty());  // began in content: not a reasoning token
  EXPECT_EQ(p.reasoning_tokens(), 0);
  EXPECT_EQ(p.Feed("a", 1).reasoning, "a");
  EXPECT_FALSE(p.budget_exceeded());
  const DeltaOut& b = p.Feed("b", 1);
  EXPECT_EQ(b.reasoning, "b");
  EXPECT_FALSE(b.forced);
  const DeltaOut& c = p.Feed("c", 1);
  EXPECT_EQ(c.reasoning, "c");
  EXPECT_TRUE(c.forced);
  EXPECT_EQ(c.forced_text, options.budget_close_text);
  EXPECT_EQ(c.forced_text, "\n</think>\n");
  EXPECT_EQ(c.content, "");
  EXPECT_TRUE(p.budget_exceeded());
  EXPECT_FALSE(p.in_reasoning());
  EXPECT_EQ(p.reasoning_tokens(), 3);

  // The model, unaware, closes the think block itself: whitespace is content, the tag absorbed.
  const DeltaOut& close = p.Feed(" \n</think>", 1);
  EXPECT_EQ(close.content, " \n");
  EXPECT_EQ(close.reasoning, "");
  EXPECT_FALSE(close.forced);
  EXPECT_EQ(p.Feed("answer", 1).content, "answer");
  p.Finish();
  EXPECT_EQ(p.reasoning_tokens(), 3);
  EXPECT_EQ(SegsOf(p), (Segs{{"tag", "<think>"},
                             {"reasoning", "abc"},
                             {"forced", "\n</think>\n"},
                             {"content", " \n"},
                             {"tag", "</think>"},
                             {"content", "answer"}}));
  EXPECT_EQ(JoinAll(p), "<think>abc\n</think>\n \n</think>answer");
}

TEST(StreamParser, BudgetAbsorbsModelCloseTagSplitAcrossFeeds) {
  const Outcome o =
      RunStream(Opts(3),
                {{"<think>", 1}, {"a", 1}, {"b", 1}, {"c", 1}, {" \n</thi", 1}, {"nk>answer", 1}});
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "abc"},
                              {"forced", "\n</think>\n"},
                              {"content", " \n"},
                              {"tag", "</think>"},
                              {"content", "answer"}}));
  ASSERT_EQ(o.deltas.size(), 7u);
  EXPECT_TRUE(o.deltas[3].forced);
  EXPECT_EQ(o.deltas[4].content, " \n");
  EXPECT_EQ(o.deltas[5].content, "answer");
}

TEST(StreamParser, BudgetAbsorbsDirectCloseButOnlyOnce) {
  const Outcome o =
      RunStream(Opts(3),
                {{"<think>", 1}, {"a", 1}, {"b", 1}, {"c", 1}, {"</think>", 1}, {"</think>", 1}});
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "abc"},
                              {"forced", "\n</think>\n"},
                              {"tag", "</think>"},
                              {"content", "</think>"}}));
}

TEST(StreamParser, BudgetCloseTagAfterTextIsContent) {
  const Outcome o =
      RunStream(Opts(3), {{"<think>", 1}, {"a", 1}, {"b", 1}, {"c", 1}, {"x</think>", 1}});
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "abc"},
                              {"forced", "\n</think>\n"},
                              {"content", "x</think>"}}));
  EXPECT_TRUE(o.budget_exceeded);
}

TEST(StreamParser, BudgetCustomCloseTextAndTabs) {
  ParserOptions options = Opts(3);
  options.budget_close_text = "[cut]";
  const Outcome o = RunStream(options, {{"<think>abc", 1}, {"d", 3}, {"\t</think>", 1}});
  EXPECT_EQ(o.forced_text, "[cut]");
  ASSERT_EQ(o.deltas.size(), 4u);
  EXPECT_EQ(o.deltas[1].reasoning, "d");
  EXPECT_EQ(o.deltas[1].forced_text, "[cut]");
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "abcd"},
                              {"forced", "[cut]"},
                              {"content", "\t"},
                              {"tag", "</think>"}}));
}

TEST(StreamParser, BudgetForceReleasesHeldTagPrefixAndUtf8AsReasoning) {
  const Outcome o = RunStream(Opts(1), {{"<think>", 1}, {"ab</thi", 1}});
  EXPECT_EQ(o.segments,
            (Segs{{"tag", "<think>"}, {"reasoning", "ab</thi"}, {"forced", "\n</think>\n"}}));
  ASSERT_EQ(o.deltas.size(), 3u);
  EXPECT_EQ(o.deltas[1].reasoning, "ab</thi");
  EXPECT_TRUE(o.deltas[1].forced);

  const Outcome u = RunStream(Opts(1), {{"<think>", 1}, {"ab\xE2\x82", 1}, {"\xAC", 1}});
  const std::string fffd(kFffd);
  EXPECT_EQ(u.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "ab" + fffd},
                              {"forced", "\n</think>\n"},
                              {"content", fffd}}));
}

TEST(StreamParser, BudgetReachedForcesAgainWhenReasoningReopens) {
  const Outcome o = RunStream(Opts(2), {{"<think>a", 1}, {"b", 2}, {"</think><think>x", 1}});
  EXPECT_EQ(o.segments, (Segs{{"tag", "<think>"},
                              {"reasoning", "ab"},
                              {"forced", "\n</think>\n"},
                              {"tag", "</think>"},
                              {"tag", "<think>"},
                              {"forced", "\n</think>\n"},
                              {"content", "x"}}));
  ASSERT_EQ(o.deltas.size(), 4u);
  EXPECT_TRUE(o.deltas[1].forced);
  EXPECT_TRUE(o.deltas[2].forced);
  EXPECT_EQ(o.deltas[2].content, "x");
  EXPECT_EQ(o.reasoning_tokens, 2);
}

TEST(StreamParser, BudgetZeroClosesRightAfterThink) {
  const Outcome o = RunWhole(Opts(0), "<think>abc</think>x");
  EXPECT_EQ(o.segments,
            (Segs{{"tag", "<think>"}, {"forced", "\n</think>\n"}, {"content", "abc</think>x"}}));
  EXPECT_TRUE(o.budget_exceeded);
  EXPECT_EQ(o.reasoning, "");
  EXPECT_EQ(o.content, "abc</think>x");
  EXPECT_EQ(o.reasoning_tokens, 0);
}

TEST(StreamParser, BudgetZeroPromptOpened) {
  const Outcome o = RunWhole(Opts(0, true), "abc</think>x");
  EXPECT_EQ(o.segments, (Segs{{"forced", "\n</think>\n"}, {"content", "abc</think>x"}}));
  ASSERT_EQ(o.deltas.size(), 2u);
  EXPECT_TRUE(o.deltas[0].forced);
  EXPECT_EQ(o.deltas[0].content, "abc</think>x");
  // Finish alone still forces the close of prompt-opened thinking.
  const Outcome f = RunStream(Opts(0, true), {});
  EXPECT_EQ(f.segments, (Segs{{"forced", "\n</think>\n"}}));
  ASSERT_EQ(f.deltas.size(), 1u);
  EXPECT_TRUE(f.deltas[0].forced);
  // Whitespace then the model's own close tag: absorbed.
  const Outcome w = RunWhole(Opts(0, true), "\n</think>\n\nanswer");
  EXPECT_EQ(w.segments, (Segs{{"forced", "\n</think>\n"},
                              {"content", "\n"},
                              {"tag", "</think>"},
                              {"content", "\n\nanswer"}}));
}

TEST(StreamParser, UnlimitedBudgetNeverForces) {
  std::vector<Piece> pieces{{"<think>", 1}};
  for (int i = 0; i < 1000; ++i) pieces.push_back({"r", 1000000});
  const Outcome o = RunStream(Opts(kUnlimited), pieces);
  EXPECT_FALSE(o.budget_exceeded);
  EXPECT_EQ(o.forced_text, "");
  EXPECT_EQ(o.reasoning_tokens, 1000000000);
}

// ----------------------------------------------------------------------------------------------
// Misuse

TEST(StreamParser, FeedAfterFinishThrowsUsageError) {
  StreamParser p(Opts());
  p.Feed("<think>a", 1);
  p.Finish();
  const Segs before = SegsOf(p);
  EXPECT_THROW(p.Feed("more", 1), UsageError);
  EXPECT_THROW(p.Feed("", 0), UsageError);
  EXPECT_THROW(p.Finish(), UsageError);
  EXPECT_TRUE(p.finished());
  EXPECT_EQ(SegsOf(p), before);
  // UsageError is a std::logic_error.
  EXPECT_THROW(p.Feed("x", 1), std::logic_error);
}

TEST(StreamParser, NegativeTokenCountIsInvalidArgument) {
  StreamParser p(Opts());
  EXPECT_THROW(p.Feed("x", -1), std::invalid_argument);
  EXPECT_EQ(p.Feed("y", 0).content, "y");
}

// ----------------------------------------------------------------------------------------------
// keep_message and large input

TEST(StreamParser, KeepMessageFalseKeepsNoSegments) {
  ParserOptions options = Opts(3);
  options.keep_message = false;
  StreamParser p(options);
  std::string reasoning, content, forced;
  for (std::string_view piece : {"pre<think>", "a", "b", "c", " </think>", "done"}) {
    const DeltaOut& d = p.Feed(piece, 1);
    reasoning += d.reasoning;
    content += d.content;
    forced += d.forced_text;
    EXPECT_TRUE(p.segments().empty());
  }
  p.Finish();
  EXPECT_TRUE(p.segments().empty());
  EXPECT_EQ(p.JoinedText(SegmentKind::kContent), "");
  EXPECT_EQ(reasoning, "abc");
  EXPECT_EQ(content, "pre done");
  EXPECT_EQ(forced, "\n</think>\n");
  EXPECT_TRUE(p.budget_exceeded());
  EXPECT_EQ(p.reasoning_tokens(), 3);
}

std::string BigInput(std::size_t target) {
  // Reasoning full of '<' and near-miss tags, then content with the same.
  const std::string reasoning_unit = "step <b> x<y </thinx <think> \xC3\xA9\xE2\x82\xAC ";
  const std::string content_unit = "ans <p> </think> <thin q ";
  std::string s = "<think>";
  s.reserve(target + 64);
  while (s.size() < target / 2) s += reasoning_unit;
  s += "</think>";
  while (s.size() < target) s += content_unit;
  return s;
}

TEST(StreamParser, TenMegabyteSingleFeed) {
  const std::string input = BigInput(10u << 20);
  const std::size_t close = input.find("</think>");
  ASSERT_NE(close, std::string::npos);
  StreamParser p(Opts());
  const DeltaOut& d = p.Feed(input, 1);
  const std::string expected_reasoning = input.substr(7, close - 7);
  const std::string expected_content = input.substr(close + 8);
  EXPECT_EQ(d.reasoning.size(), expected_reasoning.size());
  EXPECT_TRUE(d.reasoning == expected_reasoning);
  EXPECT_TRUE(d.content == expected_content);
  EXPECT_TRUE(p.Finish().empty());
  ASSERT_EQ(p.segments().size(), 4u);
  EXPECT_EQ(p.segments()[0].text, "<think>");
  EXPECT_TRUE(p.segments()[1].text == expected_reasoning);
  EXPECT_EQ(p.segments()[2].text, "</think>");
  EXPECT_TRUE(p.segments()[3].text == expected_content);
  EXPECT_TRUE(JoinAll(p) == input);

  ParserOptions no_keep = Opts();
  no_keep.keep_message = false;
  StreamParser q(no_keep);
  const DeltaOut& e = q.Feed(input, 1);
  EXPECT_EQ(e.reasoning.size(), expected_reasoning.size());
  EXPECT_EQ(e.content.size(), expected_content.size());
  q.Finish();
  EXPECT_TRUE(q.segments().empty());
}

TEST(StreamParser, LargeInputInPiecesMatchesSingleFeed) {
  const std::string input = BigInput(1u << 20);
  const Outcome whole = RunWhole(Opts(), input);
  std::mt19937 rng(99u);
  std::uniform_int_distribution<std::size_t> piece(1, 4096);
  std::vector<std::size_t> cuts;
  for (std::size_t pos = 0; pos < input.size();) {
    pos = std::min(input.size(), pos + piece(rng));
    cuts.push_back(pos);
  }
  const Outcome split = RunStream(Opts(), Split(input, cuts));
  EXPECT_TRUE(split.segments == whole.segments);
  EXPECT_TRUE(split.joined == input);
}

}  // namespace
}  // namespace hermes_stream
