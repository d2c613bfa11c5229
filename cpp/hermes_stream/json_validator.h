// Incremental JSON validator (RFC 8259), one byte at a time, no recursion.
//
// Step(b) returns nullptr while the bytes so far are a valid JSON prefix, or the reason they are
// not (the byte is rejected; the validator must not be used again). Inside strings, decoded()
// holds the string bytes this byte produced (escapes resolved to UTF-8; a surrogate pair yields
// its 4 bytes at the second escape's last hex digit). Unpaired \u surrogates are rejected, so
// decoded text is always valid UTF-8 when the input is. Nesting lives on an explicit stack
// bounded by max_depth. Mirrors python/hermes_stream/reference/json_validator.py.
#ifndef HERMES_STREAM_JSON_VALIDATOR_H_
#define HERMES_STREAM_JSON_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace hermes_stream {

namespace json_error {
inline constexpr const char* kChar = "unexpected character";
inline constexpr const char* kControl = "control character in string";
inline constexpr const char* kEscape = "invalid escape";
inline constexpr const char* kHex = "invalid \\u escape";
inline constexpr const char* kSurrogate = "unpaired surrogate";
inline constexpr const char* kDepth = "nesting too deep";
}  // namespace json_error

class JsonValidator {
 public:
  enum State : std::uint8_t {
    kValue,
    kArrFirst,
    kObjFirst,
    kObjKey,
    kColon,
    kAfter,
    kString,
    kEsc,
    kHex4,
    kLowBs,
    kLowU,
    kNumMinus,
    kNumZero,
    kNumInt,
    kNumDot,
    kNumFrac,
    kNumE,
    kNumESign,
    kNumExp,
    kLiteral,
    kDone
  };

  explicit JsonValidator(std::size_t max_depth) : max_depth_(max_depth) {}
  void Reset() {
    state_ = kValue;
    stack_.clear();
    in_key_ = false;
    high_ = 0;
  }

  const char* Step(unsigned char c);

  State state() const { return state_; }
  std::size_t depth() const { return stack_.size(); }
  bool done() const { return state_ == kDone; }
  std::string_view decoded() const { return std::string_view(decoded_, ndecoded_); }

  static bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

 private:
  const char* Open(bool is_object);
  const char* Close(unsigned char c);
  const char* ValueStart(unsigned char c);
  const char* CodeUnit(unsigned u);
  bool Number(unsigned char c);
  void EndValue() { state_ = stack_.empty() ? kDone : kAfter; }

  std::size_t max_depth_;
  State state_ = kValue;
  std::vector<bool> stack_;  // true: object, false: array
  bool in_key_ = false;
  char decoded_[4] = {0, 0, 0, 0};
  std::uint8_t ndecoded_ = 0;
  unsigned hex_ = 0;
  int nhex_ = 0;
  unsigned high_ = 0;  // pending high surrogate
  const char* literal_ = "";
  int lit_pos_ = 0;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_JSON_VALIDATOR_H_
