// The JSON writer: see json_writer.h.
#include "hermes_stream/json_writer.h"

#include <charconv>
#include <string>
#include <string_view>

namespace hermes_stream {

void TextBuffer::Grow(std::size_t n) {
  std::size_t cap = buf_.size() < 256 ? 256 : buf_.size() * 2;
  while (cap - size_ < n) cap *= 2;
  buf_.resize(cap);
}

void AppendJsonStringFrom(TextBuffer* out, std::string_view s, std::size_t first) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t run = first;  // start of the bytes not yet copied
  out->Push('"');
  out->Append(s.substr(0, run));
  for (std::size_t i = run; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!internal::kJsonEscape.esc[c]) continue;
    out->Append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out->Append("\\\""); break;
      case '\\': out->Append("\\\\"); break;
      case '\n': out->Append("\\n"); break;
      case '\r': out->Append("\\r"); break;
      case '\t': out->Append("\\t"); break;
      case '\b': out->Append("\\b"); break;
      case '\f': out->Append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->Append(std::string_view(esc, 6));
      }
    }
  }
  out->Append(s.substr(run));
  out->Push('"');
}

void AppendPythonFloatRepr(TextBuffer* out, double x) {
  // std::to_chars gives the shortest round-trip digits (as CPython's dtoa mode 0 does) in
  // scientific form: [-]d[.ddd]e(+|-)XX. CPython's format_float_short then picks the layout.
  char sci[40];
  const auto res = std::to_chars(sci, sci + sizeof(sci), x, std::chars_format::scientific);
  std::string_view s(sci, static_cast<std::size_t>(res.ptr - sci));
  if (!s.empty() && s[0] == '-') {
    out->Push('-');
    s.remove_prefix(1);
  }
  const std::size_t e = s.find('e');
  char digits[32] =
      {};  // to_chars writes at least one digit for a finite x (the callers' contract)
  int nd = 0;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits[nd++] = c;
  }
  int exp10 = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp10);
  const int decpt = exp10 + 1;      // value = 0.<digits> * 10^decpt
  if (decpt <= -4 || decpt > 16) {  // exponent notation
    out->Push(digits[0]);
    if (nd > 1) {
      out->Push('.');
      out->Append(std::string_view(digits + 1, static_cast<std::size_t>(nd - 1)));
    }
    out->Push('e');
    out->Push(exp10 < 0 ? '-' : '+');
    const int a = exp10 < 0 ? -exp10 : exp10;
    char eb[8];
    const auto er = std::to_chars(eb, eb + sizeof(eb), a);
    if (er.ptr - eb < 2) out->Push('0');
    out->Append(std::string_view(eb, static_cast<std::size_t>(er.ptr - eb)));
  } else if (decpt <= 0) {  // 0.000ddd
    out->Append("0.");
    for (int i = 0; i < -decpt; ++i) out->Push('0');
    out->Append(std::string_view(digits, static_cast<std::size_t>(nd)));
  } else if (decpt >= nd) {  // ddd000.0
    out->Append(std::string_view(digits, static_cast<std::size_t>(nd)));
    for (int i = nd; i < decpt; ++i) out->Push('0');
    out->Append(".0");
  } else {  // dd.ddd
    out->Append(std::string_view(digits, static_cast<std::size_t>(decpt)));
    out->Push('.');
    out->Append(std::string_view(digits + decpt, static_cast<std::size_t>(nd - decpt)));
  }
}

}  // namespace hermes_stream
