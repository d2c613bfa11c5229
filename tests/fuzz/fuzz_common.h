// Shared helpers of the libFuzzer targets (tests/fuzz/, built by tools/run_fuzz.sh).
// A failed invariant prints what differed and aborts, so libFuzzer saves the input as a crash.
#ifndef HERMES_STREAM_TESTS_FUZZ_FUZZ_COMMON_H_
#define HERMES_STREAM_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hermes_stream/utf8.h"

namespace fuzz {

// Consumes the fuzzer's bytes: small numbers from the front, the rest as payload.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}
  std::uint8_t Byte() { return pos_ < size_ ? static_cast<std::uint8_t>(data_[pos_++]) : 0; }
  bool Bit() { return (Byte() & 1) != 0; }
  std::string_view Rest() { return std::string_view(data_ + pos_, size_ - pos_); }

 private:
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

[[noreturn]] inline void Fail(const char* what, std::string_view got, std::string_view want) {
  std::fprintf(stderr, "invariant failed: %s\n  got:  %.*s\n  want: %.*s\n", what,
               static_cast<int>(got.size()), got.data(), static_cast<int>(want.size()),
               want.data());
  std::abort();
}

inline void Check(bool ok, const char* what) {
  if (!ok) Fail(what, "false", "true");
}

inline void Equal(std::string_view got, std::string_view want, const char* what) {
  if (got != want) Fail(what, got, want);
}

// `bytes` sanitised in one piece (the chunk-independent reference of the sanitiser).
inline std::string Sanitized(std::string_view bytes) {
  hermes_stream::Utf8Sanitizer s;
  std::string out(s.Feed(bytes));
  out += s.Flush();
  return out;
}

// Chunk sizes 1..16 drawn from the front of `cuts` (cycled); `n` is the total.
class Chunker {
 public:
  explicit Chunker(std::string_view cuts) : cuts_(cuts) {}
  std::size_t Next(std::size_t left) {
    std::size_t k =
        cuts_.empty() ? left : 1 + (static_cast<unsigned char>(cuts_[i_++ % cuts_.size()]) % 16);
    return k < left ? k : left;
  }

 private:
  std::string_view cuts_;
  std::size_t i_ = 0;
};

}  // namespace fuzz

#endif  // HERMES_STREAM_TESTS_FUZZ_FUZZ_COMMON_H_
