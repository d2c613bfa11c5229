// libFuzzer target: StreamParser on raw bytes with random options and a random chunking.
// Invariants (SPEC §2): segments are lossless (non-forced segments joined == the sanitised
// input when no close was forced; forced segments are the close text); deltas joined == message
// (reasoning, content, forced text, each streamed call's id, name and arguments); without a budget,
// any chunking gives the same segments as one feed; the UTF-8 sanitiser is chunk-independent.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "hermes_stream/stream_parser.h"

using hermes_stream::CallFragment;
using hermes_stream::DeltaOut;
using hermes_stream::ParserOptions;
using hermes_stream::Segment;
using hermes_stream::SegmentKind;
using hermes_stream::StreamParser;

namespace {

struct Joined {
  std::string reasoning, content, forced;
  std::map<std::int64_t, CallFragment> calls;  // arguments concatenated

  void Add(const DeltaOut& d) {
    reasoning += d.reasoning;
    content += d.content;
    forced += d.forced_text;
    fuzz::Check(d.forced == !d.forced_text.empty(), "forced flag matches forced text");
    for (std::size_t i = 0; i < d.ncalls; ++i) {
      const CallFragment& f = d.calls[i];
      auto [it, fresh] = calls.try_emplace(f.index);
      if (fresh) {
        fuzz::Check(f.first, "a call's first fragment carries its id and name");
        it->second = f;
      } else {
        fuzz::Check(!f.first, "only the first fragment carries the id");
        it->second.arguments += f.arguments;
      }
    }
  }
};

std::vector<Segment> Run(const ParserOptions& base, std::string_view text, fuzz::Chunker chunks,
                         std::string_view tokens, bool check) {
  ParserOptions o = base;
  StreamParser p(o);
  Joined j;
  std::size_t pos = 0;
  std::size_t t = 0;
  while (pos < text.size()) {
    const std::size_t k = chunks.Next(text.size() - pos);
    const std::int64_t n =
        tokens.empty() ? 1 : static_cast<unsigned char>(tokens[t++ % tokens.size()]) % 4;
    j.Add(p.Feed(text.substr(pos, k), n));
    pos += k;
  }
  j.Add(p.Finish());
  fuzz::Check(p.finished(), "finished after Finish()");
  if (!check) return p.segments();

  std::string input_part, forced_part;
  for (const Segment& s : p.segments()) {
    (s.kind == SegmentKind::kForced ? forced_part : input_part) += s.text;
    if (s.kind == SegmentKind::kForced) fuzz::Equal(s.text, o.budget_close_text, "forced segment");
  }
  // A forced close at the end of a delta releases an incomplete UTF-8 sequence as U+FFFD (the
  // model's output stops there), so the one-piece sanitised input is the reference only when no
  // close was forced.
  if (!p.budget_exceeded()) {
    fuzz::Equal(input_part, fuzz::Sanitized(text), "lossless: segments == sanitised input");
  } else {
    fuzz::Check(fuzz::Sanitized(input_part) == input_part, "segments are valid UTF-8");
  }
  fuzz::Equal(j.reasoning, p.JoinedText(SegmentKind::kReasoning), "deltas joined == reasoning");
  fuzz::Equal(j.content, p.JoinedText(SegmentKind::kContent), "deltas joined == content");
  fuzz::Equal(j.forced, forced_part, "forced deltas == forced segments");
  fuzz::Check(p.budget_exceeded() == !forced_part.empty(), "budget_exceeded iff forced");
  for (const auto& rec : p.calls()) {
    auto it = j.calls.find(rec.index);
    const bool streamed = it != j.calls.end();
    if (!streamed) continue;  // an unknown tool (suppressed)
    fuzz::Equal(it->second.id, rec.id, "streamed call id == record id");
    fuzz::Equal(it->second.name, rec.name, "streamed call name == record name");
    fuzz::Equal(it->second.arguments, rec.arguments, "streamed arguments == record arguments");
  }
  for (const auto& [index, frag] : j.calls) {
    fuzz::Check(index >= 0 && static_cast<std::size_t>(index) < p.calls().size(),
                "every streamed call has a record");
  }
  return p.segments();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::uint8_t budget = in.Byte();
  const std::uint8_t depth = in.Byte();
  std::string cuts;
  for (int i = 0; i < 8; ++i) cuts.push_back(static_cast<char>(in.Byte()));
  const std::string_view text = in.Rest();

  ParserOptions o;
  o.reasoning_budget = (flags & 1) ? -1 : budget % 8;
  o.start_in_reasoning = (flags & 2) != 0;
  o.tool_calls_in_reasoning = (flags & 4) != 0;
  o.keep_message = true;
  if (flags & 8) {
    o.has_tools = true;
    o.tool_names = {"f", "get_weather"};
  }
  o.max_json_depth = 1 + depth % 6;
  if (flags & 16) o.budget_close_text = "</think>";
  std::int64_t next_id = 0;
  o.id_factory = [&next_id](std::int64_t index) {
    fuzz::Check(index == next_id++, "call indexes are 0, 1, 2, ...");
    return "call_" + std::to_string(index);
  };

  // The sanitiser is chunk-independent.
  {
    hermes_stream::Utf8Sanitizer s;
    fuzz::Chunker c(cuts);
    std::string out;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t k = c.Next(text.size() - pos);
      out += s.Feed(text.substr(pos, k));
      pos += k;
    }
    out += s.Flush();
    fuzz::Equal(out, fuzz::Sanitized(text), "sanitiser: chunked == one piece");
  }

  const std::vector<Segment> chunked = Run(o, text, fuzz::Chunker(cuts), cuts, true);
  if (o.reasoning_budget < 0) {  // token accounting aside, the chunking cannot matter
    next_id = 0;
    const std::vector<Segment> whole = Run(o, text, fuzz::Chunker(""), "", false);
    fuzz::Check(whole.size() == chunked.size(), "same number of segments for any chunking");
    for (std::size_t i = 0; i < whole.size(); ++i) {
      fuzz::Check(whole[i].kind == chunked[i].kind, "same segment kinds for any chunking");
      fuzz::Equal(chunked[i].text, whole[i].text, "same segments for any chunking");
    }
  }
  return 0;
}
