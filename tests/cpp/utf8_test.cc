// Tests of Utf8Sanitizer and ValidUtf8PrefixLength (cpp/hermes_stream/utf8.h).
//
// The expected outputs of the table test were produced with CPython:
//   bytes.fromhex(h).decode("utf-8", "replace")
// which replaces every maximal subpart of an ill-formed sequence with one U+FFFD (Unicode §3.9),
// the behaviour python/hermes_stream/reference/utf8.py specifies for whole streams.
#include "hermes_stream/utf8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace hermes_stream {
namespace {

constexpr std::string_view kFffd = "\xEF\xBF\xBD";

// "C3A9" -> bytes; '?' -> U+FFFD (UTF-8 EF BF BD). Used for readable expected outputs.
std::string FromHex(std::string_view hex) {
  std::string out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    ADD_FAILURE() << "bad hex digit " << c;
    return 0;
  };
  for (std::size_t i = 0; i < hex.size();) {
    if (hex[i] == '?') {
      out.append(kFffd);
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    i += 2;
  }
  return out;
}

std::string ToHex(std::string_view s) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool IsValidUtf8(std::string_view s) { return ValidUtf8PrefixLength(s) == s.size(); }

// Feeds `pieces` in order to one sanitizer, checks each output is valid UTF-8, then flushes.
std::string SanitizePieces(const std::vector<std::string_view>& pieces) {
  Utf8Sanitizer san;
  std::string out;
  for (std::string_view piece : pieces) {
    std::string_view got = san.Feed(piece);
    EXPECT_TRUE(IsValidUtf8(got)) << "Feed output is not valid UTF-8: " << ToHex(got);
    out.append(got);
  }
  std::string_view tail = san.Flush();
  EXPECT_TRUE(tail.empty() || tail == kFffd) << ToHex(tail);
  out.append(tail);
  EXPECT_FALSE(san.pending());
  return out;
}

std::string SanitizeWhole(std::string_view s) { return SanitizePieces({s}); }

std::string SanitizeBytewise(std::string_view s) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < s.size(); ++i) pieces.push_back(s.substr(i, 1));
  return SanitizePieces(pieces);
}

// An independent, deliberately simple decoder written from Unicode Table 3-7 (well-formed byte
// sequences) and the "maximal subpart" practice, to cross-check the optimised code.
struct Form {
  unsigned char lead_lo, lead_hi;
  int len;
  unsigned char second_lo, second_hi;
};
constexpr Form kForms[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
    {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
    {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

// Decodes `s`; *valid_prefix receives the length of the longest prefix of complete,
// well-formed sequences.
std::string RefDecode(std::string_view s, std::size_t* valid_prefix) {
  std::string out;
  bool clean = true;
  *valid_prefix = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(s[i]);
      ++i;
      if (clean) *valid_prefix = i;
      continue;
    }
    const Form* form = nullptr;
    for (const Form& f : kForms) {
      if (b >= f.lead_lo && b <= f.lead_hi) form = &f;
    }
    if (form == nullptr) {  // not a lead byte at all
      out.append(kFffd);
      clean = false;
      ++i;
      continue;
    }
    int matched = 1;
    while (matched < form->len && i + static_cast<std::size_t>(matched) < s.size()) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(matched)]);
      const unsigned char lo = matched == 1 ? form->second_lo : 0x80;
      const unsigned char hi = matched == 1 ? form->second_hi : 0xBF;
      if (c < lo || c > hi) break;
      ++matched;
    }
    if (matched == form->len) {
      out.append(s.substr(i, static_cast<std::size_t>(matched)));
      i += static_cast<std::size_t>(matched);
      if (clean) *valid_prefix = i;
    } else {  // maximal subpart (possibly cut by the end of input): one U+FFFD
      out.append(kFffd);
      clean = false;
      i += static_cast<std::size_t>(matched);
    }
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// ValidUtf8PrefixLength

TEST(ValidUtf8PrefixLength, EmptyAndAscii) {
  EXPECT_EQ(ValidUtf8PrefixLength(""), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("a"), 1u);
  const std::string ascii(1000, 'x');
  EXPECT_EQ(ValidUtf8PrefixLength(ascii), ascii.size());
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
  EXPECT_EQ(ValidUtf8PrefixLength(all_ascii), all_ascii.size());
}

TEST(ValidUtf8PrefixLength, Multibyte) {
  const std::string s = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xF0\x9F\x98\x80";
  EXPECT_EQ(ValidUtf8PrefixLength(s), s.size());
  EXPECT_EQ(ValidUtf8PrefixLength("\xC2\x80"), 2u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xDF\xBF"), 2u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xE0\xA0\x80"), 3u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xED\x9F\xBF"), 3u);  // U+D7FF, last before surrogates
  EXPECT_EQ(ValidUtf8PrefixLength("\xEE\x80\x80"), 3u);  // U+E000, first after surrogates
  EXPECT_EQ(ValidUtf8PrefixLength("\xEF\xBF\xBF"), 3u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xF0\x90\x80\x80"), 4u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
}

TEST(ValidUtf8PrefixLength, StopsBeforeIncompleteSequence) {
  const std::string s = "abc\xE2\x82\xAC";
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    const std::size_t expected = cut < 3 ? cut : (cut < 6 ? 3 : 6);
    EXPECT_EQ(ValidUtf8PrefixLength(std::string_view(s).substr(0, cut)), expected) << cut;
  }
  EXPECT_EQ(ValidUtf8PrefixLength("\xF0\x9F\x98"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("x\xC3"), 1u);
}

TEST(ValidUtf8PrefixLength, StopsAtIllFormedByte) {
  EXPECT_EQ(ValidUtf8PrefixLength("\x80"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("ab\xBF"
                                  "cd"),
            2u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xC0\xAF"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xC1\xBF"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xE0\x80\x80"), 0u);      // overlong
  EXPECT_EQ(ValidUtf8PrefixLength("\xED\xA0\x80"), 0u);      // surrogate
  EXPECT_EQ(ValidUtf8PrefixLength("\xF4\x90\x80\x80"), 0u);  // > U+10FFFF
  EXPECT_EQ(ValidUtf8PrefixLength("\xF0\x80\x80\x80"), 0u);  // overlong
  EXPECT_EQ(ValidUtf8PrefixLength("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xFF"), 0u);
  EXPECT_EQ(ValidUtf8PrefixLength("\xC3\xA9\xC3\x41"), 2u);
}

TEST(ValidUtf8PrefixLength, AsciiFastPathBoundaries) {
  // The 8-byte ASCII fast path must notice a non-ASCII byte at every offset and length.
  for (std::size_t len = 0; len < 40; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      std::string s(len, 'a');
      s[at] = '\x80';
      EXPECT_EQ(ValidUtf8PrefixLength(s), at) << "len=" << len << " at=" << at;
      if (at + 1 < len) {
        s[at] = '\xC3';
        s[at + 1] = '\xA9';
        EXPECT_EQ(ValidUtf8PrefixLength(s), len) << "len=" << len << " at=" << at;
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Utf8Sanitizer

TEST(Utf8Sanitizer, ValidInputIsReturnedWithoutCopy) {
  Utf8Sanitizer san;
  const std::string ascii = "plain ascii text";
  std::string_view out = san.Feed(ascii);
  EXPECT_EQ(out, ascii);
  EXPECT_EQ(out.data(), ascii.data());
  EXPECT_FALSE(san.pending());

  const std::string multi = "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  out = san.Feed(multi);
  EXPECT_EQ(out, multi);
  EXPECT_EQ(out.data(), multi.data());
  EXPECT_EQ(san.Flush(), "");
}

TEST(Utf8Sanitizer, EmptyFeedAndFlush) {
  Utf8Sanitizer san;
  EXPECT_EQ(san.Feed(""), "");
  EXPECT_FALSE(san.pending());
  EXPECT_EQ(san.Flush(), "");
  EXPECT_EQ(san.Flush(), "");
}

TEST(Utf8Sanitizer, CpythonReplaceTable) {
  struct Case {
    const char* in;
    const char* out;  // '?' is U+FFFD
  };
  // Each row checked with python3: bytes.fromhex(in).decode("utf-8", "replace").
  const Case cases[] = {
      {"80", "?"},          {"BF", "?"},          {"8080", "??"},
      {"C0", "?"},          {"C1", "?"},          {"C0AF", "??"},
      {"C1BF", "??"},       {"C2", "?"},          {"C27F", "?7F"},
      {"C2C2", "??"},       {"DF", "?"},          {"E0", "?"},
      {"E080", "??"},       {"E08080", "???"},    {"E09F80", "???"},
      {"E0A0", "?"},        {"E0A080", "E0A080"}, {"ED", "?"},
      {"EDA0", "??"},       {"EDA080", "???"},    {"EDBFBF", "???"},
      {"ED9FBF", "ED9FBF"}, {"F0", "?"},          {"F08F", "??"},
      {"F0808080", "????"}, {"F09080", "?"},      {"F0908080", "F0908080"},
      {"F4", "?"},          {"F48F", "?"},        {"F48FBFBF", "F48FBFBF"},
      {"F490", "??"},       {"F4908080", "????"}, {"F5", "?"},
      {"F58080", "???"},    {"F8", "?"},          {"FC", "?"},
      {"FE", "?"},          {"FF", "?"},          {"E282", "?"},
      {"E282AC", "E282AC"}, {"F09F98", "?"},      {"F09F9880", "F09F9880"},
      {"41C3", "41?"},      {"C341", "?41"},      {"E2FF", "??"},
      {"E282FF41", "??41"}, {"F09FFF", "??"},     {"F480", "?"},
      {"C280", "C280"},     {"C29F", "C29F"},     {"41E0A042", "41?42"},
      {"61ED9F", "61?"},    {"00", "00"},         {"7F80C2", "7F??"},
  };
  for (const Case& c : cases) {
    const std::string in = FromHex(c.in);
    const std::string expected = FromHex(c.out);
    EXPECT_EQ(ToHex(SanitizeWhole(in)), ToHex(expected)) << "input " << c.in << " (whole)";
    EXPECT_EQ(ToHex(SanitizeBytewise(in)), ToHex(expected)) << "input " << c.in << " (bytewise)";
    // Surrounded by text, in two pieces split at every position.
    const std::string wrapped = "<" + in + ">";
    const std::string wrapped_expected = "<" + expected + ">";
    for (std::size_t cut = 0; cut <= wrapped.size(); ++cut) {
      std::string_view w = wrapped;
      EXPECT_EQ(ToHex(SanitizePieces({w.substr(0, cut), w.substr(cut)})), ToHex(wrapped_expected))
          << "input " << c.in << " cut " << cut;
    }
  }
}

TEST(Utf8Sanitizer, SplitAtEveryBytePosition) {
  // Valid text with 1-, 2-, 3- and 4-byte sequences plus some ill-formed bytes.
  const std::string s =
      "a\xC3\xA9"
      "b\xE2\x82\xAC"
      "c\xF0\x9D\x84\x9E"
      "d\x80"
      "e\xED\xA0\x80"
      "f\xE0\xA0"
      "g\xF4\x8F\xBF\xBF"
      "h\xC2";
  const std::string whole = SanitizeWhole(s);
  std::size_t unused = 0;
  EXPECT_EQ(ToHex(whole), ToHex(RefDecode(s, &unused)));
  EXPECT_EQ(ToHex(SanitizeBytewise(s)), ToHex(whole));
  const std::string_view v = s;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    for (std::size_t j = i; j <= s.size(); ++j) {
      EXPECT_EQ(SanitizePieces({v.substr(0, i), v.substr(i, j - i), v.substr(j)}), whole)
          << "split at " << i << "," << j;
    }
  }
}

TEST(Utf8Sanitizer, SplitSequenceIsHeldUntilComplete) {
  const std::string emoji = "\xF0\x9F\x98\x80";
  Utf8Sanitizer san;
  EXPECT_EQ(san.Feed("x\xF0"), "x");
  EXPECT_TRUE(san.pending());
  EXPECT_EQ(san.Feed("\x9F"), "");
  EXPECT_TRUE(san.pending());
  EXPECT_EQ(san.Feed("\x98"), "");
  EXPECT_TRUE(san.pending());
  EXPECT_EQ(san.Feed("\x80y"), emoji + "y");
  EXPECT_FALSE(san.pending());
  EXPECT_EQ(san.Flush(), "");

  // A held sequence completed in the middle of a larger piece.
  EXPECT_EQ(san.Feed("\xE2\x82"), "");
  EXPECT_EQ(san.Feed("\xAC rest \xC3\xA9"), "\xE2\x82\xAC rest \xC3\xA9");
  EXPECT_FALSE(san.pending());
}

TEST(Utf8Sanitizer, IllFormedBytesAreReplacedAtOnceNotHeld) {
  Utf8Sanitizer san;
  // E0 80: 80 is outside E0's A0..BF range, so both bytes are replaced now, nothing is held.
  EXPECT_EQ(san.Feed("\xE0\x80"), std::string(kFffd) + std::string(kFffd));
  EXPECT_FALSE(san.pending());
  // ED A0: surrogate range, replaced at once (CPython's incremental decoder would hold it).
  EXPECT_EQ(san.Feed("\xED\xA0"), std::string(kFffd) + std::string(kFffd));
  EXPECT_FALSE(san.pending());
  EXPECT_EQ(san.Feed("\xF4\x90"), std::string(kFffd) + std::string(kFffd));
  EXPECT_FALSE(san.pending());
  // F0 90 is a valid prefix: held.
  EXPECT_EQ(san.Feed("\xF0\x90"), "");
  EXPECT_TRUE(san.pending());
  EXPECT_EQ(san.Flush(), kFffd);
  EXPECT_FALSE(san.pending());
}

TEST(Utf8Sanitizer, HeldPrefixInterruptedByNextPiece) {
  Utf8Sanitizer san;
  EXPECT_EQ(san.Feed("\xE2\x82"), "");
  EXPECT_TRUE(san.pending());
  // 'A' cannot continue E2 82: one U+FFFD for the held maximal subpart, then 'A'.
  EXPECT_EQ(san.Feed("A"), std::string(kFffd) + "A");
  EXPECT_FALSE(san.pending());

  EXPECT_EQ(san.Feed("\xC3"), "");
  // A new lead byte interrupts; it is held in turn.
  EXPECT_EQ(san.Feed("\xC3"), kFffd);
  EXPECT_TRUE(san.pending());
  EXPECT_EQ(san.Feed("\xA9"), "\xC3\xA9");
  EXPECT_FALSE(san.pending());
}

TEST(Utf8Sanitizer, FlushReleasesOneReplacementPerHeldSequence) {
  for (const char* partial :
       {"\xC3", "\xE2", "\xE2\x82", "\xF0", "\xF0\x9F", "\xF0\x9F\x98", "\xF4\x8F\xBF"}) {
    Utf8Sanitizer san;
    EXPECT_EQ(san.Feed(partial), "") << ToHex(partial);
    EXPECT_TRUE(san.pending()) << ToHex(partial);
    EXPECT_EQ(san.Flush(), kFffd) << ToHex(partial);
    EXPECT_FALSE(san.pending());
    EXPECT_EQ(san.Flush(), "");
    // The sanitizer starts afresh: a continuation byte is now a lone continuation.
    EXPECT_EQ(san.Feed("\x80z"), std::string(kFffd) + "z");
    EXPECT_EQ(san.Feed("ok"), "ok");
  }
}

TEST(Utf8Sanitizer, OutputViewIsValidUntilNextCall) {
  Utf8Sanitizer san;
  std::string first(
      san.Feed("a\xFF"
               "b"));
  EXPECT_EQ(first, "a" + std::string(kFffd) + "b");
  std::string second(san.Feed("\xFE"));
  EXPECT_EQ(second, kFffd);
  EXPECT_EQ(first, "a" + std::string(kFffd) + "b");
}

TEST(Utf8Sanitizer, ExhaustiveShortStringsMatchIndependentDecoder) {
  // All 1- and 2-byte strings.
  for (int a = 0; a < 256; ++a) {
    for (int b = -1; b < 256; ++b) {
      std::string s(1, static_cast<char>(a));
      if (b >= 0) s.push_back(static_cast<char>(b));
      std::size_t prefix = 0;
      const std::string expected = RefDecode(s, &prefix);
      ASSERT_EQ(ToHex(SanitizeWhole(s)), ToHex(expected)) << ToHex(s);
      ASSERT_EQ(ToHex(SanitizeBytewise(s)), ToHex(expected)) << ToHex(s);
      ASSERT_EQ(ValidUtf8PrefixLength(s), prefix) << ToHex(s);
    }
  }
  // 3- and 4-byte strings over the bytes at the edges of every range in Table 3-7.
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  constexpr std::size_t kEdges = sizeof(edges);
  for (std::size_t len = 3; len <= 4; ++len) {
    std::size_t total = 1;
    for (std::size_t k = 0; k < len; ++k) total *= kEdges;
    for (std::size_t idx = 0; idx < total; ++idx) {
      std::string s;
      std::size_t rest = idx;
      for (std::size_t k = 0; k < len; ++k) {
        s.push_back(static_cast<char>(edges[rest % kEdges]));
        rest /= kEdges;
      }
      std::size_t prefix = 0;
      const std::string expected = RefDecode(s, &prefix);
      ASSERT_EQ(ToHex(SanitizeWhole(s)), ToHex(expected)) << ToHex(s);
      ASSERT_EQ(ValidUtf8PrefixLength(s), prefix) << ToHex(s);
      if (idx % 7 == 0) {  // the bytewise path on a sample, to keep the sanitizer build fast
        ASSERT_EQ(ToHex(SanitizeBytewise(s)), ToHex(expected)) << ToHex(s);
      }
    }
  }
}

TEST(Utf8Sanitizer, RandomBytesRandomPiecesMatchWholeFeed) {
  std::mt19937 rng(20240611u);
  const unsigned char alphabet[] = {'a',  '<',  ' ',  0x80, 0x9F, 0xA0, 0xBF, 0xC2, 0xC3, 0xE0,
                                    0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x82, 0xAC, 0x90};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(alphabet) - 1);
  std::uniform_int_distribution<std::size_t> length(0, 64);
  std::uniform_int_distribution<std::size_t> piece(0, 6);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    const std::size_t n = length(rng);
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(alphabet[pick(rng)]));
    std::size_t unused = 0;
    const std::string expected = RefDecode(s, &unused);
    ASSERT_EQ(ToHex(SanitizeWhole(s)), ToHex(expected)) << ToHex(s);
    std::vector<std::string_view> pieces;
    const std::string_view v = s;
    for (std::size_t pos = 0; pos < v.size();) {
      const std::size_t len = std::min(piece(rng), v.size() - pos);
      pieces.push_back(v.substr(pos, len));
      pos += len;
    }
    ASSERT_EQ(ToHex(SanitizePieces(pieces)), ToHex(expected)) << ToHex(s);
  }
}

}  // namespace
}  // namespace hermes_stream
