// The tags the parser recognises and a matcher for "tag here / maybe a tag / plain '<'".
#ifndef HERMES_STREAM_TAGS_H_
#define HERMES_STREAM_TAGS_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace hermes_stream {

enum class Tag : std::uint8_t { kNone, kThinkOpen, kThinkClose, kToolCallOpen, kToolCallClose };

inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";
inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";

inline constexpr std::string_view TagText(Tag t) {
  switch (t) {
    case Tag::kThinkOpen: return kThinkOpen;
    case Tag::kThinkClose: return kThinkClose;
    case Tag::kToolCallOpen: return kToolCallOpen;
    case Tag::kToolCallClose: return kToolCallClose;
    default: return {};
  }
}

/// Tags live in the current state, at most four.
struct TagSet {
  Tag tags[4];
  int n = 0;
};

enum class MatchResult : std::uint8_t { kText, kTag, kPartial };

/// Look at `rest`, which starts with '<'. kTag sets *tag; kPartial means `rest` is a proper
/// prefix of a live tag and must be held until more bytes arrive; kText means '<' is text.
inline MatchResult MatchTag(std::string_view rest, const TagSet& live, Tag* tag) {
  bool partial = false;
  for (int i = 0; i < live.n; ++i) {
    std::string_view t = TagText(live.tags[i]);
    if (rest.size() >= t.size()) {
      if (std::memcmp(rest.data(), t.data(), t.size()) == 0) {
        *tag = live.tags[i];
        return MatchResult::kTag;
      }
    } else if (std::memcmp(rest.data(), t.data(), rest.size()) == 0) {
      partial = true;
    }
  }
  return partial ? MatchResult::kPartial : MatchResult::kText;
}

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace hermes_stream

#endif  // HERMES_STREAM_TAGS_H_
