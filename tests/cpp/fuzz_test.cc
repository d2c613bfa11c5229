// Randomised robustness test of the core under ASan/UBSan: many generated inputs (tag pieces,
// JSON pieces, invalid UTF-8, random bytes) in random chunkings, with and without tools, budget,
// token ids. Checks: no crash or sanitizer report, segments join back to the sanitised input plus
// forced closes, and every chunking of an input gives the same segments as one feed.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "hermes_stream/stream_parser.h"
#include "hermes_stream/vocab.h"

namespace hermes_stream {
namespace {

const std::vector<std::string> kPieces = {
    "<think>",
    "</think>",
    "<tool_call>",
    "</tool_call>",
    "<",
    "</",
    "<th",
    "<tool_",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "\\",
    "\\u",
    "d83d",
    "\\ude00",
    ":",
    ",",
    " ",
    "\n",
    "\"name\"",
    "\"arguments\"",
    "\"f\"",
    "1e999",
    "-0.5",
    "true",
    "null",
    "\xE2\x82",
    "\xAC",
    "\xFF",
    "\xED\xA0\x80",
    "\xF0\x9F",
    std::string("\0", 1),
    "a",
    "\xC3\xA9",
    "{\"name\": \"f\", \"arguments\": {",
};

std::string Generate(std::mt19937_64& rng) {
  std::string s;
  const int n = static_cast<int>(rng() % 40);
  for (int i = 0; i < n; ++i) {
    if (rng() % 8 == 0) {
      s.push_back(static_cast<char>(rng() % 256));
    } else {
      s += kPieces[rng() % kPieces.size()];
    }
  }
  return s;
}

struct Result {
  std::vector<std::pair<int, std::string>> segments;
  std::size_t calls = 0;
};

Result RunParser(const std::string& text, const std::vector<std::size_t>& cuts, ParserOptions o) {
  StreamParser p(std::move(o));
  std::size_t prev = 0;
  for (std::size_t c : cuts) {
    p.Feed(std::string_view(text).substr(prev, c - prev), 1);
    prev = c;
  }
  p.Feed(std::string_view(text).substr(prev), 1);
  p.Finish();
  Result r;
  for (const Segment& s : p.segments()) r.segments.emplace_back(static_cast<int>(s.kind), s.text);
  r.calls = p.calls().size();
  return r;
}

std::string Sanitised(const std::string& text) {
  Utf8Sanitizer u;
  std::string out(u.Feed(text));
  out += u.Flush();
  return out;
}

TEST(Fuzz, RandomInputsAndChunkings) {
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 4000; ++round) {
    const std::string text = Generate(rng);
    ParserOptions o;
    o.reasoning_budget = -1;  // token counts differ between chunkings; budget fuzzed below
    o.start_in_reasoning = rng() % 2 == 0;
    o.tool_calls_in_reasoning = rng() % 2 == 0;
    o.max_json_depth = 1 + rng() % 8;
    o.id_factory = [](std::int64_t i) { return "call_" + std::to_string(i); };
    if (rng() % 2 == 0) {
      o.has_tools = true;
      o.tool_names = {"f"};
    }
    const Result whole = RunParser(text, {}, o);
    std::string joined;
    for (const auto& s : whole.segments) joined += s.second;
    ASSERT_EQ(joined, Sanitised(text)) << "round " << round;
    for (int k = 0; k < 3; ++k) {
      std::vector<std::size_t> cuts;
      for (std::size_t i = 1; i < text.size(); ++i) {
        if (rng() % 3 == 0) cuts.push_back(i);
      }
      const Result chunked = RunParser(text, cuts, o);
      ASSERT_EQ(chunked.segments, whole.segments) << "round " << round;
      ASSERT_EQ(chunked.calls, whole.calls);
    }
  }
}

TEST(Fuzz, BudgetAndTokenIds) {
  std::vector<std::string> pieces = {
      "<think>",  "</think>", "<tool_call>", "</tool_call>", "\n",        "{\"name\": \"f\"}", "x",
      "\xE2\x82", "\xAC",     "<",           "think>",       "<|im_end|>"};
  std::vector<bool> present(pieces.size(), true);
  auto vocab = std::make_shared<Vocab>(pieces, present, std::vector<std::int64_t>{11});
  std::mt19937_64 rng(7);
  for (int round = 0; round < 3000; ++round) {
    ParserOptions o;
    o.reasoning_budget = static_cast<std::int64_t>(rng() % 6);
    o.start_in_reasoning = rng() % 2 == 0;
    o.vocab = vocab;
    o.close_ids = {4, 1, 4};
    StreamParser p(o);
    std::string fed;
    bool ended = false;
    const int n = static_cast<int>(rng() % 30);
    for (int i = 0; i < n && !ended; ++i) {
      std::vector<std::int64_t> ids;
      const int m = static_cast<int>(rng() % 4);
      for (int j = 0; j < m; ++j) ids.push_back(static_cast<std::int64_t>(rng() % pieces.size()));
      p.FeedTokens(ids.data(), ids.size());
      ended = p.ended_by_eot();
    }
    if (!ended) p.Finish();
    ASSERT_LE(p.reasoning_tokens(), o.reasoning_budget + 0) << "round " << round;
    for (const Segment& s : p.segments()) {
      if (s.kind == SegmentKind::kForced) {
        ASSERT_EQ(s.text, o.budget_close_text);
      }
    }
  }
}

}  // namespace
}  // namespace hermes_stream
