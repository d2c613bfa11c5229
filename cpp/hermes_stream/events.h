// Plain data the parser produces: segments of the message and the output of one feed.
#ifndef HERMES_STREAM_EVENTS_H_
#define HERMES_STREAM_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace hermes_stream {

enum class SegmentKind : std::uint8_t { kReasoning, kContent, kToolCall, kTag, kForced };

/// Python spelling of a segment kind ("reasoning", "content", ...).
const char* SegmentKindName(SegmentKind kind);

/// A run of the stream with one meaning. Joined in order, segment texts give back the input
/// (with invalid UTF-8 replaced) plus any forced close text.
struct Segment {
  SegmentKind kind;
  std::string text;
};

/// What one Feed/Finish produced. Owned by the parser and overwritten by the next call, so the
/// per-delta path reuses its buffers instead of allocating.
struct DeltaOut {
  std::string reasoning;
  std::string content;
  std::string forced_text;  // concatenation of forced closes in this delta
  bool forced = false;

  void Clear() {
    reasoning.clear();
    content.clear();
    forced_text.clear();
    forced = false;
  }
  bool empty() const { return reasoning.empty() && content.empty() && !forced; }
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_EVENTS_H_
