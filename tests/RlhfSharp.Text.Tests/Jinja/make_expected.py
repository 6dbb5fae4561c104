#!/usr/bin/env python3
"""Writes Fixtures/jinja/cases.json: templates, contexts and what jinja2 renders from them.

It sets up the environment Hugging Face transformers renders chat templates in
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, the generation tag,
the tojson override, raise_exception and strftime_now) and records for each case either the
output (with the generation blocks' character spans) or the error's class and message.
Run with a python3 that has jinja2 3.1 (the fixture was made with 3.1.6): python3 make_expected.py
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime(2026, 3, 5, 14, 7, 9)


class AssistantTracker(Extension):
    """transformers' AssistantTracker: records where each {% generation %} block's text lands."""
    tags = {"generation"}

    def __init__(self, environment):
        super().__init__(environment)
        self.rendered = None
        self.spans = None

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        rv = caller()
        if self.rendered is not None:
            start = len("".join(self.rendered))
            self.spans.append((start, start + len(rv)))
        return rv


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def render(template, context):
    env = environment()
    try:
        compiled = env.from_string(template)
        tracker = next(e for e in env.extensions.values() if isinstance(e, AssistantTracker))
        tracker.rendered, tracker.spans = [], []
        for block in compiled.generate(**context):
            tracker.rendered.append(block)
        text = "".join(tracker.rendered)
        return {"output": text, "generation": [list(s) for s in tracker.spans]}
    except Exception as e:  # the fixture records the failure itself
        return {"error": type(e).__name__, "message": str(e), "line": getattr(e, "lineno", None)}


def main():
    from cases import cases
    out = []
    for name, template, context in cases():
        result = render(template, context)
        out.append({"name": name, "template": template, "context": context, **result})
    path = os.path.join(HERE, "..", "Fixtures", "jinja", "cases.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(out)} cases, {sum('error' in c for c in out)} errors -> {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
