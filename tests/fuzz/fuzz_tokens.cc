// libFuzzer target: StreamParser::FeedTokens with a small vocab (tags, a call prefix, split UTF-8,
// invalid bytes, an end-of-turn id) and random id groups and budgets.
// Invariants: non-forced segments joined == the sanitised bytes of the ids before the first
// end-of-turn id; deltas joined == message; ended_by_eot iff an end-of-turn id was fed;
// reasoning_tokens <= ids fed; a forced close happens iff the budget was exceeded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "hermes_stream/stream_parser.h"
#include "hermes_stream/vocab.h"

using hermes_stream::ParserOptions;
using hermes_stream::Segment;
using hermes_stream::SegmentKind;
using hermes_stream::StreamParser;
using hermes_stream::Vocab;

namespace {

const std::vector<std::string>& Pieces() {
  static const std::vector<std::string> pieces = {"<think>",
                                                  "</think>",
                                                  "<tool_call>",
                                                  "</tool_call>",
                                                  "{\"name\": \"f\", \"arguments\": ",
                                                  "{}",
                                                  "}",
                                                  "a",
                                                  " ",
                                                  "\xe2\x82",
                                                  "\xac",
                                                  "\xff",
                                                  "<",
                                                  "think",
                                                  ">",
                                                  "\n",
                                                  "<|im_end|>",
                                                  "{\"a\": [1, \"\\u00e9\"]}",
                                                  "</",
                                                  "tool_call>"};
  return pieces;
}

std::shared_ptr<const Vocab> TheVocab() {
  static const auto vocab =
      std::make_shared<const Vocab>(Pieces(), std::vector<bool>(Pieces().size(), true),
                                    std::vector<std::int64_t>{16});
  return vocab;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::uint8_t budget = in.Byte();
  std::string cuts;
  for (int i = 0; i < 4; ++i) cuts.push_back(static_cast<char>(in.Byte()));
  const std::string_view rest = in.Rest();
  std::vector<std::int64_t> ids;
  for (unsigned char c : rest) ids.push_back(c % Pieces().size());

  ParserOptions o;
  o.vocab = TheVocab();
  o.reasoning_budget = (flags & 1) ? -1 : budget % 6;
  o.start_in_reasoning = (flags & 2) != 0;
  o.tool_calls_in_reasoning = (flags & 4) != 0;
  o.budget_close_text = "\n</think>\n";
  o.close_ids = {15, 1, 15};
  o.id_factory = [](std::int64_t index) { return "call_" + std::to_string(index); };
  StreamParser p(o);

  std::string reasoning, content, forced;
  std::vector<std::int64_t> forced_ids;
  fuzz::Chunker chunks(cuts);
  std::size_t pos = 0;
  while (pos < ids.size() && !p.ended_by_eot()) {
    const std::size_t k = chunks.Next(ids.size() - pos);
    const auto& d = p.FeedTokens(ids.data() + pos, k);
    reasoning += d.reasoning;
    content += d.content;
    forced += d.forced_text;
    forced_ids.insert(forced_ids.end(), d.forced_ids.begin(), d.forced_ids.end());
    pos += k;
  }
  const auto& d = p.Finish();
  reasoning += d.reasoning;
  content += d.content;
  forced += d.forced_text;
  forced_ids.insert(forced_ids.end(), d.forced_ids.begin(), d.forced_ids.end());

  std::string expected;
  bool eot = false;
  std::size_t fed = 0;
  for (std::int64_t id : ids) {
    if (id == 16) {
      eot = true;
      break;
    }
    expected += Pieces()[static_cast<std::size_t>(id)];
    ++fed;
  }
  std::string input_part, forced_part;
  for (const Segment& s : p.segments()) {
    (s.kind == SegmentKind::kForced ? forced_part : input_part) += s.text;
  }
  if (!p.budget_exceeded()) {  // see fuzz_stream.cc: a forced close flushes held UTF-8
    fuzz::Equal(input_part, fuzz::Sanitized(expected), "lossless: segments == sanitised pieces");
  }
  fuzz::Equal(reasoning, p.JoinedText(SegmentKind::kReasoning), "deltas joined == reasoning");
  fuzz::Equal(content, p.JoinedText(SegmentKind::kContent), "deltas joined == content");
  fuzz::Equal(forced, forced_part, "forced deltas == forced segments");
  fuzz::Check(forced_ids.size() == (forced.size() / o.budget_close_text.size()) * 3,
              "forced ids == close ids per forced close");
  fuzz::Check(p.ended_by_eot() == eot, "ended_by_eot iff an end-of-turn id");
  fuzz::Check(p.reasoning_tokens() >= 0 &&
                  static_cast<std::size_t>(p.reasoning_tokens()) <= fed + (eot ? 1 : 0),
              "reasoning_tokens <= ids fed");
  fuzz::Check(p.budget_exceeded() == !forced.empty(), "budget_exceeded iff forced");
  return 0;
}
