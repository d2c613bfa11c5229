// Tests of JsonValidator, CallMachine and tool-call extraction in StreamParser.
// Expected values were checked against hermes_stream.reference (the executable spec).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "hermes_stream/json_validator.h"
#include "hermes_stream/stream_parser.h"
#include "hermes_stream/tool_call.h"

namespace hermes_stream {
namespace {

// nullptr when `text` is a complete JSON value, else the first error (or "incomplete").
std::string Validate(std::string_view text, std::size_t depth = 64) {
  JsonValidator v(depth);
  for (char c : text) {
    if (const char* err = v.Step(static_cast<unsigned char>(c))) return err;
  }
  if (v.done()) return "ok";
  // A bare number at the root ends only at the end of the text.
  const auto st = v.state();
  if (v.depth() == 0 && (st == JsonValidator::kNumZero || st == JsonValidator::kNumInt ||
                         st == JsonValidator::kNumFrac || st == JsonValidator::kNumExp)) {
    return "ok";
  }
  return "incomplete";
}

TEST(JsonValidator, AcceptsRfc8259Values) {
  for (std::string_view ok :
       {"{}", "[]", "0", "-0.5e+10", "1E9", "true", "false", "null", R"("a\"\\\/\b\f\n\r\t")",
        R"("\u00e9\ud83d\ude00")", R"({"a": [1, {"b": null}], "c": "\u0000"})", " \n{ } \t"}) {
    EXPECT_EQ(Validate(ok), "ok") << ok;
  }
}

TEST(JsonValidator, RejectsWithReasons) {
  EXPECT_EQ(Validate("01"), json_error::kChar);
  EXPECT_EQ(Validate("1."), "incomplete");
  EXPECT_EQ(Validate("1.}"), json_error::kChar);
  EXPECT_EQ(Validate("-"), "incomplete");
  EXPECT_EQ(Validate("{,}"), json_error::kChar);
  EXPECT_EQ(Validate("[1,]"), json_error::kChar);
  EXPECT_EQ(Validate("{\"a\" 1}"), json_error::kChar);
  EXPECT_EQ(Validate("tru e"), json_error::kChar);
  EXPECT_EQ(Validate(std::string("\"a\0\"", 4)), json_error::kControl);
  EXPECT_EQ(Validate(R"("\x")"), json_error::kEscape);
  EXPECT_EQ(Validate(R"("\u12G4")"), json_error::kHex);
  EXPECT_EQ(Validate(R"("\ud800x")"), json_error::kSurrogate);
  EXPECT_EQ(Validate(R"("\udc00")"), json_error::kSurrogate);
  EXPECT_EQ(Validate(R"("\ud800\u0041")"), json_error::kSurrogate);
  EXPECT_EQ(Validate("{} x"), json_error::kChar);
  EXPECT_EQ(Validate("[}"), json_error::kChar);
}

TEST(JsonValidator, DepthLimitWithoutRecursion) {
  EXPECT_EQ(Validate(std::string(64, '[') + std::string(64, ']')), "ok");
  EXPECT_EQ(Validate(std::string(65, '['), 64), json_error::kDepth);
  JsonValidator v(1000000);
  for (int i = 0; i < 200000; ++i) ASSERT_EQ(v.Step('['), nullptr);
  EXPECT_EQ(v.depth(), 200000u);
}

TEST(JsonValidator, DecodesEscapesToUtf8) {
  JsonValidator v(8);
  std::string out;
  for (char c : std::string_view(R"("a\u00e9\ud83d\ude00\n")")) {
    ASSERT_EQ(v.Step(static_cast<unsigned char>(c)), nullptr);
    out.append(v.decoded());
  }
  EXPECT_EQ(out, "a\xC3\xA9\xF0\x9F\x98\x80\n");
}

struct Call {
  std::string content;
  std::vector<CallRecord> calls;
  std::vector<std::string> streamed;  // joined argument fragments per index
  std::vector<std::string> names;     // names as announced, in order
};

Call RunParser(const std::vector<std::string>& chunks, ParserOptions o = {}) {
  o.reasoning_budget = -1;
  o.id_factory = [](std::int64_t i) { return "call_" + std::to_string(i); };
  StreamParser p(o);
  Call r;
  auto collect = [&r](const DeltaOut& d) {
    r.content += d.content;
    for (std::size_t i = 0; i < d.ncalls; ++i) {
      const CallFragment& f = d.calls[i];
      if (static_cast<std::size_t>(f.index) >= r.streamed.size()) r.streamed.resize(f.index + 1);
      if (f.first) r.names.push_back(f.name);
      r.streamed[f.index] += f.arguments;
    }
  };
  for (const std::string& c : chunks) collect(p.Feed(c, 1));
  collect(p.Finish());
  r.calls = p.calls();
  return r;
}

std::vector<std::string> Bytes(std::string_view s) {
  std::vector<std::string> out;
  for (char c : s) out.emplace_back(1, c);
  return out;
}

TEST(ToolCalls, StreamsNameThenArgumentsVerbatim) {
  const std::string text =
      "Hi <tool_call>\n{\"name\": \"get\", \"arguments\": {\"a\": [1, {\"b\": \"</tool_call>}\"}]}}"
      "\n</tool_call> bye";
  for (const auto& chunks : {std::vector<std::string>{text}, Bytes(text)}) {
    Call r = RunParser(chunks);
    EXPECT_EQ(r.content, "Hi  bye");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].name, "get");
    EXPECT_EQ(r.calls[0].arguments, "{\"a\": [1, {\"b\": \"</tool_call>}\"}]}");
    EXPECT_FALSE(r.calls[0].has_error);
    EXPECT_TRUE(r.calls[0].complete);
    EXPECT_EQ(r.streamed[0], r.calls[0].arguments);
    EXPECT_EQ(r.names, std::vector<std::string>{"get"});
  }
}

TEST(ToolCalls, ArgumentsFirstStringEncodedAndMissing) {
  Call r =
      RunParser({"<tool_call>{\"arguments\": {\"x\": 1}, \"name\": \"f\"}</tool_call>"
                 "<tool_call>{\"name\": \"g\", \"arguments\": \"{\\\"q\\\": \\\"\\\\u00e9\\\"}  \"}"
                 "</tool_call><tool_call>{\"name\": \"h\"}</tool_call>"});
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].arguments, "{\"x\": 1}");
  EXPECT_EQ(r.calls[1].arguments, "{\"q\": \"\\u00e9\"}");
  EXPECT_EQ(r.calls[2].arguments, "{}");
  EXPECT_EQ(r.streamed, (std::vector<std::string>{"{\"x\": 1}", "{\"q\": \"\\u00e9\"}", "{}"}));
}

TEST(ToolCalls, NotACallIsTextAndIsParsedAgain) {
  Call r = RunParser(Bytes("<tool_call>{\"x\": \"<think>r</think>\"}</tool_call> <tool_call>oops"));
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, "<tool_call>{\"x\": \"\"}</tool_call> <tool_call>oops");
}

TEST(ToolCalls, ErrorAfterNameKeepsRawAndOffset) {
  Call r = RunParser({"<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1</tool_call>tail"});
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].error, "unexpected character at byte 34");
  EXPECT_EQ(r.calls[0].raw, "{\"name\": \"f\", \"arguments\": {\"a\": 1");
  EXPECT_EQ(r.content, "tail");
  Call t = RunParser({"<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": "});
  EXPECT_EQ(t.calls[0].error, "truncated at byte 33");
}

TEST(ToolCalls, UnknownToolIsNotStreamed) {
  ParserOptions o;
  o.has_tools = true;
  o.tool_names = {"known"};
  Call r = RunParser({"<tool_call>{\"name\": \"nope\", \"arguments\": {}}</tool_call>"}, o);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].error, "unknown tool nope");
  EXPECT_TRUE(r.names.empty());
}

TEST(ToolCalls, HostileBodiesDoNotCrash) {
  Call deep =
      RunParser({"<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": " + std::string(200000, '[') +
                 "</tool_call>"});
  EXPECT_EQ(deep.calls[0].error.rfind("nesting too deep at byte", 0), 0u);
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "<tool_call>{\"a\": 1}";
  Call r = RunParser({many});
  EXPECT_EQ(r.content, many);
}

TEST(ToolCalls, RandomChunkingMatchesWhole) {
  const std::string text =
      "<think>plan</think>ok<tool_call>{\"arguments\": \"{\\\"k\\\": [true, null, -1.5e3]}\", "
      "\"name\": \"\\u540d\"}</tool_call>\n<tool_call> {\"name\": \"x\", \"arguments\": {\"s\": "
      "\"\\ud83d\\ude00 }\"}} </tool_call><tool_call>{\"name\": 5}</tool_call>";
  const Call whole = RunParser({text});
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t n = 1 + rng() % 9;
      chunks.push_back(text.substr(pos, n));
      pos += n;
    }
    const Call r = RunParser(chunks);
    EXPECT_EQ(r.content, whole.content);
    EXPECT_EQ(r.streamed, whole.streamed);
    ASSERT_EQ(r.calls.size(), whole.calls.size());
    for (std::size_t i = 0; i < r.calls.size(); ++i) {
      EXPECT_EQ(r.calls[i].arguments, whole.calls[i].arguments);
      EXPECT_EQ(r.calls[i].raw, whole.calls[i].raw);
    }
  }
  EXPECT_EQ(whole.calls.size(), 2u);
  EXPECT_EQ(whole.content, "ok\n<tool_call>{\"name\": 5}</tool_call>");
}

}  // namespace
}  // namespace hermes_stream
