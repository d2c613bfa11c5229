// UTF-8 sanitising for raw model bytes.
//
// Utf8Sanitizer turns a byte stream, fed in arbitrary pieces, into valid UTF-8: a sequence split
// across pieces is held until it completes, and every maximal subpart of an ill-formed sequence
// becomes one U+FFFD (Unicode 15 §3.9, "best practice"), exactly as CPython's
// `bytes.decode("utf-8", "replace")` does. Work is O(piece); at most 3 bytes are held.
// Not thread-safe; one instance per stream.
#ifndef HERMES_STREAM_UTF8_H_
#define HERMES_STREAM_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hermes_stream {

/// Length of the longest prefix of `s` made of complete, well-formed UTF-8 sequences.
std::size_t ValidUtf8PrefixLength(std::string_view s);

class Utf8Sanitizer {
 public:
  /// \brief Sanitise the next piece.
  /// \return valid UTF-8: `in` itself when it is complete and well-formed and nothing is held
  ///         (no copy), otherwise a view of an internal buffer valid until the next call.
  std::string_view Feed(std::string_view in);

  /// \brief Release a held incomplete sequence as U+FFFD ("" when nothing is held).
  std::string_view Flush();

  bool pending() const { return need_ != 0; }

 private:
  void Step(unsigned char b);

  std::string out_;  // scratch output, capacity reused
  char held_[4] = {0, 0, 0, 0};
  int nheld_ = 0;
  int need_ = 0;             // continuation bytes still expected
  unsigned char lo_ = 0x80;  // allowed range of the next continuation byte
  unsigned char hi_ = 0xBF;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_UTF8_H_
