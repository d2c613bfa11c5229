#include "hermes_stream/stream_parser.h"

#include <cstring>
#include <utility>

#include "hermes_stream/error.h"

namespace hermes_stream {

const char* SegmentKindName(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::kReasoning: return "reasoning";
    case SegmentKind::kContent: return "content";
    case SegmentKind::kToolCall: return "tool_call";
    case SegmentKind::kTag: return "tag";
    case SegmentKind::kForced: return "forced";
  }
  return "content";
}

StreamParser::StreamParser(ParserOptions options)
    : options_(std::move(options)),
      region_(options_.start_in_reasoning ? Region::kReasoning : Region::kContent) {}

const DeltaOut& StreamParser::Feed(std::string_view bytes, std::int64_t n_tokens) {
  if (finished_) throw UsageError("feed() called after finish(); create a new StreamParser");
  HERMES_CHECK_ARG(n_tokens >= 0, "n_tokens must be >= 0");
  Begin();
  if (region_ == Region::kReasoning) reasoning_tokens_ += n_tokens;
  Scan(utf8_.Feed(bytes));
  MaybeForce(/*end_of_delta=*/true);
  return delta_;
}

const DeltaOut& StreamParser::Finish() {
  if (finished_) throw UsageError("finish() called after finish(); create a new StreamParser");
  Begin();
  if (!held_.empty()) {
    EmitText(held_);
    held_.clear();
  }
  std::string_view tail = utf8_.Flush();
  if (!tail.empty()) EmitText(tail);
  finished_ = true;
  return delta_;
}

void StreamParser::Begin() {
  delta_.Clear();
  if (!started_) {
    started_ = true;
    MaybeForce(/*end_of_delta=*/false);  // prompt-opened thinking with budget 0
  }
}

TagSet StreamParser::LiveTags() const {
  TagSet set;
  if (region_ == Region::kReasoning) {
    set.tags[set.n++] = Tag::kThinkClose;
  } else {
    set.tags[set.n++] = Tag::kThinkOpen;
    if (after_forced_) set.tags[set.n++] = Tag::kThinkClose;
  }
  return set;
}

void StreamParser::Scan(std::string_view text) {
  std::string_view buf = text;
  if (!held_.empty()) {
    work_.assign(held_);
    work_.append(text);
    held_.clear();
    buf = work_;
  }
  std::size_t pos = 0;
  const std::size_t n = buf.size();
  while (pos < n) {
    const void* hit = std::memchr(buf.data() + pos, '<', n - pos);
    if (hit == nullptr) {
      EmitText(buf.substr(pos));
      return;
    }
    const std::size_t lt = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
    if (lt > pos) EmitText(buf.substr(pos, lt - pos));
    Tag tag = Tag::kNone;
    switch (MatchTag(buf.substr(lt), LiveTags(), &tag)) {
      case MatchResult::kTag:
        OnTag(tag);
        pos = lt + TagText(tag).size();
        break;
      case MatchResult::kPartial:
        // `buf` may alias work_; copy out before anything else touches it.
        held_.assign(buf.data() + lt, n - lt);
        return;
      case MatchResult::kText:
        EmitText(buf.substr(lt, 1));
        pos = lt + 1;
        break;
    }
  }
}

void StreamParser::OnTag(Tag tag) {
  AddSegment(SegmentKind::kTag, TagText(tag));
  if (region_ == Region::kReasoning) {  // the only live tag in reasoning is </think>
    region_ = Region::kContent;
  } else if (tag == Tag::kThinkOpen) {
    region_ = Region::kReasoning;
    after_forced_ = false;
    MaybeForce(/*end_of_delta=*/false);
  } else {  // </think> right after a forced close: absorbed
    after_forced_ = false;
  }
}

void StreamParser::EmitText(std::string_view text) {
  if (region_ == Region::kReasoning) {
    delta_.reasoning.append(text);
    AddSegment(SegmentKind::kReasoning, text);
    return;
  }
  delta_.content.append(text);
  if (after_forced_) {
    for (char c : text) {
      if (!IsJsonSpace(c)) {
        after_forced_ = false;
        break;
      }
    }
  }
  AddSegment(SegmentKind::kContent, text);
}

void StreamParser::AddSegment(SegmentKind kind, std::string_view text) {
  if (!options_.keep_message) return;
  const bool mergeable = kind == SegmentKind::kReasoning || kind == SegmentKind::kContent;
  if (mergeable && !segments_.empty() && segments_.back().kind == kind) {
    segments_.back().text.append(text);
  } else {
    segments_.push_back(Segment{kind, std::string(text)});
  }
}

void StreamParser::MaybeForce(bool end_of_delta) {
  const std::int64_t budget = options_.reasoning_budget;
  if (budget < 0 || region_ != Region::kReasoning || reasoning_tokens_ < budget) return;
  if (end_of_delta) {  // the model's output stops here: release what was held as reasoning
    if (!held_.empty()) {
      std::string held = std::move(held_);
      held_.clear();
      EmitText(held);
    }
    std::string_view tail = utf8_.Flush();
    if (!tail.empty()) EmitText(tail);
  }
  AddSegment(SegmentKind::kForced, options_.budget_close_text);
  delta_.forced_text.append(options_.budget_close_text);
  delta_.forced = true;
  budget_exceeded_ = true;
  region_ = Region::kContent;
  after_forced_ = true;
}

std::string StreamParser::JoinedText(SegmentKind kind) const {
  std::string out;
  for (const Segment& s : segments_) {
    if (s.kind == kind) out.append(s.text);
  }
  return out;
}

}  // namespace hermes_stream
