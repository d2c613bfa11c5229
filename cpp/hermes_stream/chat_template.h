// Native Hermes 4 chat templates.
//
// RenderChat builds the prompt that the official Hermes 4 Jinja templates produce (in transformers'
// environment: trim_blocks, lstrip_blocks, its own `tojson`), byte for byte, for the two formats:
//   kChatML  Hermes-4-14B (`<|im_start|>role\n ... <|im_end|>\n`)
//   kLlama3  Hermes-4-70B / 405B / 4.3-36B (one template: `bos + <|start_header_id|>role ...`)
// The caller hands over messages already reduced to what the template looks at: the role, the
// content as the template sees it (a string, undefined, or another value with its `str()` text
// and truthiness), and for assistant turns the tool calls with their name text and their
// arguments already serialised by `tojson`. Where the Jinja template raises (an undefined or
// non-string value concatenated with `+`, `content.split('</think>', 1)[1]` on content without
// `</think>`, ...), RenderChat throws TemplateError naming the message and the reason, at the
// first such point in rendering order, as Jinja would.
//
// Work is O(total input + output); no Python headers, no allocation besides the output string.
// Thread-safe: a pure function of its inputs.
#ifndef HERMES_STREAM_CHAT_TEMPLATE_H_
#define HERMES_STREAM_CHAT_TEMPLATE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hermes_stream {

/// The template raised: the message says which message and why. Maps to hs.TemplateError.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ChatFormat : std::uint8_t { kChatML, kLlama3 };

/// `message.role` compared with the four names the template tests; anything else (including a
/// missing role) is kOther, which the template skips.
enum class ChatRole : std::uint8_t { kOther, kUser, kSystem, kAssistant, kTool };

enum class ValueKind : std::uint8_t {
  kUndefined,  ///< key missing or None (transformers drops None-valued message keys)
  kString,     ///< a str
  kOther,      ///< any other value: `{{ }}` prints `text` (its Python str()), `+` raises
};

/// A message field as the template sees it.
struct ChatValue {
  ValueKind kind = ValueKind::kUndefined;
  std::string_view text;       ///< kString: the string; kOther: str(value); kUndefined: ""
  bool truthy = false;         ///< Jinja (= Python) truthiness
  std::string_view type_name;  ///< kOther: the Python type name, for error messages
};

struct ChatToolCall {
  std::string_view name;       ///< what `{{ tool_call.name }}` prints
  std::string_view arguments;  ///< `tool_call.arguments | tojson`
};

struct ChatMessage {
  ChatRole role = ChatRole::kOther;
  ChatValue content;
  bool has_tool_calls = false;  ///< `message.tool_calls` is truthy (only read for assistants)
  std::uint32_t calls_begin = 0;  ///< index of the first call in ChatRequest::calls
  std::uint32_t calls_count = 0;
  /// Non-empty: rendering this message's tool calls raises this reason (e.g. a call without
  /// `arguments`); raised when the template reaches them.
  std::string_view tool_calls_error;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::vector<ChatToolCall> calls;  ///< all messages' tool calls, in order
  bool has_tools = false;           ///< `tools` is truthy (a non-empty list)
  std::vector<std::string_view> tools_json;  ///< `tool | tojson` for each tool
};

struct ChatOptions {
  ChatFormat format = ChatFormat::kChatML;
  bool has_bos = false;  ///< kLlama3: `bos_token` is defined (a string)
  std::string_view bos_token;
  bool thinking = false;
  bool keep_cots = false;
  bool add_generation_prompt = false;
  /// Extension (off in the official template): with `thinking`, append the thinking prompt to a
  /// caller's own first system message ("\n\n" between) instead of ignoring `thinking`.
  bool append_thinking_to_system = false;
};

/// The default system prompts of the Hermes 4 templates.
extern const std::string_view kHermesThinkingPrompt;
extern const std::string_view kHermesStandardPrompt;

/// \brief Render the conversation exactly as the official Hermes 4 template of `opt.format`.
/// \param out  receives the prompt (appended; cleared first).
/// \throws TemplateError where the Jinja template raises.
void RenderChat(const ChatRequest& req, const ChatOptions& opt, std::string* out);

namespace internal {

/// memcpy for the short strings JSON is made of: sizes below 16 use two overlapping fixed-size
/// copies (inlined moves, no call); longer ones call memcpy.
inline void CopyBytes(char* dst, const char* src, std::size_t n) {
  if (n >= 16) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else if (n != 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

}  // namespace internal

/// An append-only byte buffer for building JSON texts: an append is a bounds check and a memcpy
/// (std::string::append is an out-of-line call per piece, which dominated tool serialisation).
/// Views of it are invalidated by appends that grow it.
class TextBuffer {
 public:
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return buf_.size(); }
  std::string_view view() const { return std::string_view(buf_.data(), size_); }
  /// Room for `n` more bytes; returns where they go (the caller fills all of them).
  char* Extend(std::size_t n) {
    if (buf_.size() - size_ < n) Grow(n);
    char* at = buf_.data() + size_;
    size_ += n;
    return at;
  }
  void Append(std::string_view s) { internal::CopyBytes(Extend(s.size()), s.data(), s.size()); }
  void Push(char c) { *Extend(1) = c; }
  /// Drops the storage when it grew beyond `max_bytes`.
  void Trim(std::size_t max_bytes) {
    if (buf_.size() > max_bytes) std::string().swap(buf_);
  }

 private:
  void Grow(std::size_t n);

  std::string buf_;  // storage; bytes past size_ are scratch
  std::size_t size_ = 0;
};

namespace internal {

// Bytes json.dumps escapes: controls, '"' and '\\'.
struct JsonEscapeTable {
  bool esc[256] = {};
  constexpr JsonEscapeTable() {
    for (int c = 0; c < 0x20; ++c) esc[c] = true;
    esc[static_cast<unsigned char>('"')] = true;
    esc[static_cast<unsigned char>('\\')] = true;
  }
};
inline constexpr JsonEscapeTable kJsonEscape;

// True when one of the bytes of `w` is < 0x20, '"' or '\\' (the classic "has a byte less than
// n" / "has a zero byte" word tests: exact as a yes/no answer).
template <class Word>
inline bool WordNeedsJsonEscape(Word w) {
  constexpr Word kOnes = static_cast<Word>(0x0101010101010101ULL);
  constexpr Word kHigh = static_cast<Word>(0x8080808080808080ULL);
  const Word q = w ^ static_cast<Word>(kOnes * '"');
  const Word b = w ^ static_cast<Word>(kOnes * '\\');
  const Word lt = static_cast<Word>(w - static_cast<Word>(kOnes * 0x20)) & static_cast<Word>(~w);
  const Word hq = static_cast<Word>(q - kOnes) & static_cast<Word>(~q);
  const Word hb = static_cast<Word>(b - kOnes) & static_cast<Word>(~b);
  return ((lt | hq | hb) & kHigh) != 0;
}

inline std::size_t ScanJsonEscape(const char* p, std::size_t i, std::size_t n) {
  for (; i < n; ++i) {
    if (kJsonEscape.esc[static_cast<unsigned char>(p[i])]) return i;
  }
  return n;
}

}  // namespace internal

/// Index of the first byte of `s` that json.dumps escapes, or s.size(). Word tests on direct
/// loads only: 8-byte words, the tail as the (overlapping) last 8 bytes, strings of 4-7 bytes as
/// two overlapping 4-byte words; the exact position is then found byte by byte.
inline std::size_t JsonEscapeIndex(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    std::size_t i = 0;
    std::uint64_t w;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&w, p + i, 8);
      if (internal::WordNeedsJsonEscape(w)) return internal::ScanJsonEscape(p, i, n);
    }
    if (i == n) return n;
    std::memcpy(&w, p + n - 8, 8);  // bytes before i are clean
    return internal::WordNeedsJsonEscape(w) ? internal::ScanJsonEscape(p, i, n) : n;
  }
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    if (!internal::WordNeedsJsonEscape(a) && !internal::WordNeedsJsonEscape(b)) return n;
  }
  return internal::ScanJsonEscape(p, 0, n);
}

/// AppendJsonString for a string whose first byte to escape is at `first` (< s.size()).
void AppendJsonStringFrom(TextBuffer* out, std::string_view s, std::size_t first);

/// \brief Append `s` (valid UTF-8) as a JSON string exactly as Python's
/// `json.dumps(s, ensure_ascii=False)`: `"` `\` and control characters escaped (`\n`, `\r`, `\t`,
/// `\b`, `\f`, others as `\u00XX` in lower-case hex), everything else (DEL, non-ASCII) verbatim.
/// Inline: most strings need no escape and cost one bounds check and one copy.
inline void AppendJsonString(TextBuffer* out, std::string_view s) {
  const std::size_t first = JsonEscapeIndex(s);
  if (first != s.size()) {
    AppendJsonStringFrom(out, s, first);
    return;
  }
  char* p = out->Extend(s.size() + 2);
  p[0] = '"';
  internal::CopyBytes(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
}

/// \brief Append a finite double exactly as Python's `repr(x)` (= `json.dumps(x)`): the shortest
/// digits that round-trip, fixed notation for 1e-4 <= |x| < 1e16 (with ".0" when integral),
/// otherwise `d.ddde+XX` / `de-XX` (at least two exponent digits).
void AppendPythonFloatRepr(TextBuffer* out, double x);

}  // namespace hermes_stream

#endif  // HERMES_STREAM_CHAT_TEMPLATE_H_
