// Plain data the parser produces: segments of the message and the output of one feed.
#ifndef HERMES_STREAM_EVENTS_H_
#define HERMES_STREAM_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hermes_stream/loop_guard.h"

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

/// One streamed piece of a tool call (OpenAI `delta.tool_calls[i]`). The first piece of a call
/// carries its id and name.
struct CallFragment {
  std::int64_t index = 0;
  bool first = false;
  std::string id;
  std::string name;
  std::string arguments;
};

/// A tool call as parsed so far.
struct CallRecord {
  std::int64_t index = 0;
  std::string id;
  std::string name;
  std::string arguments;
  std::string raw;
  std::string error;  // empty: none
  bool has_error = false;
  bool complete = false;  // the root object closed
};

/// What one Feed/Finish produced. Owned by the parser and overwritten by the next call, so the
/// per-delta path reuses its buffers instead of allocating.
struct DeltaOut {
  std::string reasoning;
  std::string content;
  std::string forced_text;  // concatenation of forced closes in this delta
  bool forced = false;
  std::vector<std::int64_t> forced_ids;  // forced_text as token ids (when a vocab is set)
  std::vector<CallFragment> calls;       // the first `ncalls` entries are this delta's
  std::size_t ncalls = 0;
  bool loop = false;   // the loop guard's rule first held in this delta
  LoopInfo loop_info;  // offsets are of the message's reasoning units

  void Clear() {
    reasoning.clear();
    content.clear();
    forced_text.clear();
    forced = false;
    forced_ids.clear();
    ncalls = 0;
    loop = false;
  }
  bool empty() const {
    return reasoning.empty() && content.empty() && !forced && ncalls == 0 && !loop;
  }
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_EVENTS_H_
