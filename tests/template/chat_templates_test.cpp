// Every real chat template collected by tools/reference/render_templates.mjs must render each recorded
// conversation byte for byte like @huggingface/jinja did.
#include <gtest/gtest.h>

#include <ctime>
#include <set>

#include "hearth/chat_template.h"
#include "hearth/error.h"
#include "reference_data.h"

namespace {

using nlohmann::ordered_json;

const ordered_json& reference() {
  static const ordered_json data = hearth::test::load_template_reference("chat_templates.json");
  return data;
}

// The day the reference was rendered (tools/reference/render_templates.mjs pins its clock to it), for the
// templates that print strftime_now()'s date.
std::time_t reference_day() {
  std::tm noon{};
  noon.tm_year = 2026 - 1900;
  noon.tm_mon = 10;
  noon.tm_mday = 23;
  noon.tm_hour = 12;
  noon.tm_isdst = -1;
  return std::mktime(&noon);
}

struct Totals {
  int cases = 0;
  int matched = 0;
};

Totals render_template(const ordered_json& t) {
  Totals totals;
  const std::string name = t["name"].get<std::string>();
  std::unique_ptr<hearth::ChatTemplate> chat;
  try {
    chat = std::make_unique<hearth::ChatTemplate>(t["source"].get<std::string>());
  } catch (const hearth::Error& e) {
    ADD_FAILURE() << name << ": parse failed: " << e.what();
    totals.cases = static_cast<int>(t["cases"].size());
    return totals;
  }
  for (const ordered_json& c : t["cases"]) {
    ++totals.cases;
    const ordered_json& conversation = reference()["conversations"][c["conversation"].get<std::string>()];
    hearth::ChatTemplateOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    options.bos_token = t["bos_token"].get<std::string>();
    options.eos_token = t["eos_token"].get<std::string>();
    options.now = reference_day();
    ordered_json extra = c["extra"];
    if (conversation.contains("tools")) extra["tools"] = conversation["tools"];
    std::string label = name + " / " + c["conversation"].get<std::string>() + " / add_generation_prompt=" +
                        (options.add_generation_prompt ? "true" : "false") + " / extra=" + c["extra"].dump();
    try {
      std::string out = chat->render(conversation["messages"], options, extra);
      if (c.contains("raises")) {
        ADD_FAILURE() << label << ": expected raise_exception(" << c["raises"] << "), got output";
      } else if (out == c["output"].get<std::string>()) {
        ++totals.matched;
      } else {
        EXPECT_EQ(out, c["output"].get<std::string>()) << label;
      }
    } catch (const hearth::Error& e) {
      if (c.contains("raises") && std::string(e.what()).find(c["raises"].get<std::string>()) != std::string::npos) {
        ++totals.matched;
      } else {
        ADD_FAILURE() << label << ": " << e.what();
      }
    }
  }
  return totals;
}

TEST(ChatTemplates, RealTemplatesRenderLikeReference) {
  Totals all;
  int templates = 0;
  for (const ordered_json& t : reference()["templates"]) {
    Totals totals = render_template(t);
    all.cases += totals.cases;
    all.matched += totals.matched;
    ++templates;
  }
  std::printf("chat templates: %d templates, %d of %d cases byte-exact\n", templates, all.matched, all.cases);
  EXPECT_EQ(all.matched, all.cases);
  EXPECT_GE(templates, 6);
}

TEST(ChatTemplates, SetCoversTheMainFamilies) {
  std::set<std::string> names;
  for (const ordered_json& t : reference()["templates"]) names.insert(t["name"].get<std::string>());
  for (const char* required : {"llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3", "llama2-7b", "mistral-7b-instruct-fp16",
                               "smollm2-135m", "qwen2.5-0.5b", "llama3.1-8b", "command-r-35b"}) {
    EXPECT_TRUE(names.count(required)) << required;
  }
}

TEST(ChatTemplates, QwenThinkingSwitchChangesGenerationPrompt) {
  for (const ordered_json& t : reference()["templates"]) {
    if (t["name"] != "qwen3") continue;
    hearth::ChatTemplate chat(t["source"].get<std::string>());
    ordered_json messages = ordered_json::parse(R"([{"role":"user","content":"hi"}])");
    hearth::ChatTemplateOptions options;
    std::string thinking = chat.render(messages, options, ordered_json::object());
    std::string direct = chat.render(messages, options, ordered_json{{"enable_thinking", false}});
    EXPECT_EQ(direct, thinking + "<think>\n\n</think>\n\n");
    return;
  }
  FAIL() << "qwen3 template missing";
}

TEST(ChatTemplates, SortedJsonOverloadRenders) {
  // The nlohmann::json entry point (sorted keys) renders the same text for messages with role/content only.
  for (const ordered_json& t : reference()["templates"]) {
    if (t["name"] != "llama3_1") continue;
    hearth::ChatTemplate chat(t["source"].get<std::string>());
    nlohmann::json messages = nlohmann::json::parse(R"([{"role":"user","content":"hi"}])");
    hearth::ChatTemplateOptions options;
    options.bos_token = "<|begin_of_text|>";
    std::string out = chat.render(messages, options);
    EXPECT_EQ(out, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    return;
  }
  FAIL() << "llama3_1 template missing";
}

}  // namespace

// strftime_now() formats ChatTemplateOptions::now when it is set (reproducible prompts), else the clock.
TEST(ChatTemplates, StrftimeNowFormatsTheGivenTime) {
  hearth::ChatTemplate chat("{{ strftime_now('%Y-%m-%d') }}");
  hearth::ChatTemplateOptions options;
  options.now = reference_day();
  EXPECT_EQ(chat.render(nlohmann::json::array(), options), "2026-11-23");
  *options.now += 10 * 24 * 3600;
  EXPECT_EQ(chat.render(nlohmann::json::array(), options), "2026-12-03");
  options.now.reset();
  char today[16];
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  std::strftime(today, sizeof today, "%Y-%m-%d", &local);
  EXPECT_EQ(chat.render(nlohmann::json::array(), options), today);
}
