#include "hermes_stream/json_validator.h"

namespace hermes_stream {
namespace {

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const char* JsonValidator::Open(bool is_object) {
  if (stack_.size() >= max_depth_) return json_error::kDepth;
  stack_.push_back(is_object);
  state_ = is_object ? kObjFirst : kArrFirst;
  return nullptr;
}

const char* JsonValidator::Close(unsigned char c) {
  if (stack_.empty() || stack_.back() != (c == '}')) return json_error::kChar;
  stack_.pop_back();
  EndValue();
  return nullptr;
}

const char* JsonValidator::ValueStart(unsigned char c) {
  switch (c) {
    case '{': return Open(true);
    case '[': return Open(false);
    case '"':
      state_ = kString;
      in_key_ = false;
      return nullptr;
    case '-': state_ = kNumMinus; return nullptr;
    case '0': state_ = kNumZero; return nullptr;
    case 't': literal_ = "true"; break;
    case 'f': literal_ = "false"; break;
    case 'n': literal_ = "null"; break;
    default:
      if (IsDigit(c)) {
        state_ = kNumInt;
        return nullptr;
      }
      return json_error::kChar;
  }
  lit_pos_ = 1;
  state_ = kLiteral;
  return nullptr;
}

const char* JsonValidator::CodeUnit(unsigned u) {
  if (high_ != 0) {
    if (u < 0xDC00 || u > 0xDFFF) return json_error::kSurrogate;
    const unsigned cp = 0x10000 + ((high_ - 0xD800) << 10) + (u - 0xDC00);
    high_ = 0;
    decoded_[0] = static_cast<char>(0xF0 | (cp >> 18));
    decoded_[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    decoded_[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    decoded_[3] = static_cast<char>(0x80 | (cp & 0x3F));
    ndecoded_ = 4;
    state_ = kString;
    return nullptr;
  }
  if (u >= 0xD800 && u <= 0xDBFF) {
    high_ = u;
    state_ = kLowBs;
    return nullptr;
  }
  if (u >= 0xDC00 && u <= 0xDFFF) return json_error::kSurrogate;
  if (u < 0x80) {
    decoded_[0] = static_cast<char>(u);
    ndecoded_ = 1;
  } else if (u < 0x800) {
    decoded_[0] = static_cast<char>(0xC0 | (u >> 6));
    decoded_[1] = static_cast<char>(0x80 | (u & 0x3F));
    ndecoded_ = 2;
  } else {
    decoded_[0] = static_cast<char>(0xE0 | (u >> 12));
    decoded_[1] = static_cast<char>(0x80 | ((u >> 6) & 0x3F));
    decoded_[2] = static_cast<char>(0x80 | (u & 0x3F));
    ndecoded_ = 3;
  }
  state_ = kString;
  return nullptr;
}

bool JsonValidator::Number(unsigned char c) {
  const bool digit = IsDigit(c);
  switch (state_) {
    case kNumMinus:
      if (!digit) return false;
      state_ = c == '0' ? kNumZero : kNumInt;
      return true;
    case kNumZero:
    case kNumInt:
      if (digit && state_ == kNumInt) return true;
      if (c == '.') {
        state_ = kNumDot;
      } else if (c == 'e' || c == 'E') {
        state_ = kNumE;
      } else {
        return false;
      }
      return true;
    case kNumDot:
    case kNumFrac:
      if (digit) {
        state_ = kNumFrac;
      } else if (state_ == kNumFrac && (c == 'e' || c == 'E')) {
        state_ = kNumE;
      } else {
        return false;
      }
      return true;
    case kNumE:
      if (c == '+' || c == '-') {
        state_ = kNumESign;
      } else if (digit) {
        state_ = kNumExp;
      } else {
        return false;
      }
      return true;
    default:  // kNumESign, kNumExp
      if (!digit) return false;
      state_ = kNumExp;
      return true;
  }
}

const char* JsonValidator::Step(unsigned char c) {
  ndecoded_ = 0;
  switch (state_) {
    case kString:
      if (c == '"') {
        if (in_key_) {
          state_ = kColon;
        } else {
          EndValue();
        }
      } else if (c == '\\') {
        state_ = kEsc;
      } else if (c < 0x20) {
        return json_error::kControl;
      } else {
        decoded_[0] = static_cast<char>(c);
        ndecoded_ = 1;
      }
      return nullptr;
    case kEsc: {
      char out;
      switch (c) {
        case 'u':
          state_ = kHex4;
          hex_ = 0;
          nhex_ = 0;
          return nullptr;
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        default: return json_error::kEscape;
      }
      decoded_[0] = out;
      ndecoded_ = 1;
      state_ = kString;
      return nullptr;
    }
    case kHex4: {
      const int h = HexValue(c);
      if (h < 0) return json_error::kHex;
      hex_ = hex_ * 16 + static_cast<unsigned>(h);
      if (++nhex_ == 4) return CodeUnit(hex_);
      return nullptr;
    }
    case kLowBs:
      if (c != '\\') return json_error::kSurrogate;
      state_ = kLowU;
      return nullptr;
    case kLowU:
      if (c != 'u') return json_error::kSurrogate;
      state_ = kHex4;
      hex_ = 0;
      nhex_ = 0;
      return nullptr;
    case kNumMinus:
    case kNumZero:
    case kNumInt:
    case kNumDot:
    case kNumFrac:
    case kNumE:
    case kNumESign:
    case kNumExp: {
      const State before = state_;
      if (Number(c)) return nullptr;
      if (before != kNumZero && before != kNumInt && before != kNumFrac && before != kNumExp) {
        return json_error::kChar;
      }
      EndValue();
      return Step(c);  // at most one level: the new state is kAfter or kDone
    }
    case kLiteral:
      if (static_cast<char>(c) != literal_[lit_pos_]) return json_error::kChar;
      if (literal_[++lit_pos_] == '\0') EndValue();
      return nullptr;
    default: break;
  }
  if (IsSpace(c)) return nullptr;
  switch (state_) {
    case kValue:
    case kArrFirst:
      if (state_ == kArrFirst && c == ']') return Close(c);
      return ValueStart(c);
    case kObjFirst:
    case kObjKey:
      if (c == '"') {
        state_ = kString;
        in_key_ = true;
        return nullptr;
      }
      if (state_ == kObjFirst && c == '}') return Close(c);
      return json_error::kChar;
    case kColon:
      if (c != ':') return json_error::kChar;
      state_ = kValue;
      return nullptr;
    case kAfter:
      if (c == ',') {
        state_ = stack_.back() ? kObjKey : kValue;
        return nullptr;
      }
      if (c == '}' || c == ']') return Close(c);
      return json_error::kChar;
    default:  // kDone: only whitespace
      return json_error::kChar;
  }
}

}  // namespace hermes_stream
