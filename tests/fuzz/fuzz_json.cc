// libFuzzer target: the incremental JSON validator (tool-call bodies).
// Invariants: deterministic (a Reset() validator gives the same verdict at the same byte);
// nesting never exceeds max_depth; decoded string bytes are valid UTF-8 whenever the input
// prefix is; a rejected byte is rejected with one of the documented reasons; after the document
// completes, only whitespace is accepted.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz_common.h"
#include "hermes_stream/json_validator.h"
#include "hermes_stream/utf8.h"

using hermes_stream::JsonValidator;
namespace je = hermes_stream::json_error;

namespace {

struct Verdict {
  std::size_t stop;  // index of the rejected byte, or size
  const char* reason;
  std::string decoded;
};

Verdict Validate(JsonValidator& v, std::string_view s, std::size_t max_depth) {
  Verdict out{s.size(), nullptr, {}};
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool was_done = v.done();
    const char* err = v.Step(static_cast<unsigned char>(s[i]));
    fuzz::Check(v.depth() <= max_depth, "depth <= max_depth");
    if (err != nullptr) {
      out.stop = i;
      out.reason = err;
      return out;
    }
    if (was_done)
      fuzz::Check(JsonValidator::IsSpace(static_cast<unsigned char>(s[i])),
                  "only whitespace after a complete document");
    out.decoded += v.decoded();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::size_t max_depth = 1 + in.Byte() % 8;
  const std::string_view s = in.Rest();
  JsonValidator v(max_depth);
  const Verdict a = Validate(v, s, max_depth);
  v.Reset();
  const Verdict b = Validate(v, s, max_depth);
  fuzz::Check(a.stop == b.stop && a.reason == b.reason, "deterministic after Reset()");
  fuzz::Equal(a.decoded, b.decoded, "deterministic decoding");
  if (a.reason != nullptr) {
    const char* known[] = {je::kChar, je::kControl,   je::kEscape,
                           je::kHex,  je::kSurrogate, je::kDepth};
    bool ok = false;
    for (const char* k : known) ok = ok || std::strcmp(k, a.reason) == 0;
    fuzz::Check(ok, "a documented rejection reason");
  }
  const std::string_view accepted = s.substr(0, a.stop);
  if (hermes_stream::ValidUtf8PrefixLength(accepted) == accepted.size()) {
    fuzz::Check(hermes_stream::ValidUtf8PrefixLength(a.decoded) == a.decoded.size(),
                "decoded strings are valid UTF-8 when the input is");
  }
  return 0;
}
