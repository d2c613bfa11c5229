#include "hermes_stream/tool_call.h"

namespace hermes_stream {
namespace {

constexpr const char* kNotObject = "not a JSON object";
constexpr const char* kNameType = "name is not a string";
constexpr const char* kNoName = "object has no name";
constexpr const char* kArgsType = "arguments is not an object";
constexpr const char* kArgsString = "arguments string is not a complete JSON object";
constexpr const char* kArgsStringPrefix = "arguments string: ";

}  // namespace

void CallMachine::Reset() {
  v_.Reset();
  inner_.Reset();
  role_ = Role::kNone;
  committed_ = seen_name_ = has_arguments_ = in_key_ = key_long_ = false;
  key_.clear();
  name_.clear();
  reason_.clear();
}

CallMachine::Status CallMachine::Fail(const char* reason, const char* prefix) {
  reason_.assign(prefix);
  reason_.append(reason);
  return kFail;
}

CallMachine::Status CallMachine::Step(unsigned char c, std::string* args) {
  using J = JsonValidator;
  const J::State st = v_.state();
  const std::size_t depth = v_.depth();
  const bool space = J::IsSpace(c);
  const bool value_start =
      (st == J::kValue || st == J::kArrFirst) && !space && !(st == J::kArrFirst && c == ']');
  const bool key_start = (st == J::kObjFirst || st == J::kObjKey) && c == '"';
  const bool string_close = st == J::kString && c == '"';
  if (const char* err = v_.Step(c)) return Fail(err);
  if (depth == 0 && value_start && c != '{') return Fail(kNotObject);
  if (v_.done()) return committed_ ? kClosed : Fail(kNoName);
  switch (role_) {
    case Role::kNone:
      if (depth != 1) return kOk;
      if (key_start) {
        in_key_ = true;
        key_long_ = false;
        key_.clear();
      } else if (in_key_) {
        if (string_close) {
          in_key_ = false;
        } else if (key_.size() + v_.decoded().size() > kMaxKey) {
          key_long_ = true;
        } else {
          key_.append(v_.decoded());
        }
      } else if (value_start) {
        return MemberValue(c, args);
      }
      return kOk;
    case Role::kName:
      if (string_close) {
        role_ = Role::kNone;
        committed_ = true;
        return kCommit;
      }
      name_.append(v_.decoded());
      return kOk;
    case Role::kArgsObject:
      args->push_back(static_cast<char>(c));
      if (v_.depth() == 1) role_ = Role::kNone;
      return kOk;
    case Role::kArgsString: return ArgsString(string_close, args);
  }
  return kOk;
}

CallMachine::Status CallMachine::MemberValue(unsigned char c, std::string* args) {
  if (key_long_) return kOk;
  if (key_ == "name" && !seen_name_) {
    seen_name_ = true;
    if (c != '"') return Fail(kNameType);
    role_ = Role::kName;
  } else if (key_ == "arguments" && !has_arguments_) {
    has_arguments_ = true;
    if (c == '{') {
      role_ = Role::kArgsObject;
      args->push_back('{');
    } else if (c == '"') {
      role_ = Role::kArgsString;
      inner_.Reset();
    } else {
      return Fail(kArgsType);
    }
  }
  return kOk;
}

CallMachine::Status CallMachine::ArgsString(bool string_close, std::string* args) {
  using J = JsonValidator;
  if (string_close) {
    role_ = Role::kNone;
    return inner_.done() ? kOk : Fail(kArgsString);
  }
  for (char ch : v_.decoded()) {
    const auto c = static_cast<unsigned char>(ch);
    const J::State ist = inner_.state();
    const std::size_t idepth = inner_.depth();
    if (const char* err = inner_.Step(c)) return Fail(err, kArgsStringPrefix);
    if (idepth == 0 && ist == J::kValue && !J::IsSpace(c)) {
      if (c != '{') return Fail(kNotObject, kArgsStringPrefix);
      args->push_back(ch);
    } else if (idepth > 0) {
      args->push_back(ch);
    }
  }
  return kOk;
}

}  // namespace hermes_stream
