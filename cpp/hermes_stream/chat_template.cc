// Native Hermes 4 chat templates: see chat_template.h. Each block below names the template lines
// it reproduces (the 14B ChatML file and the 70B/405B/4.3-36B Llama-3 file differ only in the
// literal strings, which live in kFormats).
#include "hermes_stream/chat_template.h"

#include "hermes_stream/tags.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace hermes_stream {

const std::string_view kHermesThinkingPrompt =
    "You are a deep thinking AI, you may use extremely long chains of thought to deeply consider "
    "the problem and deliberate with yourself via systematic reasoning processes to help come to "
    "a correct solution prior to answering. You should enclose your thoughts and internal "
    "monologue inside <think> </think> tags, and then provide your solution or response to the "
    "problem.";
const std::string_view kHermesStandardPrompt = "You are Hermes, created by Nous Research.";

namespace {

constexpr std::string_view kToolsIntro =
    "\n\n# Tools\n\nYou are a function calling AI model. You may call one or more functions to "
    "assist with the user query.\n\nYou are provided with function signatures within "
    "<tools></tools> XML tags:\n<tools>";
constexpr std::string_view kToolsOutro =
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": \"<function-name>\", "
    "\"arguments\": <args-json-object>}\n</tool_call>";
constexpr std::string_view kStrippedThink = "<think> </think>";

// The literal strings of one template file. A role header is `open + role + after_role`.
struct Format {
  bool bos;                       // the system header starts with bos_token
  std::string_view open;          // before a role name
  std::string_view after_role;    // after a user/system role name, before the content
  std::string_view end;           // end of a turn
  std::string_view tools_system;  // system header of the tools branch (after bos)
  std::string_view plain_system;  // system header of the no-tools branch (after bos)
  std::string_view assistant;     // assistant header (content follows as '\n' + content)
  std::string_view tool_open;     // the user turn that holds tool responses
  std::string_view generation;    // add_generation_prompt
};

constexpr Format kFormats[] = {
    // hermes-4-14b.jinja
    {false, "<|im_start|>", "\n", "<|im_end|>\n", "<|im_start|>system\n", "<|im_start|>system\n",
     "<|im_start|>assistant", "<|im_start|>user", "<|im_start|>assistant\n"},
    // hermes-4-70b.jinja (= 405b = 4.3-36b)
    {true, "<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>",
     "<|start_header_id|>system<|end_header_id|>\n",
     "<|start_header_id|>system<|end_header_id|>\n\n",
     "<|start_header_id|>assistant<|end_header_id|>\n",
     "<|start_header_id|>user<|end_header_id|>\n",
     "<|start_header_id|>assistant<|end_header_id|>\n\n"},
};

std::string_view RoleName(ChatRole r) {
  switch (r) {
    case ChatRole::kUser: return "user";
    case ChatRole::kSystem: return "system";
    case ChatRole::kAssistant: return "assistant";
    case ChatRole::kTool: return "tool";
    case ChatRole::kOther: break;
  }
  return "other";
}

[[noreturn]] void Fail(std::size_t index, ChatRole role, TemplateErrorCode code,
                       std::string_view type_name = std::string_view()) {
  TemplateFailure f;
  f.code = code;
  f.message = index;
  f.role = role;
  f.type_name = type_name;
  throw TemplateError(f);
}

// `... + value + ...`: only a string concatenates (an undefined value or another type raises).
std::string_view Concat(const ChatMessage& m, std::size_t index) {
  if (m.content.kind == ValueKind::kString) return m.content.text;
  if (m.content.kind == ValueKind::kUndefined) {
    Fail(index, m.role, TemplateErrorCode::kContentUndefined);
  }
  Fail(index, m.role, TemplateErrorCode::kContentNotString, m.content.type_name);
}

// The assistant content block (template lines `{%- if message.content %}` ... `set content`).
// Precondition: content is truthy. Appends '\n' + content, with the reasoning stripped when
// thinking and not keep_cots.
void AppendAssistantContent(const ChatMessage& m, std::size_t index, const ChatOptions& opt,
                            std::string* out) {
  const bool strip = opt.thinking && !opt.keep_cots;
  if (m.content.kind != ValueKind::kString) {
    if (strip) {
      Fail(index, m.role, TemplateErrorCode::kContentNotStringForSplit, m.content.type_name);
    }
    Concat(m, index);  // throws
  }
  std::string_view content = m.content.text;
  out->push_back('\n');
  if (strip) {
    // '<think> </think>' + content.split('</think>', 1)[1]
    const std::size_t at = content.find(kThinkClose);
    if (at == std::string_view::npos) {
      Fail(index, m.role, TemplateErrorCode::kContentWithoutThinkClose);
    }
    out->append(kStrippedThink);
    out->append(content.substr(at + kThinkClose.size()));
  } else {
    out->append(content);
  }
}

}  // namespace

std::string TemplateErrorMessage(const TemplateFailure& f) {
  const std::string got = "got " + std::string(f.type_name);
  const std::string call = "tool call " + std::to_string(f.call);
  std::string why;
  switch (f.code) {
    case TemplateErrorCode::kNone: return "no error";
    case TemplateErrorCode::kMessagesEmpty:
      return "messages is empty: the template reads messages[0]";
    case TemplateErrorCode::kBosUndefined:
      return "bos_token is undefined: the Llama-3 format starts with it";
    case TemplateErrorCode::kContentUndefined:
      why = "content is missing or None, and the template concatenates it with +";
      break;
    case TemplateErrorCode::kContentNotString:
      why = "content must be a str (the template concatenates it with +), " + got;
      break;
    case TemplateErrorCode::kContentNotStringForSplit:
      why =
          "content must be a str (with thinking=True and keep_cots=False the template calls "
          "content.split('</think>', 1) on it), " +
          got;
      break;
    case TemplateErrorCode::kContentWithoutThinkClose:
      why =
          "content has no '</think>': with thinking=True and keep_cots=False the template "
          "keeps only the text after it (content.split('</think>', 1)[1]) and raises without "
          "it; pass keep_cots=True or include the turn's reasoning";
      break;
    case TemplateErrorCode::kToolCallsNotList: why = "tool_calls must be a list, " + got; break;
    case TemplateErrorCode::kToolCallNotObject:
      why = call + " must be an object with 'name' and 'arguments', " + got;
      break;
    case TemplateErrorCode::kToolCallFunctionNotObject:
      why = call + ": 'function' must be an object with 'name' and 'arguments', " + got;
      break;
    case TemplateErrorCode::kToolCallWithoutArguments: why = call + " has no 'arguments'"; break;
  }
  return "message " + std::to_string(f.message) + " (" + std::string(RoleName(f.role)) +
         "): " + why;
}

void RenderChat(const ChatRequest& req, const ChatOptions& opt, std::string* out) {
  const Format& f = kFormats[opt.format == ChatFormat::kChatML ? 0 : 1];
  const std::vector<ChatMessage>& msgs = req.messages;
  out->clear();

  std::size_t estimate = 256 + (req.has_tools ? 512 : 0);
  for (const ChatMessage& m : msgs) estimate += m.content.text.size() + 32;
  for (const ChatToolCall& c : req.calls) estimate += c.name.size() + c.arguments.size() + 64;
  for (std::string_view t : req.tools_json) estimate += t.size() + 1;
  out->reserve(estimate);

  // ---- header: {%- if tools %} ... {%- else %} ... {%- endif %}
  // Evaluation order as in the template: the tools branch emits bos_token before it reads
  // messages[0]; the other branch tests messages[0]['role'] first.
  auto require_bos = [&] {
    if (!opt.has_bos) Fail(0, ChatRole::kOther, TemplateErrorCode::kBosUndefined);
  };
  auto require_first = [&] {
    if (msgs.empty()) Fail(0, ChatRole::kOther, TemplateErrorCode::kMessagesEmpty);
  };
  const std::string_view default_prompt =
      opt.thinking ? kHermesThinkingPrompt : kHermesStandardPrompt;
  if (req.has_tools) {
    if (f.bos) {
      require_bos();
      out->append(opt.bos_token);
    }
    out->append(f.tools_system);
    require_first();
    const ChatMessage& first = msgs.front();
    if (first.role == ChatRole::kSystem) {
      out->append(first.content.text);  // {{- messages[0]['content'] }}: undefined prints ""
      if (opt.append_thinking_to_system && opt.thinking) {
        if (!first.content.text.empty()) out->append("\n\n");
        out->append(kHermesThinkingPrompt);
      }
    } else {
      out->append(default_prompt);
    }
    out->append(kToolsIntro);
    for (std::string_view t : req.tools_json) {
      out->push_back('\n');
      out->append(t);
    }
    out->append(kToolsOutro);
    out->append(f.end);
  } else {
    require_first();
    const ChatMessage& first = msgs.front();
    if (f.bos) {
      require_bos();
      out->append(opt.bos_token);
    }
    out->append(f.plain_system);
    if (first.role == ChatRole::kSystem) {
      std::string_view c = Concat(first, 0);
      out->append(c);
      if (opt.append_thinking_to_system && opt.thinking) {
        if (!c.empty()) out->append("\n\n");
        out->append(kHermesThinkingPrompt);
      }
    } else {
      out->append(default_prompt);
    }
    out->append(f.end);
  }

  // ---- {%- for message in messages %}
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    switch (m.role) {
      case ChatRole::kSystem:
        if (i == 0) break;  // the header rendered it
        [[fallthrough]];
      case ChatRole::kUser: {
        // '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n'
        std::string_view c = Concat(m, i);
        out->append(f.open);
        out->append(RoleName(m.role));
        out->append(f.after_role);
        out->append(c);
        out->append(f.end);
        break;
      }
      case ChatRole::kAssistant: {
        out->append(f.assistant);
        if (m.content.truthy) AppendAssistantContent(m, i, opt, out);
        if (!m.has_tool_calls) {
          // Without content only the header is emitted (no end token): the template's quirk.
          if (m.content.truthy) out->append(f.end);
          break;
        }
        if (m.tool_calls_error.code != TemplateErrorCode::kNone) {
          TemplateFailure failure;
          failure.code = m.tool_calls_error.code;
          failure.message = i;
          failure.role = m.role;
          failure.call = m.tool_calls_error.call;
          failure.type_name = m.tool_calls_error.type_name;
          throw TemplateError(failure);
        }
        for (std::uint32_t k = 0; k < m.calls_count; ++k) {
          const ChatToolCall& c = req.calls[m.calls_begin + k];
          out->append("\n<tool_call>\n{\"name\": \"");
          out->append(c.name);
          out->append("\", \"arguments\": ");
          out->append(c.arguments);
          out->append("}\n</tool_call>");
        }
        out->append(f.end);
        break;
      }
      case ChatRole::kTool: {
        if (i == 0 || msgs[i - 1].role != ChatRole::kTool) out->append(f.tool_open);
        out->append("\n<tool_response>\n");
        out->append(m.content.text);  // {{- message.content }}: undefined prints ""
        out->append("\n</tool_response>");
        if (i + 1 == msgs.size() || msgs[i + 1].role != ChatRole::kTool) out->append(f.end);
        break;
      }
      case ChatRole::kOther: break;
    }
  }
  if (opt.add_generation_prompt) out->append(f.generation);
}

}  // namespace hermes_stream
