"""Regenerates jinja2-reference.json: feature snippets rendered by real Jinja2, configured the way
transformers' apply_chat_template configures it (ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, loopcontrols, tojson with ensure_ascii=False, raise_exception, strftime_now).
Run here: python3 make_jinja2_reference.py > jinja2-reference.json   (needs jinja2>=3.1 and\nthe shared tokenizers at ../shared/models beside the project root)
"""
import json
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

PINNED = datetime(2026, 11, 25, 12, 0, 0)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = lambda fmt: PINNED.strftime(fmt)

MESSAGES = [
    {"role": "system", "content": "Sys"},
    {"role": "user", "content": "Hi {{ x }} \u00e9"},
    {"role": "assistant", "content": "<think>\nplan\n</think>\n\nYo"},
]

SNIPPETS = {
    "slicing": "{{ messages[1:] | length }}|{% for m in messages[::-1] %}{{ m.role }},{% endfor %}|"
               "{{ 'abcdef'[1:4] }}{{ 'abcdef'[::-2] }}{{ [1, 2, 3, 4][-2:] }}{{ [1, 2, 3][:-1] }}{{ 'ab\u00e9'[-1] }}",
    "string_methods": "{{ '  x  '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a b  c '.split() }}|"
                      "{{ 'xxhixx'.strip('x') }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('lo', 'x')) }}|"
                      "{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'hi  '.rstrip() }}|{{ 'aXbXc'.replace('X', '-') }}|"
                      "{{ 'MiX'.upper() }}{{ 'MiX'.lower() }}|{{ 'hello wORLD'.title() }}|{{ 'a=b=c'.rsplit('=', 1) }}|"
                      "{{ 'a b c'.split(' ', 1) }}|{{ '-'.join(['x', 'y']) }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('b') }}",
    "think_split": "{% set c = messages[2].content %}{{ c.split('</think>')[-1].lstrip('\\n') }}|"
                   "{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
    "tests": "{{ 'a' is string }}{{ {} is mapping }}{{ none is none }}{{ x is defined }}{{ 1 is number }}"
             "{{ [1] is iterable }}{{ false is false }}{{ 1 is not string }}{{ 3 is odd }}{{ 4 is divisibleby 2 }}"
             "{{ messages is sequence }}{{ 'a' is in 'abc' }}",
    "dicts_and_in": "{% for k, v in {'a': 1, 'b': [1, 'x']}.items() %}{{ k }}={{ v }};{% endfor %}"
                    "{{ {'a': 1}.get('b', 'dflt') }}{{ {'a': 1}.get('a') }}{{ 'ell' in 'hello' }}{{ 'z' not in 'hello' }}"
                    "{{ 'role' in messages[0] }}{{ {'x': 1}['x'] }}{% for k in {'p': 1, 'q': 2} %}{{ k }}{% endfor %}",
    "loop_controls": "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}"
                     "{{ i }}{{ loop.index0 }}{{ loop.first }}{% if not loop.last %},{% endif %}{% endfor %}",
    "namespace": "{% set ns = namespace(n=0, s='') %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}"
                 "{% set ns.s = ns.s ~ i %}{% set leaked = i %}{% endfor %}{{ ns.n }}/{{ ns.s }}/{{ leaked is defined }}",
    "tojson": "{{ {'a': [1, 2.5, true, none], 'b': '\u00e9\"\\n\\t<', 'c': {}} | tojson }}\n"
              "{{ {'a': {'b': [1, 2]}, 'c': [], 'd': 'x'} | tojson(indent=2) }}\n"
              "{{ [1.0, 1e-05, 1e16, 0.1, 123456789.125, -0.0] | tojson }}\n{{ 'x' | tojson }}{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}",
    "whitespace": "<s>\n  {%- for m in messages %}\n    {% if m.role == 'user' %}\n      [{{ m.role }}]\n    {%- else %}\n"
                  "      ({{ m.role -}}  )\n    {% endif %}\n  {#- a comment #}\n  {%+ if true %}+{% endif %}\n"
                  "{% endfor %}\n  tail {{- ' end' }}  \n{% raw %}  {{ raw }}\n{% endraw %}\n  last line\n",
    "python_printing": "{{ true }}|{{ [1, 'a', none, 'it\\'s'] }}|{{ {'k': 'v', 'n': 2} }}|{{ 3 / 2 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|"
                       "{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 'ab' * 2 }}|{{ 1.0 }}|{{ 0.1 + 0.2 }}|{{ 1e20 }}|{{ 10 - 2 * 3 }}",
    "for_filter_else": "{% for m in [1, 2, 3, 4] if m is even %}{{ loop.index }}:{{ m }}{% if loop.last %}!{% endif %}"
                       "{% else %}none{% endfor %}|{% for m in [] %}x{% else %}empty{% endfor %}",
    "macro": "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', punct='?') }}",
    "no_nested_interpretation": "{% for m in messages %}{{ m.content }}{% endfor %}",
    "filter_block_and_set_block": "{% filter upper %}abc{{ 1 }}{% endfilter %}|{% set x %}a{{ 1 }}b{% endset %}[{{ x }}]|"
                                  "{% set a, b = 1, 2 %}{{ a }}{{ b }}",
    "builtin_filters": "{{ messages | map(attribute='role') | join(', ') }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|"
                       "{{ nothing | default('d') }}|{{ (messages | last).role }}|{{ messages[-1]['role'] }}|{{ '  pad  ' | trim }}|"
                       "{{ [3, 1, 2] | sort | join }}|{{ 'abc' | length }}|{{ ['x', 'y'] | first }}{{ 'hello' | capitalize }}",
    "conditional_expr": "{{ 'y' if messages else 'n' }}{{ 'y' if [] else 'n' }}{{ (messages[0].role == 'system') and 'S' or 'N' }}"
                        "{{ none or 'fallback' }}{{ 0 and 'never' }}{{ 'false' if 'false' else 'empty' }}",
    "string_literals": "{{ 'a\\tb\\\\n' }}|{{ \"dq 'x'\" }}|{{ 'it\\'s' }}|{{ 'adj' 'acent' }}|{{ '\\u00e9\\x41' }}",
    "strftime": "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %j') }}",
    "recursive_macro": "{% macro ty(s) %}{% if s.type == 'array' %}list[{{ ty(s['items']) }}]{% elif s.type is string %}{{ s.type }}"
                       "{% else %}Union[{% for t in s.type %}{{ ty({'type': t}) }}{% if not loop.last %},{% endif %}{% endfor %}]{% endif %}"
                       "{% endmacro %}{{ ty({'type': 'array', 'items': {'type': 'array', 'items': {'type': ['int', 'str']}}}) }}",
    "globals_are_defined": "{{ strftime_now is defined }}{{ raise_exception is defined }}{{ nope is defined }}"
                           "{% if not date_string is defined %}{% set date_string = strftime_now('%d %b %Y') if strftime_now is defined else 'x' %}{% endif %}{{ date_string }}",
    "raise": "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok",
    "undefined_method_error": "{{ messages[0].content.nosuchmethod() }}",
    "sandbox_blocks_append": "{% set l = [1] %}{{ l.append(2) }}",
    "type_error_concat": "{{ 'a' + 1 }}",
}


TOKENIZER_CASES = [
    ("llama3.1-tokenizer", MESSAGES[:2], None),
    ("llama3.1-tokenizer", [{"role": "user", "content": "Weather in Paris?"}],
     [{"type": "function", "function": {"name": "get_weather", "description": "Weather \u2014 in \u00b0C",
                                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                       "required": ["city"]}}}]),
    ("qwen3-tokenizer", MESSAGES, None),
]


def tokenizer_cases(shared_models):
    out = []
    for folder, messages, tools in TOKENIZER_CASES:
        with open(f"{shared_models}/{folder}/tokenizer_config.json", encoding="utf-8") as f:
            config = json.load(f)
        special = {k: config[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token") if isinstance(config.get(k), str)}
        rendered = env.from_string(config["chat_template"]).render(
            messages=messages, tools=tools, add_generation_prompt=True, **special)
        out.append({"folder": folder, "messages": messages, "tools": tools, "expected": rendered})
    return out


def main():
    out = []
    for name, source in SNIPPETS.items():
        case = {"name": name, "template": source}
        try:
            case["expected"] = env.from_string(source).render(messages=MESSAGES, add_generation_prompt=True, x=1)
        except Exception as e:  # noqa: BLE001 - any template failure is the expected outcome
            case["expected_error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    print(json.dumps({"generator": "Jinja2 " + jinja2.__version__ + " via make_jinja2_reference.py",
                      "messages": MESSAGES, "cases": out,
                      "tokenizer_cases": tokenizer_cases("../../../../../../../../../shared/models")}, ensure_ascii=False, indent=1))


main()
