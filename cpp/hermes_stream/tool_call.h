// Recogniser of one <tool_call> body, one byte at a time (SPEC rules 9, 10).
//
// Runs the JSON validator over the body and watches the root object's members: the `name` string
// (decoded; the call is committed when it closes), the `arguments` value (an object, passed on
// verbatim, or a string holding an object, passed on decoded) and the close of the root object.
// Other members, and repeated `name`/`arguments` members, are validated and ignored.
// Mirrors python/hermes_stream/reference/tool_call.py.
#ifndef HERMES_STREAM_TOOL_CALL_H_
#define HERMES_STREAM_TOOL_CALL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "hermes_stream/json_validator.h"

namespace hermes_stream {

class CallMachine {
 public:
  enum Status : std::uint8_t { kOk, kCommit, kClosed, kFail };

  explicit CallMachine(std::size_t max_depth) : v_(max_depth), inner_(max_depth) {}

  /// Start a new body.
  void Reset();

  /// Consume one body byte. Argument bytes it produces are appended to *args.
  /// kCommit: the name string just closed (name()). kClosed: the root object closed, with a name.
  /// kFail: reason() says why; the byte is rejected.
  Status Step(unsigned char c, std::string* args);

  bool committed() const { return committed_; }
  bool has_arguments() const { return has_arguments_; }
  const std::string& name() const { return name_; }
  const std::string& reason() const { return reason_; }

 private:
  enum class Role : std::uint8_t { kNone, kName, kArgsObject, kArgsString };
  static constexpr std::size_t kMaxKey = 16;  // longer keys are neither name nor arguments

  Status Fail(const char* reason, const char* prefix = "");
  Status MemberValue(unsigned char c, std::string* args);
  Status ArgsString(bool string_close, std::string* args);

  JsonValidator v_;
  JsonValidator inner_;  // string-encoded arguments
  Role role_ = Role::kNone;
  bool committed_ = false;
  bool seen_name_ = false;
  bool has_arguments_ = false;
  bool in_key_ = false;
  bool key_long_ = false;
  std::string key_;
  std::string name_;
  std::string reason_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_TOOL_CALL_H_
