// Tests of RenderChat (cpp/hermes_stream/chat_template.h).
//
// The expected prompts were rendered by transformers 5.23.0 with the official templates
// (../shared/reference/hermes-4-14b.jinja and hermes-4-70b.jinja); the Python suite
// (tests/python/test_render.py) checks the same behaviour against live Jinja on generated inputs.
#include "hermes_stream/chat_template.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hermes_stream {
namespace {

ChatValue Str(std::string_view s) {
  ChatValue v;
  v.kind = ValueKind::kString;
  v.text = s;
  v.truthy = !s.empty();
  return v;
}

// Builds a ChatRequest the way the binding does.
class Chat {
 public:
  Chat& Add(ChatRole role, ChatValue content = ChatValue()) {
    ChatMessage m;
    m.role = role;
    m.content = content;
    req_.messages.push_back(m);
    return *this;
  }
  Chat& Call(std::string_view name, std::string_view arguments_json) {
    ChatMessage& m = req_.messages.back();
    if (!m.has_tool_calls) m.calls_begin = static_cast<std::uint32_t>(req_.calls.size());
    m.has_tool_calls = true;
    req_.calls.push_back({name, arguments_json});
    ++m.calls_count;
    return *this;
  }
  Chat& CallsError(TemplateErrorCode code, std::uint32_t call = 0,
                   std::string_view type_name = std::string_view()) {
    req_.messages.back().tool_calls_error = {code, call, type_name};
    return *this;
  }
  Chat& Tool(std::string_view json) {
    req_.has_tools = true;
    req_.tools_json.push_back(json);
    return *this;
  }
  const ChatRequest& req() const { return req_; }

 private:
  ChatRequest req_;
};

// The golden "tool round trip" conversation: system, tools, two calls (dict and string
// arguments), a run of two tool results, a final answer.
Chat RoundTrip(bool with_tools) {
  Chat c;
  c.Add(ChatRole::kSystem, Str("Be brief."))
      .Add(ChatRole::kUser, Str("Weather in Paris and Oslo?"))
      .Add(ChatRole::kAssistant, Str("<think>two calls</think>Checking."))
      .Call("get_weather", R"({"city": "Paris"})")
      .Call("get_weather", R"("{\"city\": \"Oslo\"}")")
      .Add(ChatRole::kTool, Str("20"))
      .Add(ChatRole::kTool, Str("5"))
      .Add(ChatRole::kAssistant, Str("<think>ok</think>Paris 20, Oslo 5."))
      .Add(ChatRole::kUser, Str("thanks"));
  if (with_tools) {
    c.Tool(
        R"({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}})");
  }
  return c;
}

std::string Render(const Chat& c, const ChatOptions& opt) {
  std::string out = "stale";
  RenderChat(c.req(), opt, &out);
  return out;
}

std::string ErrorOf(const Chat& c, const ChatOptions& opt) {
  std::string out;
  try {
    RenderChat(c.req(), opt, &out);
  } catch (const TemplateError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no TemplateError; rendered: " << out;
  return "";
}

TEST(ChatTemplateTest, ChatMLToolRoundTrip) {
  ChatOptions opt;
  opt.add_generation_prompt = true;
  EXPECT_EQ(Render(RoundTrip(true), opt),
            "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou are a function calling AI model. You "
            "may call one or more functions to assist with the user query.\n\nYou are provided "
            "with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": "
            "\"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": "
            "\"object\"}}}\n</tools>\n\nFor each function call, return a json object with function "
            "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": "
            "\"<function-name>\", \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\nWeather in Paris and Oslo?<|im_end|>\n<|im_start|>assistant\n"
            "<think>two calls</think>Checking.\n<tool_call>\n{\"name\": \"get_weather\", "
            "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": "
            "\"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Oslo\\\"}\"}\n</tool_call>"
            "<|im_end|>\n<|im_start|>user\n<tool_response>\n20\n</tool_response>\n"
            "<tool_response>\n5\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>ok"
            "</think>Paris 20, Oslo 5.<|im_end|>\n<|im_start|>user\nthanks<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, Llama3ThinkingStripsEarlierReasoning) {
  ChatOptions opt;
  opt.format = ChatFormat::kLlama3;
  opt.has_bos = true;
  opt.bos_token = "<|begin_of_text|>";
  opt.thinking = true;
  opt.add_generation_prompt = true;
  EXPECT_EQ(
      Render(RoundTrip(false), opt),
      "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
      "<|start_header_id|>user<|end_header_id|>\n\nWeather in Paris and Oslo?<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n<think> </think>Checking.\n"
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n"
      "</tool_call>\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": "
      "\\\"Oslo\\\"}\"}\n</tool_call><|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
      "<tool_response>\n20\n</tool_response>\n<tool_response>\n5\n</tool_response><|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n<think> </think>Paris 20, Oslo 5."
      "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nthanks<|eot_id|>"
      "<|start_header_id|>assistant<|end_header_id|>\n\n");
  opt.keep_cots = true;  // the reasoning stays
  EXPECT_NE(Render(RoundTrip(false), opt).find("<think>two calls</think>Checking."),
            std::string::npos);
}

TEST(ChatTemplateTest, EmptyAssistantEmitsOnlyItsHeader) {
  Chat c;
  c.Add(ChatRole::kUser, Str("hi"))
      .Add(ChatRole::kAssistant, Str(""))
      .Add(ChatRole::kUser, Str("x"));
  EXPECT_EQ(Render(c, ChatOptions()),
            "<|im_start|>system\nYou are Hermes, created by Nous Research.<|im_end|>\n"
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant<|im_start|>user\nx"
            "<|im_end|>\n");
}

TEST(ChatTemplateTest, DefaultPromptLaterSystemOtherRolesAndPrintedValues) {
  Chat c;
  ChatValue number;
  number.kind = ValueKind::kOther;
  number.text = "3.0";  // what {{ 3.0 }} prints
  number.truthy = true;
  number.type_name = "float";
  c.Add(ChatRole::kTool, number)           // first message: opens the user turn
      .Add(ChatRole::kTool)                // undefined content prints ""
      .Add(ChatRole::kOther, Str("skip"))  // unknown roles are skipped
      .Add(ChatRole::kSystem, Str("later"));
  ChatOptions opt;
  opt.thinking = true;
  EXPECT_EQ(Render(c, opt),
            "<|im_start|>system\n" + std::string(kHermesThinkingPrompt) +
                "<|im_end|>\n<|im_start|>user\n<tool_response>\n3.0\n</tool_response>\n"
                "<tool_response>\n\n</tool_response><|im_end|>\n<|im_start|>system\nlater"
                "<|im_end|>\n");
}

TEST(ChatTemplateTest, AppendThinkingToSystemExtension) {
  Chat c;
  c.Add(ChatRole::kSystem, Str("Be brief.")).Add(ChatRole::kUser, Str("q"));
  ChatOptions opt;
  opt.thinking = true;
  EXPECT_EQ(Render(c, opt).find("deep thinking"), std::string::npos);  // official: ignored
  opt.append_thinking_to_system = true;
  EXPECT_EQ(Render(c, opt).rfind("<|im_start|>system\nBe brief.\n\n" +
                                     std::string(kHermesThinkingPrompt) + "<|im_end|>\n",
                                 0),
            0u);
}

TEST(ChatTemplateTest, RaisesWhereTheTemplateRaises) {
  ChatOptions think;
  think.thinking = true;
  Chat no_close;
  no_close.Add(ChatRole::kUser, Str("hi")).Add(ChatRole::kAssistant, Str("hello"));
  EXPECT_EQ(ErrorOf(no_close, think).rfind("message 1 (assistant): content has no '</think>'", 0),
            0u);

  Chat undefined_user;
  undefined_user.Add(ChatRole::kUser);
  EXPECT_EQ(ErrorOf(undefined_user, ChatOptions()),
            "message 0 (user): content is missing or None, and the template concatenates it "
            "with +");

  // The first failure in rendering order wins: message 0 before message 1's tool calls.
  Chat two;
  two.Add(ChatRole::kUser)
      .Add(ChatRole::kAssistant)
      .Call("f", "{}")
      .CallsError(TemplateErrorCode::kToolCallWithoutArguments, 1);
  EXPECT_EQ(ErrorOf(two, ChatOptions()).rfind("message 0 (user)", 0), 0u);

  Chat calls;
  calls.Add(ChatRole::kAssistant, Str("<think>r</think>a"))
      .Call("f", "{}")
      .CallsError(TemplateErrorCode::kToolCallWithoutArguments, 1);
  EXPECT_EQ(ErrorOf(calls, ChatOptions()), "message 0 (assistant): tool call 1 has no 'arguments'");

  Chat empty;
  EXPECT_EQ(ErrorOf(empty, ChatOptions()), "messages is empty: the template reads messages[0]");
  ChatOptions llama;
  llama.format = ChatFormat::kLlama3;  // no bos_token
  Chat one;
  one.Add(ChatRole::kUser, Str("hi"));
  EXPECT_EQ(ErrorOf(one, llama), "bos_token is undefined: the Llama-3 format starts with it");
}

// The error code and message index travel with the exception; the texts are the reference
// renderer's (python/hermes_stream/reference/chat_template.py), which tests/python/test_render.py
// compares.
TEST(ChatTemplateTest, ErrorCodesAndTexts) {
  Chat list;
  list.Add(ChatRole::kUser, Str("hi"))
      .Add(ChatRole::kAssistant, Str("a"))
      .Call("f", "{}")
      .CallsError(TemplateErrorCode::kToolCallsNotList, 0, "dict");
  try {
    std::string out;
    RenderChat(list.req(), ChatOptions(), &out);
    ADD_FAILURE() << "no TemplateError";
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.code(), TemplateErrorCode::kToolCallsNotList);
    EXPECT_EQ(e.message_index(), 1u);
    EXPECT_STREQ(e.what(), "message 1 (assistant): tool_calls must be a list, got dict");
  }

  TemplateFailure f;
  f.message = 3;
  f.role = ChatRole::kAssistant;
  f.call = 2;
  f.type_name = "int";
  const std::pair<TemplateErrorCode, std::string_view> texts[] = {
      {TemplateErrorCode::kContentNotString,
       "message 3 (assistant): content must be a str (the template concatenates it with +), got "
       "int"},
      {TemplateErrorCode::kContentNotStringForSplit,
       "message 3 (assistant): content must be a str (with thinking=True and keep_cots=False the "
       "template calls content.split('</think>', 1) on it), got int"},
      {TemplateErrorCode::kToolCallNotObject,
       "message 3 (assistant): tool call 2 must be an object with 'name' and 'arguments', got "
       "int"},
      {TemplateErrorCode::kToolCallFunctionNotObject,
       "message 3 (assistant): tool call 2: 'function' must be an object with 'name' and "
       "'arguments', got int"},
      {TemplateErrorCode::kToolCallWithoutArguments,
       "message 3 (assistant): tool call 2 has no 'arguments'"},
      {TemplateErrorCode::kMessagesEmpty, "messages is empty: the template reads messages[0]"},
  };
  for (const auto& [code, want] : texts) {
    f.code = code;
    EXPECT_EQ(TemplateErrorMessage(f), want);
  }
}

TEST(ChatTemplateTest, RoleNames) {
  EXPECT_EQ(ChatRoleFromName("user"), ChatRole::kUser);
  EXPECT_EQ(ChatRoleFromName("system"), ChatRole::kSystem);
  EXPECT_EQ(ChatRoleFromName("assistant"), ChatRole::kAssistant);
  EXPECT_EQ(ChatRoleFromName("tool"), ChatRole::kTool);
  EXPECT_EQ(ChatRoleFromName("User"), ChatRole::kOther);  // compared exactly, as Jinja does
  EXPECT_EQ(ChatRoleFromName("developer"), ChatRole::kOther);
  EXPECT_EQ(ChatRoleFromName(""), ChatRole::kOther);
}

}  // namespace
}  // namespace hermes_stream
