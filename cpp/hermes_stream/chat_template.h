// Native Hermes 4 chat templates.
//
// RenderChat builds the prompt that the official Hermes 4 Jinja templates produce (in transformers'
// environment: trim_blocks, lstrip_blocks, its own `tojson`), byte for byte, for the two formats:
//   kChatML  Hermes-4-14B (`<|im_start|>role\n ... <|im_end|>\n`)
//   kLlama3  Hermes-4-70B / 405B / 4.3-36B (one template: `bos + <|start_header_id|>role ...`)
// The caller hands over messages already reduced to what the template looks at: the role, the
// content as the template sees it (a string, undefined, or another value with its `str()` text
// and truthiness), and for assistant turns the tool calls with their name text and their
// arguments already serialised by `tojson`. Where the Jinja template raises (an undefined or
// non-string value concatenated with `+`, `content.split('</think>', 1)[1]` on content without
// `</think>`, ...), RenderChat throws TemplateError naming the message and the reason, at the
// first such point in rendering order, as Jinja would.
//
// Work is O(total input + output); no Python headers, no allocation besides the output string.
// Thread-safe: a pure function of its inputs.
#ifndef HERMES_STREAM_CHAT_TEMPLATE_H_
#define HERMES_STREAM_CHAT_TEMPLATE_H_

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hermes_stream {

enum class ChatFormat : std::uint8_t { kChatML, kLlama3 };

/// `message.role` compared with the four names the template tests; anything else (including a
/// missing role) is kOther, which the template skips.
enum class ChatRole : std::uint8_t { kOther, kUser, kSystem, kAssistant, kTool };

/// The role a `message.role` string stands for (kOther unless one of the four names). Inline:
/// it runs once per message of every render.
inline ChatRole ChatRoleFromName(std::string_view name) {
  if (name == "user") return ChatRole::kUser;
  if (name == "system") return ChatRole::kSystem;
  if (name == "assistant") return ChatRole::kAssistant;
  if (name == "tool") return ChatRole::kTool;
  return ChatRole::kOther;
}

/// The message keys the templates read, and which roles they are read for: `role` always,
/// `content` for the four known roles, `tool_calls` for assistants; in a tool call, `function`
/// (unwrapped when defined), then `name` and `arguments`.
namespace chat_keys {
inline constexpr char kRole[] = "role";
inline constexpr char kContent[] = "content";
inline constexpr char kToolCalls[] = "tool_calls";
inline constexpr char kFunction[] = "function";
inline constexpr char kName[] = "name";
inline constexpr char kArguments[] = "arguments";
}  // namespace chat_keys
inline bool TemplateReadsContent(ChatRole r) { return r != ChatRole::kOther; }
inline bool TemplateReadsToolCalls(ChatRole r) { return r == ChatRole::kAssistant; }

/// Where the templates raise, in rendering order's terms. Each code has one text
/// (TemplateErrorMessage), identical to the reference renderer's.
enum class TemplateErrorCode : std::uint8_t {
  kNone,
  kMessagesEmpty,              ///< the template reads messages[0]
  kBosUndefined,               ///< the Llama-3 format starts with bos_token
  kContentUndefined,           ///< `'...' + content` with content missing or None
  kContentNotString,           ///< `'...' + content` with a non-str content
  kContentNotStringForSplit,   ///< `content.split('</think>', 1)` on a non-str content
  kContentWithoutThinkClose,   ///< `content.split('</think>', 1)[1]` without `</think>`
  kToolCallsNotList,           ///< `for tool_call in message.tool_calls` on a non-list
  kToolCallNotObject,          ///< a tool call that is not an object
  kToolCallFunctionNotObject,  ///< a tool call whose `function` is not an object
  kToolCallWithoutArguments,   ///< `undefined | tojson`
};

/// One failure and what its text names.
struct TemplateFailure {
  TemplateErrorCode code = TemplateErrorCode::kNone;
  std::size_t message = 0;  ///< index of the failing message (all codes but the first two)
  ChatRole role = ChatRole::kOther;
  std::uint32_t call = 0;      ///< index of the tool call (kToolCallNotObject and after)
  std::string_view type_name;  ///< Python type name of the value (the "got <type>" codes)
};

/// The text of a failure: "message <i> (<role>): <reason>", or the reason alone for the first two
/// codes, e.g. "message 1 (assistant): tool call 0 has no 'arguments'".
std::string TemplateErrorMessage(const TemplateFailure& f);

/// The template raised: what() is TemplateErrorMessage. Maps to hs.TemplateError.
class TemplateError : public std::runtime_error {
 public:
  explicit TemplateError(const TemplateFailure& f)
      : std::runtime_error(TemplateErrorMessage(f)), code_(f.code), message_(f.message) {}
  TemplateErrorCode code() const noexcept { return code_; }
  /// Index of the failing message (0 for kMessagesEmpty and kBosUndefined).
  std::size_t message_index() const noexcept { return message_; }

 private:
  TemplateErrorCode code_;
  std::size_t message_;
};

enum class ValueKind : std::uint8_t {
  kUndefined,  ///< key missing or None (transformers drops None-valued message keys)
  kString,     ///< a str
  kOther,      ///< any other value: `{{ }}` prints `text` (its Python str()), `+` raises
};

/// A message field as the template sees it.
struct ChatValue {
  ValueKind kind = ValueKind::kUndefined;
  std::string_view text;       ///< kString: the string; kOther: str(value); kUndefined: ""
  bool truthy = false;         ///< Jinja (= Python) truthiness
  std::string_view type_name;  ///< kOther: the Python type name, for error messages
};

struct ChatToolCall {
  std::string_view name;       ///< what `{{ tool_call.name }}` prints
  std::string_view arguments;  ///< `tool_call.arguments | tojson`
};

struct ChatMessage {
  ChatRole role = ChatRole::kOther;
  ChatValue content;
  bool has_tool_calls = false;    ///< `message.tool_calls` is truthy (only read for assistants)
  std::uint32_t calls_begin = 0;  ///< index of the first call in ChatRequest::calls
  std::uint32_t calls_count = 0;
  /// Not kNone: rendering this message's tool calls raises (e.g. call 1 has no `arguments`);
  /// raised, as message `index` with this role, when the template reaches them.
  struct ToolCallsError {
    TemplateErrorCode code = TemplateErrorCode::kNone;
    std::uint32_t call = 0;      ///< index of the failing call
    std::string_view type_name;  ///< type of the offending value (a static string)
  } tool_calls_error;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::vector<ChatToolCall> calls;           ///< all messages' tool calls, in order
  bool has_tools = false;                    ///< `tools` is truthy (a non-empty list)
  std::vector<std::string_view> tools_json;  ///< `tool | tojson` for each tool
};

struct ChatOptions {
  ChatFormat format = ChatFormat::kChatML;
  bool has_bos = false;  ///< kLlama3: `bos_token` is defined (a string)
  std::string_view bos_token;
  bool thinking = false;
  bool keep_cots = false;
  bool add_generation_prompt = false;
  /// Extension (off in the official template): with `thinking`, append the thinking prompt to a
  /// caller's own first system message ("\n\n" between) instead of ignoring `thinking`.
  bool append_thinking_to_system = false;
};

/// The default system prompts of the Hermes 4 templates.
extern const std::string_view kHermesThinkingPrompt;
extern const std::string_view kHermesStandardPrompt;

/// \brief Render the conversation exactly as the official Hermes 4 template of `opt.format`.
/// \param out  receives the prompt (appended; cleared first).
/// \throws TemplateError where the Jinja template raises.
void RenderChat(const ChatRequest& req, const ChatOptions& opt, std::string* out);

}  // namespace hermes_stream

#endif  // HERMES_STREAM_CHAT_TEMPLATE_H_
