#include "hermes_stream/utf8.h"

#include <cstring>

namespace hermes_stream {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";

// Number of continuation bytes and the allowed range of the first one, for a lead byte.
// Returns -1 for bytes that cannot start a sequence.
inline int LeadInfo(unsigned char b, unsigned char* lo, unsigned char* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b < 0x80) return 0;
  if (b < 0xC2) return -1;
  if (b < 0xE0) return 1;
  if (b == 0xE0) {
    *lo = 0xA0;
    return 2;
  }
  if (b == 0xED) {
    *hi = 0x9F;
    return 2;
  }
  if (b < 0xF0) return 2;
  if (b == 0xF0) {
    *lo = 0x90;
    return 3;
  }
  if (b < 0xF4) return 3;
  if (b == 0xF4) {
    *hi = 0x8F;
    return 3;
  }
  return -1;
}

}  // namespace

std::size_t ValidUtf8PrefixLength(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    unsigned char lo, hi;
    int need = LeadInfo(b, &lo, &hi);
    if (need <= 0 || i + static_cast<std::size_t>(need) >= n) return i;  // ill-formed/incomplete
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (int k = 2; k <= need; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += static_cast<std::size_t>(need) + 1;
  }
  return n;
}

void Utf8Sanitizer::Step(unsigned char b) {
  if (need_ != 0) {
    if (b >= lo_ && b <= hi_) {
      held_[nheld_++] = static_cast<char>(b);
      lo_ = 0x80;
      hi_ = 0xBF;
      if (--need_ == 0) {
        out_.append(held_, static_cast<std::size_t>(nheld_));
        nheld_ = 0;
      }
      return;
    }
    // The held bytes are a maximal subpart of an ill-formed sequence: one U+FFFD, then `b`
    // starts afresh.
    out_.append(kReplacement, 3);
    nheld_ = 0;
    need_ = 0;
  }
  if (b < 0x80) {
    out_.push_back(static_cast<char>(b));
    return;
  }
  int need = LeadInfo(b, &lo_, &hi_);
  if (need < 0) {
    out_.append(kReplacement, 3);
    return;
  }
  held_[0] = static_cast<char>(b);
  nheld_ = 1;
  need_ = need;
}

std::string_view Utf8Sanitizer::Feed(std::string_view in) {
  std::size_t start = 0;
  if (need_ == 0) {
    start = ValidUtf8PrefixLength(in);
    if (start == in.size()) return in;
  }
  out_.assign(in.data(), start);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (std::size_t i = start; i < in.size(); ++i) Step(p[i]);
  return out_;
}

std::string_view Utf8Sanitizer::Flush() {
  out_.clear();
  if (need_ != 0) {
    out_.append(kReplacement, 3);
    need_ = 0;
    nheld_ = 0;
    lo_ = 0x80;
    hi_ = 0xBF;
  }
  return out_;
}

}  // namespace hermes_stream
