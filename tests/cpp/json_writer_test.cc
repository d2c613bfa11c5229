// Tests of the JSON writer (cpp/hermes_stream/json_writer.h). Every expected text is what
// CPython 3.11's `json.dumps(x, ensure_ascii=False)` (or `repr(x)` for floats) returns; the Python
// suite (tests/python/test_render.py) checks the same against json.dumps on generated values.
#include "hermes_stream/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace hermes_stream {
namespace {

// {"a": [1, None, True, False, -2.5, nan], "b": {}, "c": [], "d": {"e": [[], [{}]]},
//  "é\n": 'x"y'}
TEST(JsonWriterTest, NestingAndSeparatorsLikeJsonDumps) {
  JsonWriter w;
  const std::size_t at = w.BeginDocument();
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.Comma();
  w.Null();
  w.Comma();
  w.Bool(true);
  w.Comma();
  w.Bool(false);
  w.Comma();
  w.Float(-2.5);
  w.Comma();
  w.Float(std::nan(""));
  w.EndArray();
  w.Comma();
  w.Key("b");
  w.BeginObject();
  w.EndObject();
  w.Comma();
  w.Key("c");
  w.BeginArray();
  w.EndArray();
  w.Comma();
  w.Key("d");
  w.BeginObject();
  w.Key("e");
  w.BeginArray();
  w.BeginArray();
  w.EndArray();
  w.Comma();
  w.BeginArray();
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.EndArray();
  w.EndObject();
  w.Comma();
  w.Key("\xC3\xA9\n");
  w.String("x\"y");
  w.EndObject();
  EXPECT_EQ(w.Text(at),
            "{\"a\": [1, null, true, false, -2.5, NaN], \"b\": {}, \"c\": [], "
            "\"d\": {\"e\": [[], [{}]]}, \"\xC3\xA9\\n\": \"x\\\"y\"}");
}

// {1.5: 0, True: 1, False: 2, None: 3, 7: 4, -2**63: 5, 2**64: 6, inf: 7, -inf: 8, nan: 9,
//  1e20: 10}: json.dumps converts non-str keys to their JSON text, quoted.
TEST(JsonWriterTest, NonStringKeysQuotedLikeJsonDumps) {
  JsonWriter w;
  w.BeginObject();
  w.FloatKey(1.5);
  w.Int(0);
  w.Comma();
  w.BoolKey(true);
  w.Int(1);
  w.Comma();
  w.BoolKey(false);
  w.Int(2);
  w.Comma();
  w.NullKey();
  w.Int(3);
  w.Comma();
  w.IntKey(7);
  w.Int(4);
  w.Comma();
  w.IntKey(std::numeric_limits<std::int64_t>::min());
  w.Int(5);
  w.Comma();
  w.BigIntKey("18446744073709551616");
  w.Int(6);
  w.Comma();
  w.FloatKey(std::numeric_limits<double>::infinity());
  w.Int(7);
  w.Comma();
  w.FloatKey(-std::numeric_limits<double>::infinity());
  w.Int(8);
  w.Comma();
  w.FloatKey(std::nan(""));
  w.Int(9);
  w.Comma();
  w.FloatKey(1e20);
  w.Int(10);
  w.EndObject();
  EXPECT_EQ(w.view(),
            "{\"1.5\": 0, \"true\": 1, \"false\": 2, \"null\": 3, \"7\": 4, "
            "\"-9223372036854775808\": 5, \"18446744073709551616\": 6, \"Infinity\": 7, "
            "\"-Infinity\": 8, \"NaN\": 9, \"1e+20\": 10}");
}

// [2**63 - 1, -2**63, 2**70, -2**70, 0, inf, -inf, 1e16, 0.1]
TEST(JsonWriterTest, NumbersLikeJsonDumps) {
  JsonWriter w;
  w.BeginArray();
  w.Int(std::numeric_limits<std::int64_t>::max());
  w.Comma();
  w.Int(std::numeric_limits<std::int64_t>::min());
  w.Comma();
  w.BigInt("1180591620717411303424");
  w.Comma();
  w.BigInt("-1180591620717411303424");
  w.Comma();
  w.Int(0);
  w.Comma();
  w.Float(std::numeric_limits<double>::infinity());
  w.Comma();
  w.Float(-std::numeric_limits<double>::infinity());
  w.Comma();
  w.Float(1e16);
  w.Comma();
  w.Float(0.1);
  w.EndArray();
  EXPECT_EQ(w.view(),
            "[9223372036854775807, -9223372036854775808, 1180591620717411303424, "
            "-1180591620717411303424, 0, Infinity, -Infinity, 1e+16, 0.1]");
}

// Documents written back to back are not separated, and each can be viewed in place.
TEST(JsonWriterTest, DocumentsBackToBack) {
  JsonWriter w;
  const std::size_t a = w.BeginDocument();
  w.BeginObject();
  w.Key("k");
  w.Int(1);
  w.EndObject();
  const std::size_t a_size = w.size() - a;
  const std::size_t b = w.BeginDocument();
  w.String("s");
  const std::size_t c = w.BeginDocument();
  w.Int(-3);
  EXPECT_EQ(w.Text(a, a_size), "{\"k\": 1}");
  EXPECT_EQ(w.Text(b, c - b), "\"s\"");
  EXPECT_EQ(w.Text(c), "-3");
  EXPECT_EQ(w.view(), "{\"k\": 1}\"s\"-3");
  w.Clear();
  EXPECT_EQ(w.size(), 0u);
  w.Null();
  EXPECT_EQ(w.view(), "null");
}

// Texts far beyond the first allocation (256 bytes) come out whole, and Trim drops big storage.
TEST(JsonWriterTest, GrowsAndTrims) {
  JsonWriter w;
  std::string want = "[";
  const std::string piece(37, 'x');
  w.BeginArray();
  for (int i = 0; i < 2000; ++i) {
    if (i != 0) w.Comma();
    w.String(piece);
    w.Comma();
    w.Int(i);
    if (i != 0) want += ", ";
    want += "\"" + piece + "\", " + std::to_string(i);
  }
  w.EndArray();
  want += "]";
  EXPECT_EQ(w.view(), want);
  w.Clear();
  w.Trim(1 << 10);
  w.String(std::string(300, 'y'));
  EXPECT_EQ(w.view(), "\"" + std::string(300, 'y') + "\"");

  TextBuffer buf;
  buf.Append(std::string(5000, 'z'));
  EXPECT_GE(buf.capacity(), 5000u);
  buf.Trim(8192);
  EXPECT_GE(buf.capacity(), 5000u);  // under the limit: kept
  buf.clear();
  buf.Trim(1024);
  EXPECT_EQ(buf.capacity(), 0u);
}

// CopyBytes at every size around its 4 / 8 / 16-byte branches.
TEST(JsonWriterTest, CopyBytesEverySize) {
  std::string src;
  for (int i = 0; i < 40; ++i) src.push_back(static_cast<char>('A' + i));
  for (std::size_t n = 0; n <= src.size(); ++n) {
    std::string dst(42, '.');
    internal::CopyBytes(&dst[1], src.data(), n);
    EXPECT_EQ(dst, "." + src.substr(0, n) + std::string(41 - n, '.')) << n;
  }
}

TEST(JsonWriterTest, JsonStringLikePythonJsonDumps) {
  // json.dumps('a"\\\n\r\t\b\f\x00\x1f\x7fé😀', ensure_ascii=False)
  TextBuffer out;
  AppendJsonString(&out,
                   "a\"\\\n\r\t\b\f" + std::string(1, '\0') + "\x1f\x7f\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(out.view(), "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u001f\x7f\xC3\xA9\xF0\x9F\x98\x80\"");
  out.clear();
  AppendJsonString(&out, "");
  EXPECT_EQ(out.view(), "\"\"");
}

// The word-at-a-time scan must find an escape at every position of every length, and never
// flag bytes >= 0x80 (UTF-8) or ' ' / '!' / '#' / '[' / ']' next to the escaped ones.
TEST(JsonWriterTest, JsonStringEscapesAtEveryPosition) {
  auto slow = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\b')
        out += "\\b";
      else if (c == '\f')
        out += "\\f";
      else if (c < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  const char fillers[] = {'x', ' ', '!', '#', '[', ']', '\x80', '\xC3', '\xFF', '\x7F'};
  const char specials[] = {'"', '\\', '\n', '\x01', '\x1F', '\0', '\b'};
  for (std::size_t len = 0; len <= 24; ++len) {
    for (char fill : fillers) {
      const std::string plain(len, fill);
      TextBuffer out;
      AppendJsonString(&out, plain);
      EXPECT_EQ(out.view(), slow(plain));
      for (std::size_t pos = 0; pos < len; ++pos) {
        for (char special : specials) {
          std::string s = plain;
          s[pos] = special;
          TextBuffer esc;
          AppendJsonString(&esc, s);
          EXPECT_EQ(esc.view(), slow(s)) << "len " << len << " pos " << pos;
        }
      }
    }
  }
}

TEST(JsonWriterTest, FloatsLikePythonRepr) {
  // repr(x) in CPython 3.11 for each x.
  const std::pair<double, std::string_view> cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {0.1, "0.1"},
      {-2.5, "-2.5"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e-4, "0.0001"},
      {1e-5, "1e-05"},
      {0.00012345, "0.00012345"},
      {1.5e300, "1.5e+300"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {100.0, "100.0"},
      {1e22, "1e+22"},
      {0.30000000000000004, "0.30000000000000004"},
      {-1e-7, "-1e-07"},
      {12.5e-3, "0.0125"},
  };
  for (const auto& [x, want] : cases) {
    TextBuffer out;
    AppendPythonFloatRepr(&out, x);
    EXPECT_EQ(out.view(), want) << x;
  }
}

}  // namespace
}  // namespace hermes_stream
