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

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hermes_stream/events.h"
#include "hermes_stream/loop_guard.h"
#include "hermes_stream/tags.h"
#include "hermes_stream/tool_call.h"
#include "hermes_stream/utf8.h"
#include "hermes_stream/vocab.h"

namespace hermes_stream {

struct ParserOptions {
  std::int64_t reasoning_budget = 30000;  // < 0: unlimited
  bool start_in_reasoning = false;
  bool tool_calls_in_reasoning = false;
  std::string budget_close_text = "\n</think>\n";
  bool keep_message = true;  // false: deltas only, constant memory per parser
  bool has_tools = false;    // true: calls to names not in tool_names are errors, not streamed
  std::vector<std::string> tool_names;                  // sorted
  std::function<std::string(std::int64_t)> id_factory;  // empty: "call_" + 24 random alnum
  std::size_t max_json_depth = 512;
  std::shared_ptr<const Vocab> vocab;   // required by FeedTokens
  std::vector<std::int64_t> close_ids;  // budget_close_text encoded with `vocab`
  LoopGuardOptions loop_guard;          // disabled by default
};

/// A fresh OpenAI-style call id: "call_" + 24 random alphanumerics.
std::string NewCallId();

class StreamParser {
 public:
  explicit StreamParser(ParserOptions options);

  /// \brief Feed raw model bytes (any split, may be invalid UTF-8).
  /// \param n_tokens tokens in this piece; they count as reasoning when the parser is inside
  ///        reasoning at the piece's first byte.
  /// \return this feed's output, valid until the next call. Throws UsageError after Finish.
  const DeltaOut& Feed(std::string_view bytes, std::int64_t n_tokens);

  /// \brief Feed token ids (needs options.vocab). Each id counts as reasoning when the parser is
  /// inside reasoning at its first byte, and the budget is checked after every id. An end-of-turn
  /// id ends the message (as Finish does; its text is not part of it). Unknown ids throw
  /// std::invalid_argument before anything is consumed.
  const DeltaOut& FeedTokens(const std::int64_t* ids, std::size_t n);

  /// \brief End of stream: release held text into the current region.
  const DeltaOut& Finish();

  bool finished() const { return finished_; }
  bool ended_by_eot() const { return eot_; }
  bool in_reasoning() const { return region_ == Region::kReasoning; }
  std::int64_t reasoning_tokens() const { return reasoning_tokens_; }
  bool budget_exceeded() const { return budget_exceeded_; }
  const std::vector<Segment>& segments() const { return segments_; }
  const ParserOptions& options() const { return options_; }

  /// Tool calls so far (empty when keep_message is false).
  const std::vector<CallRecord>& calls() const { return calls_; }

  /// Loops the guard detected (at most one per reasoning region), offsets in reasoning units of
  /// the whole message (token ids counted as reasoning, or bytes of message reasoning text).
  const std::vector<LoopInfo>& loops() const { return loops_; }
  /// The guard forced a close (on_loop="close").
  bool loop_closed() const { return loop_closed_; }
  /// Throws UsageError if a feed of this kind (token ids or bytes) would mix the loop guard's
  /// units. Feed/FeedTokens check it themselves; batch callers check before feeding anything.
  void CheckLoopUnit(bool tokens) const;
  /// "tokens", "bytes", or "" before the first feed (or without a guard).
  const char* loop_unit() const;

  /// Joined text of all segments of `kind`.
  std::string JoinedText(SegmentKind kind) const;

 private:
  enum class Region : std::uint8_t { kContent, kReasoning, kCall };
  enum class Mode : std::uint8_t { kJson, kAfter, kRaw };  // parts of a call block
  static constexpr std::size_t kNoFallback = static_cast<std::size_t>(-1);

  void CheckUsable(const char* what) const;
  void Begin();
  void FeedPiece(std::string_view bytes, std::int64_t n_tokens, const std::int64_t* id);
  void End();
  void Scan(std::string_view text);
  std::size_t ResolveHeld(std::string_view buf, std::size_t pos);
  std::size_t ScanFrame(std::string_view buf, std::size_t pos);
  void OnTag(Tag tag);
  void EmitText(std::string_view text);
  void AddSegment(SegmentKind kind, std::string_view text);
  void MaybeForce(bool end_of_delta);
  void ForceClose(bool end_of_delta);

  // Loop guard.
  enum class LoopUnit : std::uint8_t { kUnset, kTokens, kBytes };
  void SelectLoopUnit(LoopUnit unit);
  void PushLoopUnit(std::int64_t unit);
  void OnLoop();  // the detector just met the rule: record and report it
  void ActOnLoop();
  TagSet LiveTags() const;

  // Tool calls.
  void OpenCall();
  std::string Fallback();
  std::size_t ConsumeJson(std::string_view buf, std::size_t pos);
  void Body(std::string_view text);
  void Commit();
  void Args(std::string_view text);
  void FailCall(const std::string& reason);
  void CallText(std::string_view text);
  void EndCall();
  CallFragment& Fragment(std::int64_t index);

  ParserOptions options_;
  Region region_;
  bool after_forced_ = false;
  bool reasoning_start_ = false;  // in reasoning with only whitespace since it began (rule 7)
  bool started_ = false;
  bool finished_ = false;
  bool broken_ = false;  // id_factory raised mid-feed
  bool eot_ = false;     // an end-of-turn id ended the message; Finish() then returns nothing
  bool finish_called_ = false;
  bool budget_exceeded_ = false;
  std::int64_t reasoning_tokens_ = 0;
  Utf8Sanitizer utf8_;
  std::string held_;  // proper prefix of a live tag, carried to the next feed
  std::vector<Segment> segments_;
  DeltaOut delta_;

  // The current call block.
  CallMachine call_;
  Mode mode_ = Mode::kJson;
  Region call_region_ = Region::kContent;  // where its <tool_call> tag appeared
  bool committed_ = false;
  bool suppressed_ = false;   // unknown tool: deltas not sent
  bool fallback_ = false;     // set by ConsumeJson: the block is not a call
  std::string pend_;          // body before the name closed
  std::string pend_args_;     // arguments that came before the name
  std::string args_scratch_;  // argument bytes of the current run
  std::size_t body_bytes_ = 0;
  CallRecord cur_;
  std::int64_t n_calls_ = 0;
  std::vector<CallRecord> calls_;
  std::string probe_;  // held tag prefix + the next bytes

  // Loop guard (options_.loop_guard.enabled): the detector watches the current reasoning region.
  std::unique_ptr<LoopDetector> loop_;  // made at the first feed, once the unit is known
  LoopUnit loop_unit_ = LoopUnit::kUnset;
  std::int64_t loop_units_ = 0;  // reasoning units of the message so far
  std::int64_t loop_base_ = 0;   // loop_units_ when the current region began
  bool loop_hit_ = false;        // a detection in this piece, not yet acted on
  bool loop_closed_ = false;
  std::vector<LoopInfo> loops_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_STREAM_PARSER_H_
