#!/usr/bin/env python3
"""`hearth prompts` end to end: a real hearth-registry on loopback, prompt files pushed from a folder, then
get / promote / diff / rollback / log / list as a user runs them, plus the errors a user must be able to act on."""
import os
import re
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEARTH = os.environ.get("HEARTH_EXE", os.path.join(ROOT, "build/release/bin/hearth"))
REGISTRY = os.environ.get("HEARTH_REGISTRY_EXE", os.path.join(ROOT, "build/release/bin/hearth-registry"))
WRITER, READER = "w-" + os.urandom(8).hex(), "r-" + os.urandom(8).hex()


class PromptsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        with open(os.path.join(d, "tokens.toml"), "w") as f:
            f.write(f'[[tokens]]\nname = "ci-writer"\ntoken = "{WRITER}"\nrights = "write"\n'
                    f'[[tokens]]\nname = "ci-reader"\ntoken = "{READER}"\nrights = "read"\n')
        cls.server = subprocess.Popen([REGISTRY, "--db", os.path.join(d, "p.db"), "--listen", "127.0.0.1:0",
                                       "--tokens", os.path.join(d, "tokens.toml")],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            cls.server.kill()
            raise RuntimeError("registry did not start: " + line + cls.server.stderr.read())
        cls.url = f"http://127.0.0.1:{m.group(1)}"
        cls.prompts = os.path.join(d, "prompts")
        os.makedirs(os.path.join(cls.prompts, "support"))

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls.server.wait()
        cls.tmp.cleanup()

    def cli(self, *args, token=WRITER):
        env = dict(os.environ, HEARTH_REGISTRY_URL=self.url, HEARTH_REGISTRY_TOKEN=token)
        return subprocess.run([HEARTH, "prompts", *args], capture_output=True, text=True, timeout=60, env=env)

    def write_prompt(self, name, template, message):
        with open(os.path.join(self.prompts, "support", name + ".prompt.toml"), "w") as f:
            f.write(f'message = "{message}"\ntemplate = """{template}"""\n'
                    '[variables]\nuser = { type = "string", default = "friend" }\n')

    def test_lifecycle(self):
        self.write_prompt("greet", "Hello {{ user }}!\nHow can I help?", "first")
        r = self.cli("push", self.prompts)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("greet: created version 1", r.stdout)
        # Pushing the same content again creates nothing.
        r = self.cli("push", self.prompts)
        self.assertIn("greet: unchanged (version 1)", r.stdout)
        self.write_prompt("greet", "Hello {{ user }}!\nWhat do you need?", "second")
        self.assertIn("greet: created version 2", self.cli("push", self.prompts).stdout)

        self.assertEqual(self.cli("promote", "greet", "prod", "1").stdout.strip(), "greet@prod -> v1")
        self.assertEqual(self.cli("promote", "greet", "prod", "2").stdout.strip(), "greet@prod -> v2")
        r = self.cli("get", "greet@prod")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# greet version 2", r.stdout)
        self.assertIn("What do you need?", r.stdout)

        r = self.cli("diff", "greet", "1", "2")
        self.assertIn("-How can I help?", r.stdout)
        self.assertIn("+What do you need?", r.stdout)

        self.assertEqual(self.cli("rollback", "greet", "prod").stdout.strip(), "greet@prod rolled back to v1")
        self.assertIn("How can I help?", self.cli("get", "greet@prod").stdout)

        log = self.cli("log", "greet").stdout
        self.assertRegex(log, r"stage prod\s+v1")
        for action in ("create_version", "promote", "rollback"):
            self.assertIn(action, log)
        self.assertIn("ci-writer", log)
        self.assertRegex(self.cli("list").stdout, r"greet\s+latest v2 prod=v1")

    def test_split_is_shown_with_weights(self):
        self.write_prompt("ab", "A {{ user }}", "a")
        self.cli("push", self.prompts)
        self.write_prompt("ab", "B {{ user }}", "b")
        self.cli("push", self.prompts)
        r = self.cli("promote", "ab", "staging", "1=0.8,2=0.2")
        self.assertEqual(r.stdout.strip(), "ab@staging -> v1 (80%), v2 (20%)", r.stderr)

    def test_errors_a_user_can_act_on(self):
        # A template that does not parse is refused at push time with its line and column.
        self.write_prompt("broken", "line one\n{% if user %}never closed", "bad")
        r = self.cli("push", self.prompts)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"broken.*(line|:)\s*2")
        os.remove(os.path.join(self.prompts, "support", "broken.prompt.toml"))
        # A read-only token may read but not write.
        r = self.cli("promote", "greet", "dev", "1", token=READER)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("may read but not write", r.stderr)
        # A wrong token, an unknown prompt, no registry at all.
        self.assertIn("not valid", self.cli("list", token="nope").stderr)
        r = self.cli("get", "no-such-prompt@prod")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no-such-prompt", r.stderr)
        r = subprocess.run([HEARTH, "prompts", "list"], capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if not k.startswith("HEARTH_REGISTRY")})
        self.assertIn("no registry", r.stderr)
        # The token never appears in output, even on errors.
        for args in (("list",), ("get", "x@prod")):
            r = self.cli(*args)
            self.assertNotIn(WRITER, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
