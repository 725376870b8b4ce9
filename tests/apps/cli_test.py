#!/usr/bin/env python3
"""End-to-end checks of the `hearth` command against llama.cpp's recorded outputs (tests/data/model/)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEARTH = os.environ.get("HEARTH_EXE", os.path.join(ROOT, "build/release/bin/hearth"))
FIXTURE = os.path.join(ROOT, "tests/data/fixtures/models/llama-spm-q8_0.gguf")
REFERENCE = os.path.join(ROOT, "tests/data/model/llama-spm-q8_0.json")


def hearth(*args, **kw):
    return subprocess.run([HEARTH, *args], capture_output=True, text=True, timeout=120, **kw)


@unittest.skipUnless(os.path.exists(FIXTURE), "fixtures not generated; run scripts/make_fixtures.sh")
class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(REFERENCE) as f:
            cls.ref = json.load(f)["cases"]

    def test_run_json_greedy_equals_llama_cpp(self):
        case = self.ref[0]
        r = hearth("run", "-m", FIXTURE, "-n", "16", "--temp", "0", "--threads", "2", "--json", case["prompt"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["prompt_tokens"], case["prompt_tokens"])
        self.assertEqual(out["tokens"], case["greedy_tokens"][:16])
        self.assertGreater(out["prefill_tokens_per_second"], 0)
        self.assertGreater(out["decode_tokens_per_second"], 0)
        self.assertEqual(out["finish_reason"], "length")

    def test_run_streams_text_and_reports_speed(self):
        r = hearth("run", "-m", FIXTURE, "-n", "8", "--temp", "0.8", "--seed", "3", "Hello")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("Hello"))
        self.assertRegex(r.stderr, r"prefill \d+ tokens, [\d.]+ tok/s \| decode 8 tokens, [\d.]+ tok/s")

    def test_seed_makes_sampling_reproducible(self):
        args = ("run", "-m", FIXTURE, "-n", "12", "--temp", "1.0", "--json", "--seed")
        a = json.loads(hearth(*args, "7", "Hi").stdout)["tokens"]
        b = json.loads(hearth(*args, "7", "Hi").stdout)["tokens"]
        c = json.loads(hearth(*args, "8", "Hi").stdout)["tokens"]
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_tokenize_equals_llama_cpp(self):
        for case in self.ref:
            r = hearth("tokenize", "-m", FIXTURE, case["prompt"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout), case["prompt_tokens"])

    def test_info_lists_metadata_and_tensors(self):
        r = hearth("info", FIXTURE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("llama.block_count", r.stdout)
        self.assertIn("blk.0.attn_q.weight", r.stdout)
        self.assertIn("q8_0", r.stdout.lower())

    def test_chat_uses_the_template_and_keeps_history(self):
        qwen = os.path.join(ROOT, "tests/data/fixtures/models/qwen3-bpe-q5_k_m.gguf")
        r = hearth("chat", "-m", qwen, "-n", "4", "--temp", "0", input="hello\nand again\n/exit\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len([l for l in r.stderr.splitlines() if "decode" in l]), 2)

    def test_bad_inputs_give_clear_errors(self):
        r = hearth("run", "-m", "/nonexistent.gguf", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("error:", r.stderr)
        with tempfile.NamedTemporaryFile(suffix=".gguf") as f:
            with open(FIXTURE, "rb") as src:
                f.write(src.read(100000))
            f.flush()
            r = hearth("run", "-m", f.name, "x")
            self.assertEqual(r.returncode, 1)
            self.assertIn("error:", r.stderr)
            self.assertNotIn("Segmentation", r.stderr)
        r = hearth("run", "-m", FIXTURE, "--ctx", "8", "this prompt is much longer than eight tokens for sure")
        self.assertEqual(r.returncode, 1)
        self.assertIn("context", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
