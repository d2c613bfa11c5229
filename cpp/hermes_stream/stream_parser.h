// Streaming parser for Hermes 4 output: splits <think> reasoning from the answer and enforces
// the reasoning budget.
//
// Invariants (SPEC §2): segments are lossless; any chunking of the same bytes gives the same
// segments (for the same token accounting); deltas are append-only; text is held back only while
// it could still start a live tag (at most 11 bytes) or is an incomplete UTF-8 sequence (at most 3
// bytes); work per Feed is O(size of the piece) and never depends on how long the stream is.
// The Python reference `python/hermes_stream/reference/stream_parser.py` is the executable spec.
//
// Thread-safety: none; one parser per stream. Distinct parsers share nothing.
#ifndef HERMES_STREAM_STREAM_PARSER_H_
#define HERMES_STREAM_STREAM_PARSER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hermes_stream/events.h"
#include "hermes_stream/tags.h"
#include "hermes_stream/utf8.h"

namespace hermes_stream {

struct ParserOptions {
  std::int64_t reasoning_budget = 30000;  // < 0: unlimited
  bool start_in_reasoning = false;
  bool tool_calls_in_reasoning = false;
  std::string budget_close_text = "\n</think>\n";
  bool keep_message = true;  // false: deltas only, constant memory per parser
};

class StreamParser {
 public:
  explicit StreamParser(ParserOptions options);

  /// \brief Feed raw model bytes (any split, may be invalid UTF-8).
  /// \param n_tokens tokens in this piece; they count as reasoning when the parser is inside
  ///        reasoning at the piece's first byte.
  /// \return this feed's output, valid until the next call. Throws UsageError after Finish.
  const DeltaOut& Feed(std::string_view bytes, std::int64_t n_tokens);

  /// \brief End of stream: release held text into the current region.
  const DeltaOut& Finish();

  bool finished() const { return finished_; }
  bool in_reasoning() const { return region_ == Region::kReasoning; }
  std::int64_t reasoning_tokens() const { return reasoning_tokens_; }
  bool budget_exceeded() const { return budget_exceeded_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const ParserOptions& options() const { return options_; }

  /// Joined text of all segments of `kind`.
  std::string JoinedText(SegmentKind kind) const;

 private:
  enum class Region : std::uint8_t { kContent, kReasoning };

  void Begin();
  void Scan(std::string_view text);
  void OnTag(Tag tag);
  void EmitText(std::string_view text);
  void AddSegment(SegmentKind kind, std::string_view text);
  void MaybeForce(bool end_of_delta);
  TagSet LiveTags() const;

  ParserOptions options_;
  Region region_;
  bool after_forced_ = false;
  bool started_ = false;
  bool finished_ = false;
  bool budget_exceeded_ = false;
  std::int64_t reasoning_tokens_ = 0;
  Utf8Sanitizer utf8_;
  std::string held_;  // proper prefix of a live tag, carried to the next feed
  std::string work_;  // held_ + next piece, capacity reused
  std::vector<Segment> segments_;
  DeltaOut delta_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_STREAM_PARSER_H_
