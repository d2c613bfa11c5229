// A JSON text writer with the exact output of Python's `json.dumps(x, ensure_ascii=False)`
// (transformers' `tojson` filter): items in the order they are written, ", " between items and
// ": " after keys, strings escaped as json.dumps does, ints in decimal, floats as Python's `repr`,
// NaN / Infinity / -Infinity for the non-finite ones, and json.dumps' conversion of float, int,
// bool and null dict keys to quoted text.
//
// The caller walks its own data (the render glue walks Python dicts and lists) and calls one
// method per value and Comma between items; the writer only lays the text out, so it checks
// nothing about nesting (a Key outside an object, or an unbalanced End, writes what was asked).
// Several documents can be written back to back into one buffer (BeginDocument), then viewed in
// place.
//
// Everything on the per-value path is inline: an append is a bounds check and a short copy
// (std::string::append is an out-of-line call per piece, which dominated tool serialisation).
// No allocation besides the buffer's growth; not thread-safe (one writer per thread).
#ifndef HERMES_STREAM_JSON_WRITER_H_
#define HERMES_STREAM_JSON_WRITER_H_

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

// The buffer's appends are forced inline: GCC 12 otherwise called TextBuffer::Append out of line
// for the ": " after every key, 7% more instructions per render of five tools (callgrind).
#if defined(__GNUC__) || defined(__clang__)
#define HERMES_JSON_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define HERMES_JSON_ALWAYS_INLINE inline
#endif

namespace hermes_stream {

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

/// An append-only byte buffer: an append is a bounds check and a short copy. Views of it are
/// invalidated by appends that grow it.
class TextBuffer {
 public:
  void clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return buf_.size(); }
  std::string_view view() const { return std::string_view(buf_.data(), size_); }
  /// Room for `n` more bytes; returns where they go (the caller fills all of them).
  HERMES_JSON_ALWAYS_INLINE char* Extend(std::size_t n) {
    if (buf_.size() - size_ < n) Grow(n);
    char* at = buf_.data() + size_;
    size_ += n;
    return at;
  }
  HERMES_JSON_ALWAYS_INLINE void Append(std::string_view s) {
    internal::CopyBytes(Extend(s.size()), s.data(), s.size());
  }
  HERMES_JSON_ALWAYS_INLINE void Push(char c) { *Extend(1) = c; }
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

/// \brief Append any double as json.dumps writes it: `repr(x)`, or NaN / Infinity / -Infinity.
inline void AppendJsonFloat(TextBuffer* out, double x) {
  if (std::isnan(x)) {
    out->Append("NaN");
  } else if (std::isinf(x)) {
    out->Append(x > 0 ? "Infinity" : "-Infinity");
  } else {
    AppendPythonFloatRepr(out, x);  // = repr(x), without CPython's slower dtoa
  }
}

/// Writes json.dumps(x, ensure_ascii=False) texts into one buffer, one call per value. The caller
/// writes the ", " between the items of an object or array (Comma): it knows which item is the
/// first one, in a local, where a flag kept here would have to be reloaded after every write
/// (a char store may alias it).
///
///     JsonWriter w;
///     const std::size_t at = w.BeginDocument();
///     w.BeginObject(); w.Key("a"); w.BeginArray(); w.Int(1); w.Comma(); w.Null(); w.EndArray();
///     w.EndObject();
///     w.Text(at);  // {"a": [1, null]}
class JsonWriter {
 public:
  /// Empties the buffer (keeping its storage).
  void Clear() { buf_.clear(); }
  /// Drops the storage when it grew beyond `max_bytes`.
  void Trim(std::size_t max_bytes) { buf_.Trim(max_bytes); }
  /// Where the next top-level value begins (documents are written back to back, unseparated).
  std::size_t BeginDocument() const { return buf_.size(); }
  /// Everything written since `begin` (a BeginDocument result). Valid until the next write.
  std::string_view Text(std::size_t begin) const { return buf_.view().substr(begin); }
  /// The bytes [begin, begin + size). Valid until the next write.
  std::string_view Text(std::size_t begin, std::size_t size) const {
    return buf_.view().substr(begin, size);
  }
  std::size_t size() const { return buf_.size(); }
  std::string_view view() const { return buf_.view(); }

  /// ", ": before every item of an object (its key) or array but the first.
  void Comma() { buf_.Append(", "); }

  // ---- values (an array item, after a Key, or a document)
  void Null() { buf_.Append("null"); }
  void Bool(bool b) {
    if (b) {
      buf_.Append("true");  // constant sizes: each append is one or two moves
    } else {
      buf_.Append("false");
    }
  }
  void Int(std::int64_t v) { AppendInt(v); }
  /// An integer given as its decimal digits (with '-' if negative), e.g. one beyond 64 bits.
  void BigInt(std::string_view digits) { buf_.Append(digits); }
  void Float(double x) { AppendJsonFloat(&buf_, x); }
  /// `s` must be valid UTF-8.
  void String(std::string_view s) { AppendJsonString(&buf_, s); }
  void BeginObject() { buf_.Push('{'); }
  void EndObject() { buf_.Push('}'); }
  void BeginArray() { buf_.Push('['); }
  void EndArray() { buf_.Push(']'); }

  // ---- object keys: json.dumps writes str keys as strings and converts float, int, bool and
  // None keys to their JSON text, quoted ({1.5: 0, True: 0, None: 0} -> {"1.5": 0, "true": 0,
  // "null": 0}). Each writes the key and ": "; exactly one value follows.
  void Key(std::string_view s) {
    AppendJsonString(&buf_, s);
    buf_.Append(": ");
  }
  void NullKey() { buf_.Append("\"null\": "); }
  void BoolKey(bool b) {
    if (b) {
      buf_.Append("\"true\": ");
    } else {
      buf_.Append("\"false\": ");
    }
  }
  void IntKey(std::int64_t v) {
    buf_.Push('"');
    AppendInt(v);
    buf_.Append("\": ");
  }
  void BigIntKey(std::string_view digits) { QuotedKey(digits); }
  void FloatKey(double x) {
    buf_.Push('"');
    AppendJsonFloat(&buf_, x);
    buf_.Append("\": ");
  }

 private:
  void QuotedKey(std::string_view text) {
    buf_.Push('"');
    buf_.Append(text);
    buf_.Append("\": ");
  }
  void AppendInt(std::int64_t v) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof(digits), v);
    buf_.Append(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
  }

  TextBuffer buf_;
};

}  // namespace hermes_stream

#endif  // HERMES_STREAM_JSON_WRITER_H_
