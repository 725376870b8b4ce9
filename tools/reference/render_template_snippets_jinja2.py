"""Records Python Jinja2 renderings of the constructs @huggingface/jinja lacks.

The environment is the one transformers' apply_chat_template builds (a sandbox with trim_blocks and
lstrip_blocks, tojson as json.dumps(ensure_ascii=False), raise_exception, strftime_now), but mutable so
list.append works. Templates avoid printing booleans, None and containers, where Python's repr and
JSON-like text differ (hearth follows the latter).

    python3 tools/reference/render_template_snippets_jinja2.py

Reads tools/reference/template_snippets_jinja2.json, writes tests/data/template/snippets_jinja2.json.
"""
import json
import os
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import SandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "data", "template", "snippets_jinja2.json")


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


# Like transformers, but list.append must work for the append snippet: use the plain sandbox.
env = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)

with open(os.path.join(HERE, "template_snippets_jinja2.json"), encoding="utf-8") as f:
    snippets = json.load(f)

results = []
for s in snippets:
    r = dict(s)
    try:
        r["output"] = env.from_string(s["template"]).render(**s.get("context", {}))
    except Exception as e:  # recorded, and the test expects hearth to raise too
        r["raises"] = str(e)
    results.append(r)

with open(OUT, "w", encoding="utf-8") as f:
    json.dump({"generator": f"tools/reference/render_template_snippets_jinja2.py with Jinja2 {jinja2.__version__}", "snippets": results},
              f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"jinja2 snippets recorded: {len(results)}")
