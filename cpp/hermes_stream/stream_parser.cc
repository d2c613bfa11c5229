#include "hermes_stream/stream_parser.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

#include "hermes_stream/error.h"

namespace hermes_stream {

std::string NewCallId() {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id.push_back(kAlnum[rng() % 62]);
  return id;
}

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
      region_(options_.start_in_reasoning ? Region::kReasoning : Region::kContent),
      reasoning_start_(options_.start_in_reasoning),
      call_(options_.max_json_depth) {
  std::sort(options_.tool_names.begin(), options_.tool_names.end());
}

void StreamParser::CheckUsable(const char* what) const {
  if (broken_) {
    throw UsageError(std::string(what) +
                     "() called after id_factory raised; the parser's state is lost, create a "
                     "new StreamParser");
  }
  if (eot_ && !finish_called_) {
    throw UsageError(std::string(what) +
                     "() called after an end-of-turn token ended the message; create a new "
                     "StreamParser");
  }
  if (finished_) {
    throw UsageError(std::string(what) + "() called after finish(); create a new StreamParser");
  }
}

const DeltaOut& StreamParser::Feed(std::string_view bytes, std::int64_t n_tokens) {
  CheckUsable("feed");
  HERMES_CHECK_ARG(n_tokens >= 0, "n_tokens must be >= 0");
  if (options_.loop_guard.enabled) SelectLoopUnit(LoopUnit::kBytes);
  Begin();
  FeedPiece(bytes, n_tokens, nullptr);
  return delta_;
}

const DeltaOut& StreamParser::FeedTokens(const std::int64_t* ids, std::size_t n) {
  CheckUsable("feed_tokens");
  if (!options_.vocab) throw UsageError("feed_tokens() needs a vocab: StreamParser(vocab=...)");
  const Vocab& vocab = *options_.vocab;
  vocab.RequireKnown(ids, n);
  if (options_.loop_guard.enabled) SelectLoopUnit(LoopUnit::kTokens);
  Begin();
  for (std::size_t i = 0; i < n; ++i) {
    if (vocab.IsEot(ids[i])) {
      End();
      eot_ = true;
      break;
    }
    FeedPiece(vocab.Bytes(ids[i]), 1, &ids[i]);
  }
  return delta_;
}

void StreamParser::FeedPiece(std::string_view bytes, std::int64_t n_tokens,
                             const std::int64_t* id) {
  if (region_ == Region::kReasoning) {
    reasoning_tokens_ += n_tokens;
    // Token mode: the id is a reasoning unit under the budget's counting rule (SPEC 2.13).
    if (id != nullptr && loop_unit_ == LoopUnit::kTokens) PushLoopUnit(*id);
  }
  Scan(utf8_.Feed(bytes));
  MaybeForce(/*end_of_delta=*/true);
  if (loop_hit_) ActOnLoop();
}

const DeltaOut& StreamParser::Finish() {
  if (eot_ && !finish_called_) {  // the end-of-turn id already ended the message
    finish_called_ = true;
    delta_.Clear();
    return delta_;
  }
  CheckUsable("finish");
  finish_called_ = true;
  Begin();
  End();
  return delta_;
}

void StreamParser::End() {
  std::string_view tail = utf8_.Flush();
  if (!tail.empty()) Scan(tail);
  // A block whose name never closed was not a call: its text is parsed again, which may open
  // another uncommitted block, so repeat.
  while (region_ == Region::kCall && mode_ == Mode::kJson && !committed_) {
    const std::string body = Fallback();
    Scan(body);
  }
  std::string held = std::move(held_);
  held_.clear();
  if (region_ == Region::kCall) {
    if (mode_ == Mode::kAfter) {
      Body(held);  // a partial </tool_call> after a complete object: part of the block
      held.clear();
    } else if (mode_ == Mode::kJson) {
      FailCall("truncated");
    }
  }
  if (!held.empty()) EmitText(held);
  if (region_ == Region::kCall) EndCall();
  finished_ = true;
}

void StreamParser::Begin() {
  delta_.Clear();
  loop_hit_ = false;  // a loop completed by Finish()'s released text is reported, not closed
  if (!started_) {
    started_ = true;
    MaybeForce(/*end_of_delta=*/false);  // prompt-opened thinking with budget 0
  }
}

TagSet StreamParser::LiveTags() const {
  TagSet set;
  switch (region_) {
    case Region::kReasoning:
      set.tags[set.n++] = Tag::kThinkClose;
      if (reasoning_start_) set.tags[set.n++] = Tag::kThinkOpen;  // absorbed (rule 7)
      if (options_.tool_calls_in_reasoning) set.tags[set.n++] = Tag::kToolCallOpen;
      break;
    case Region::kCall: set.tags[set.n++] = Tag::kToolCallClose; break;
    case Region::kContent:
      set.tags[set.n++] = Tag::kThinkOpen;
      set.tags[set.n++] = Tag::kToolCallOpen;
      if (after_forced_) set.tags[set.n++] = Tag::kThinkClose;
      break;
  }
  return set;
}

void StreamParser::Scan(std::string_view text) {
  std::size_t fb = ScanFrame(text, ResolveHeld(text, 0));
  if (fb == kNoFallback) return;
  // Rare path: a block turned out not to be a call. Its body is scanned again before the rest
  // of the current text; frames own the bodies, so nothing is re-copied per level.
  struct Frame {
    std::string owned;
    std::string_view ext;
    bool use_owned;
    std::size_t pos;
    std::string_view view() const { return use_owned ? std::string_view(owned) : ext; }
  };
  std::vector<Frame> frames;
  frames.push_back(Frame{std::string(), text, false, fb});
  frames.push_back(Frame{Fallback(), std::string_view(), true, 0});
  while (!frames.empty()) {
    Frame frame = std::move(frames.back());
    frames.pop_back();
    const std::string_view buf = frame.view();
    std::size_t pos = ResolveHeld(buf, frame.pos);
    pos = ScanFrame(buf, pos);
    if (pos != kNoFallback) {
      frame.pos = pos;
      frames.push_back(std::move(frame));
      frames.push_back(Frame{Fallback(), std::string_view(), true, 0});
    }
  }
}

std::size_t StreamParser::ResolveHeld(std::string_view buf, std::size_t pos) {
  if (held_.empty()) return pos;
  const std::size_t nheld = held_.size();
  probe_.assign(held_);
  probe_.append(buf.substr(pos, 12));
  Tag tag = Tag::kNone;
  switch (MatchTag(probe_, LiveTags(), &tag)) {
    case MatchResult::kTag:
      held_.clear();
      OnTag(tag);
      return pos + TagText(tag).size() - nheld;
    case MatchResult::kPartial:  // buf[pos:] is shorter than the rest of the tag
      held_.swap(probe_);
      return buf.size();
    case MatchResult::kText: break;
  }
  std::string held = std::move(held_);  // only its first byte is '<'
  held_.clear();
  EmitText(held);
  return pos;
}

std::size_t StreamParser::ScanFrame(std::string_view buf, std::size_t pos) {
  const std::size_t n = buf.size();
  while (pos < n) {
    if (region_ == Region::kCall && mode_ == Mode::kJson) {
      pos = ConsumeJson(buf, pos);
      if (fallback_) {
        fallback_ = false;
        return pos;
      }
      continue;
    }
    const void* hit = std::memchr(buf.data() + pos, '<', n - pos);
    if (hit == nullptr) {
      EmitText(buf.substr(pos));
      return kNoFallback;
    }
    const std::size_t lt = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
    if (lt > pos) EmitText(buf.substr(pos, lt - pos));
    Tag tag = Tag::kNone;
    switch (MatchTag(buf.substr(lt), LiveTags(), &tag)) {
      case MatchResult::kTag:
        OnTag(tag);
        pos = lt + TagText(tag).size();
        break;
      case MatchResult::kPartial: held_.assign(buf.data() + lt, n - lt); return kNoFallback;
      case MatchResult::kText:
        EmitText(buf.substr(lt, 1));
        pos = lt + 1;
        break;
    }
  }
  return kNoFallback;
}

void StreamParser::OnTag(Tag tag) {
  if (tag == Tag::kToolCallOpen) {
    OpenCall();
    return;
  }
  AddSegment(SegmentKind::kTag, TagText(tag));
  if (tag == Tag::kToolCallClose) {
    EndCall();
  } else if (region_ == Region::kReasoning) {
    if (tag == Tag::kThinkOpen) return;  // <think> at the start of reasoning: absorbed
    region_ = Region::kContent;          // </think>
    reasoning_start_ = false;
  } else if (tag == Tag::kThinkOpen) {
    region_ = Region::kReasoning;
    reasoning_start_ = true;
    after_forced_ = false;
    if (loop_) {  // each reasoning region is watched on its own
      loop_->Reset();
      loop_base_ = loop_units_;
      loop_hit_ = false;  // a detection earlier in this piece belonged to the closed region
    }
    MaybeForce(/*end_of_delta=*/false);
  } else {  // </think> right after a forced close: absorbed
    after_forced_ = false;
  }
}

void StreamParser::EmitText(std::string_view text) {
  switch (region_) {
    case Region::kCall: CallText(text); return;
    case Region::kReasoning:
      if (loop_unit_ == LoopUnit::kBytes) {
        const std::size_t pushed = loop_->PushBytes(text.data(), text.size());
        if (loop_->done() && pushed != 0) OnLoop();  // this text completed the rule
        loop_units_ += static_cast<std::int64_t>(text.size());
      }
      delta_.reasoning.append(text);
      if (reasoning_start_) {
        for (char c : text) {
          if (!IsJsonSpace(c)) {
            reasoning_start_ = false;
            break;
          }
        }
      }
      AddSegment(SegmentKind::kReasoning, text);
      return;
    case Region::kContent: break;
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
  const bool mergeable = kind == SegmentKind::kReasoning || kind == SegmentKind::kContent ||
                         kind == SegmentKind::kToolCall;
  if (mergeable && !segments_.empty() && segments_.back().kind == kind) {
    segments_.back().text.append(text);
  } else {
    segments_.push_back(Segment{kind, std::string(text)});
  }
}

// --------------------------------------------------------------------------- tool calls

void StreamParser::OpenCall() {
  call_region_ = region_;
  region_ = Region::kCall;
  after_forced_ = false;
  mode_ = Mode::kJson;
  call_.Reset();
  committed_ = false;
  suppressed_ = false;
  pend_.clear();
  pend_args_.clear();
  args_scratch_.clear();
  body_bytes_ = 0;
}

std::string StreamParser::Fallback() {
  std::string body = std::move(pend_);
  pend_.clear();
  pend_args_.clear();
  region_ = call_region_;
  EmitText(kToolCallOpen);
  return body;
}

void StreamParser::Body(std::string_view text) {
  if (text.empty()) return;
  body_bytes_ += text.size();
  if (!committed_) {
    pend_.append(text);
    return;
  }
  if (options_.keep_message) calls_.back().raw.append(text);
  AddSegment(SegmentKind::kToolCall, text);
}

std::size_t StreamParser::ConsumeJson(std::string_view buf, std::size_t pos) {
  const std::size_t n = buf.size();
  std::size_t start = pos;
  while (pos < n) {
    const CallMachine::Status status =
        call_.Step(static_cast<unsigned char>(buf[pos]), &args_scratch_);
    if (status == CallMachine::kFail) {
      Body(buf.substr(start, pos - start));
      if (!committed_) {
        fallback_ = true;
        return pos;
      }
      Args(args_scratch_);
      args_scratch_.clear();
      FailCall(call_.reason());
      return pos;
    }
    ++pos;
    if (status == CallMachine::kCommit) {
      Body(buf.substr(start, pos - start));
      start = pos;
      Args(args_scratch_);  // arguments that came before the name
      args_scratch_.clear();
      Commit();
    } else if (status == CallMachine::kClosed) {
      Body(buf.substr(start, pos - start));
      Args(args_scratch_);
      args_scratch_.clear();
      if (!call_.has_arguments()) Args("{}");
      if (options_.keep_message) calls_.back().complete = true;
      mode_ = Mode::kAfter;
      return pos;
    }
  }
  Body(buf.substr(start, pos - start));
  Args(args_scratch_);
  args_scratch_.clear();
  return pos;
}

void StreamParser::Commit() {
  const std::int64_t index = n_calls_++;
  CallRecord rec;
  rec.index = index;
  if (options_.id_factory) {
    broken_ = true;  // until the factory returns: an exception here loses the block's state
    rec.id = options_.id_factory(index);
    broken_ = false;
  } else {
    rec.id = NewCallId();
  }
  rec.name = call_.name();
  if (options_.has_tools &&
      !std::binary_search(options_.tool_names.begin(), options_.tool_names.end(), rec.name)) {
    rec.error = "unknown tool " + rec.name;
    rec.has_error = true;
    suppressed_ = true;
  }
  committed_ = true;
  AddSegment(SegmentKind::kTag, kToolCallOpen);
  const std::string pend = std::move(pend_);
  pend_.clear();
  AddSegment(SegmentKind::kToolCall, pend);
  if (options_.keep_message) {
    rec.raw = pend;
    rec.arguments = pend_args_;
  }
  if (!suppressed_) {
    CallFragment& f = Fragment(index);
    f.first = true;
    f.id = rec.id;
    f.name = rec.name;
    f.arguments.append(pend_args_);
  }
  pend_args_.clear();
  if (options_.keep_message) calls_.push_back(std::move(rec));
}

CallFragment& StreamParser::Fragment(std::int64_t index) {
  if (delta_.ncalls > 0 && delta_.calls[delta_.ncalls - 1].index == index) {
    return delta_.calls[delta_.ncalls - 1];
  }
  if (delta_.ncalls == delta_.calls.size()) delta_.calls.emplace_back();
  CallFragment& f = delta_.calls[delta_.ncalls++];
  f.index = index;
  f.first = false;
  f.id.clear();
  f.name.clear();
  f.arguments.clear();
  return f;
}

void StreamParser::Args(std::string_view text) {
  if (text.empty()) return;
  if (!committed_) {
    pend_args_.append(text);
    return;
  }
  if (options_.keep_message) calls_.back().arguments.append(text);
  if (!suppressed_) Fragment(n_calls_ - 1).arguments.append(text);
}

void StreamParser::FailCall(const std::string& reason) {
  if (options_.keep_message && !calls_.back().has_error) {
    CallRecord& rec = calls_.back();
    rec.has_error = true;
    rec.error = reason + " at byte " + std::to_string(body_bytes_);
  }
  mode_ = Mode::kRaw;
}

void StreamParser::CallText(std::string_view text) {
  if (mode_ == Mode::kAfter) {
    std::size_t ws = 0;
    while (ws < text.size() && IsJsonSpace(text[ws])) ++ws;
    Body(text.substr(0, ws));
    if (ws == text.size()) return;
    FailCall("unexpected character");
    text.remove_prefix(ws);
  }
  Body(text);
}

void StreamParser::EndCall() {
  region_ = Region::kContent;
  mode_ = Mode::kJson;
  committed_ = false;
}

void StreamParser::MaybeForce(bool end_of_delta) {
  const std::int64_t budget = options_.reasoning_budget;
  if (budget < 0 || region_ != Region::kReasoning || reasoning_tokens_ < budget) return;
  budget_exceeded_ = true;
  ForceClose(end_of_delta);
}

void StreamParser::ForceClose(bool end_of_delta) {
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
  delta_.forced_ids.insert(delta_.forced_ids.end(), options_.close_ids.begin(),
                           options_.close_ids.end());
  delta_.forced = true;
  region_ = Region::kContent;
  after_forced_ = true;
}

// --------------------------------------------------------------------------- loop guard

void StreamParser::CheckLoopUnit(bool tokens) const {
  const LoopUnit unit = tokens ? LoopUnit::kTokens : LoopUnit::kBytes;
  if (loop_unit_ != LoopUnit::kUnset && loop_unit_ != unit) {
    throw UsageError(
        "loop_guard counts token ids with feed_tokens() and bytes with feed()/feed_bytes(): one "
        "parser cannot mix them");
  }
}

void StreamParser::SelectLoopUnit(LoopUnit unit) {
  if (loop_unit_ == unit) return;
  CheckLoopUnit(unit == LoopUnit::kTokens);
  const LoopGuardOptions& g = options_.loop_guard;
  const bool tokens = unit == LoopUnit::kTokens;
  loop_ = std::make_unique<LoopDetector>(g.min_repeats,
                                         tokens ? g.max_period_tokens : g.max_period_bytes,
                                         tokens ? g.min_span_tokens : g.min_span_bytes);
  loop_unit_ = unit;
}

void StreamParser::PushLoopUnit(std::int64_t unit) {
  ++loop_units_;
  if (loop_->Push(unit)) OnLoop();
}

void StreamParser::OnLoop() {
  LoopInfo info = loop_->info();
  info.start += loop_base_;
  info.end += loop_base_;
  loops_.push_back(info);
  delta_.loop = true;
  delta_.loop_info = info;
  loop_hit_ = true;
}

void StreamParser::ActOnLoop() {
  loop_hit_ = false;
  // The budget forcing in the same piece wins (one forced close per region); a model </think>
  // in the same piece already ended the region.
  if (!options_.loop_guard.close || region_ != Region::kReasoning) return;
  ForceClose(/*end_of_delta=*/true);
  loop_closed_ = true;
}

const char* StreamParser::loop_unit() const {
  switch (loop_unit_) {
    case LoopUnit::kTokens: return "tokens";
    case LoopUnit::kBytes: return "bytes";
    case LoopUnit::kUnset: break;
  }
  return "";
}

std::string StreamParser::JoinedText(SegmentKind kind) const {
  std::string out;
  for (const Segment& s : segments_) {
    if (s.kind == kind) out.append(s.text);
  }
  return out;
}

}  // namespace hermes_stream
