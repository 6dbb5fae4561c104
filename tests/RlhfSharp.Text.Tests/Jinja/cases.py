"""The cases make_expected.py renders: (name, template, context). Contexts are JSON values."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

MSGS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi <|im_end|> there"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "  What is 2+2?\n"},
]

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

CHATML_GENERATION = (
    "{% for message in messages %}{% if message.role == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message.content + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}{{ '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def qwen3_template():
    with open(os.path.join(HERE, "..", "Fixtures", "qwen3", "tokenizer_config.json"), encoding="utf-8") as f:
        return json.load(f)["chat_template"]


QWEN3_MESSAGES = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "reasoning_content": "I should call the tool.",
     "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius", "days": 2, "ratio": 0.5}}}]},
    {"role": "tool", "content": "{\"temp\": 21}"},
    {"role": "tool", "content": "{\"rain\": false}"},
    {"role": "assistant", "content": "<think>\nIt is mild.\n</think>\n\nIt is 21 °C and dry in Paris."},
    {"role": "user", "content": "And tomorrow? 日本語 \"quoted\""},
]

QWEN3_TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather.",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
                                                     "required": ["city"]}}},
]


# Templates in the style of well-known model families (written for these tests), for the constructs they combine.
LLAMA31_STYLE = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%d %b %Y") %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- 'with its proper arguments that best answers the given prompt.\n\n' }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

MISTRAL_STYLE = """{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"""

GEMMA_STYLE = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"""

DEEPSEEK_STYLE = """{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor -%}{% if add_generation_prompt %}{{'<｜Assistant｜><think>\n'}}{% endif %}"""

ALTERNATING = [
    {"role": "user", "content": "  Hello  "},
    {"role": "assistant", "content": "<think>hm</think>Hi!"},
    {"role": "user", "content": "Bye"},
]


def cases():
    c = []

    def add(case_name, template, **context):
        c.append((case_name, template, context))

    # whitespace control
    add("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter")
    add("ws_lstrip_blocks", "start\n    {% if true %}\n    body\n    {% endif %}\nend")
    add("ws_lstrip_not_variable", "a\n    {{ 'x' }}\nb")
    add("ws_minus_left", "a   \n  {%- if true %}b{% endif %}")
    add("ws_minus_right", "{% if true -%}  \n\n  b{% endif %}")
    add("ws_minus_variable", "a  {{- 'x' -}}  \n b")
    add("ws_plus_left", "a\n    {%+ if true %}b{% endif %}")
    add("ws_plus_right", "{% if true +%}\nb{% endif %}")
    add("ws_comment", "a\n  {# note #}\nb {#- x -#}   c")
    add("ws_trailing_newline", "line\n")
    add("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n")
    add("ws_lstrip_mid_line", "x {% if true %}y{% endif %}")
    add("ws_nested_indent", "{% for i in [1, 2] %}\n  {% if i > 1 %}\n    {{ i }}\n  {% endif %}\n{% endfor %}")
    # literals and printing
    add("str_escapes", "{{ 'a\\tb\\n\\\\ \\'q\\' \\x41\\u00e9 \\d' }}|{{ \"dq \\\"x\\\"\" }}")
    add("print_values", "{{ true }} {{ none }} {{ 1.0 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}")
    add("print_containers", "{{ [1, 'a', none, true, 2.5] }} {{ {'k': \"it's\", 'n': [1]} }} {{ (1,) }} {{ (1, 2) }} {{ [] }}")
    add("print_undefined", "[{{ missing }}][{{ missing is defined }}][{{ missing | default('d') }}]")
    add("string_ops", "{{ 'ab' * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'abc'[1] }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::-1] }} {{ 'abcdef'[::2] }} {{ 'abc'[-1] }}")
    add("list_ops", "{{ [1, 2] + [3] }} {{ [0] * 3 }} {{ [1, 2, 3][1:] }} {{ [1, 2, 3][-2:] }} {{ 2 in [1, 2] }} {{ 3 not in [1, 2] }} {{ 'b' in 'abc' }}")
    add("comparisons", "{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ true == 1 }} {{ none == none }} {{ 1 != 2 }}")
    add("logic", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ not 0 }} {{ '' or [] }} {{ none and 1 }}")
    add("cond_expr", "{{ 'a' if 1 else 'b' }}|{{ 'a' if 0 else 'b' }}|{{ 'a' if 0 }}|{{ 'x' if 0 else 'y' if 1 else 'z' }}")
    add("dict_access", "{{ d.a }} {{ d['b'] }} {{ d.get('c', 'none') }} {{ d.get('a') }} {{ d.missing is defined }} {{ d['items'] }}", d={"a": 1, "b": "two", "items": "it"})
    add("dict_methods", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d.values() | list }}", d={"x": 1, "y": [2]})
    add("numbers_from_json", "{{ n }} {{ f }} {{ n / 2 }} {{ f * 2 }} {{ n is integer }} {{ f is float }} {{ big }}", n=3, f=2.5, big=1e16)
    # string methods
    add("str_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.strip(' x') }}|{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ 'hello world'.capitalize() }}", s="  xHello wOrld x  ")
    add("str_split", "{{ 'a,b,,c'.split(',') }} {{ ' a  b c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b c '.rsplit(None, 1) }} {{ 'x'.split('y') }}")
    add("str_search", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith(('x', 'lo')) }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ 'hello'.replace('l', 'L') }} {{ 'hello'.replace('l', 'L', 1) }} {{ 'hello'.find('z') }}")
    add("str_format_join", "{{ '{} and {}'.format('a', 1) }} {{ '{0}{0}'.format('x') }} {{ '{name}!'.format(name='n') }} {{ '-'.join(['a', 'b']) }}")
    add("str_think_split", "{% set c = s.split('</think>')[-1].lstrip('\\n') %}[{{ c }}][{{ s.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}]", s="<think>\nreason\n</think>\n\nanswer")
    # control structures
    add("for_loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.cycle('o', 'e') }}|{% endfor %}")
    add("for_prev_next", "{% for x in [1, 2, 3] %}{{ loop.previtem | default('-') }}{{ x }}{{ loop.nextitem | default('-') }} {% endfor %}")
    add("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in [1] %}{{ x }}{% else %}no{% endfor %}")
    add("for_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ loop.index }}{{ loop.last }},{% endfor %}")
    add("for_unpack", "{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}")
    add("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")
    add("for_nested_loop", "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}{% endfor %}")
    add("for_string_and_dict", "{% for ch in 'ab' %}[{{ ch }}]{% endfor %}{% for k in {'p': 1, 'q': 2} %}{{ k }}{% endfor %}")
    add("if_elif_else", "{% for x in [1, 2, 3] %}{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %} {% endfor %}")
    add("set_scoping", "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set x = 3 %}{% endif %}{{ x }}")
    add("set_tuple", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}")
    add("namespace", "{% set ns = namespace(count=0, found=false) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% endfor %}{{ ns.count }} {{ ns.found }}")
    add("set_block", "{% set body %}\n  Hi {{ name }}\n{% endset %}[{{ body }}]{% set up | upper %}shout{% endset %}{{ up }}", name="Ann")
    add("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(punct='.', name='C') }} {{ greet() }}")
    add("macro_call_block", "{% macro box(title) %}[{{ title }}: {{ caller() }}]{% endmacro %}{% call box('t') %}inside{% endcall %}")
    add("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}")
    add("generation_block", CHATML_GENERATION, messages=MSGS[:3], add_generation_prompt=False)
    add("raise_exception", "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user turn') }}{% endif %}", messages=MSGS)
    add("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S %d %b %Y %A %B %j %I %p') }}")
    # filters
    add("f_trim_length", "[{{ '  a b  ' | trim }}][{{ 'xxaxx' | trim('x') }}] {{ [1, 2] | length }} {{ 'abc' | count }} {{ {'a': 1} | length }}")
    add("f_tojson", "{{ d | tojson }}\n{{ d | tojson(indent=2) }}\n{{ d | tojson(sort_keys=true) }}\n{{ d | tojson(separators=(',', ':')) }}\n{{ 'é\"\\n' | tojson }}\n{{ [] | tojson(indent=2) }}{{ 3.0 | tojson }}{{ none | tojson }}",
        d={"b": [1, 2.5, None, True], "a": {"x": "日本", "y": {}}, "c": 1e-07})
    add("f_tojson_ascii", "{{ 'é' | tojson(ensure_ascii=true) }}")
    add("f_case", "{{ 'hello WORLD' | upper }} {{ 'HeLLo' | lower }} {{ 'hello wORLD' | capitalize }} {{ 'hello world-wide (x)' | title }}")
    add("f_default", "{{ missing | default('a') }} {{ '' | default('b') }} {{ '' | default('c', true) }} {{ none | d('e', true) }} {{ 0 | default(5) }}")
    add("f_join", "{{ ['a', 'b'] | join(', ') }} {{ [1, 2] | join }} {{ users | join('/', attribute='name') }}", users=[{"name": "x"}, {"name": "y"}])
    add("f_items", "{% for k, v in d | items %}{{ k }}:{{ v }} {% endfor %}", d={"one": 1, "two": 2})
    add("f_select", "{{ users | selectattr('admin') | map(attribute='name') | list }} {{ users | rejectattr('admin') | map(attribute='name') | list }} "
        "{{ users | selectattr('age', 'gt', 20) | map(attribute='name') | join(',') }} {{ users | selectattr('role', 'equalto', 'x') | list | length }} "
        "{{ [1, 2, 3, 4] | select('even') | list }} {{ [1, 0, 2] | select | list }} {{ [1, 2, 3] | reject('odd') | list }}",
        users=[{"name": "a", "admin": True, "age": 30, "role": "x"}, {"name": "b", "admin": False, "age": 10, "role": "y"}])
    add("f_map", "{{ ['a', 'B'] | map('upper') | list }} {{ [1.7, 2.2] | map('int') | list }} {{ users | map(attribute='nope', default='?') | list }}", users=[{"n": 1}])
    add("f_first_last_list", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | list }} {{ 'xyz' | first }}")
    add("f_conversions", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 'x' | float }} {{ 5 | float }} {{ 12 | string }} {{ [1] | string }}")
    add("f_numbers", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.567 | round(2) }} {{ 2.1 | round(method='ceil') }} {{ 2.9 | round(0, 'floor') }} {{ 7 | round }}")
    add("f_replace_safe", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ '<b>' | safe }}")
    add("f_indent", "[{{ 'a\\nb\\n\\nc' | indent }}][{{ 'a\\nb' | indent(2, true) }}][{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}]")
    add("f_unique_sort_reverse", "{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} "
        "{{ users | sort(attribute='age') | map(attribute='n') | join }} {{ [1, 2, 3] | reverse | list }} {{ 'abc' | reverse }}",
        users=[{"n": "x", "age": 3}, {"n": "y", "age": 1}, {"n": "z", "age": 2}])
    add("f_batch_sum_minmax", "{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 0) | list }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }}")
    # tests
    add("tests_types", "{{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 'a' is string }} {{ none is none }} "
        "{{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ false is false }} {{ {} is mapping }} {{ [] is sequence }} {{ 'a' is sequence }} {{ 1 is iterable }} {{ {} is iterable }}")
    add("tests_values", "{{ 4 is even }} {{ 3 is odd }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ 2 is in [1, 2] }} {{ 1 is eq 1 }} {{ 1 is equalto 2 }} "
        "{{ 1 is ne 2 }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 3 is ge 3 }} {{ 3 is le 2 }} {{ none is sameas none }} {{ x is not defined }} {{ x is undefined }} {{ 1 is not none }}")
    # sandbox and errors at render time
    add("err_undefined_attr", "{{ missing.attr }}")
    add("err_sandbox_append", "{% set l = [1] %}{{ l.append(2) }}")
    add("sandbox_underscore_prints_empty", "[{{ 'a'.__class__ }}]")
    add("err_type_add", "{{ 'a' + 1 }}")
    add("err_raise_line", "line1\n{{ raise_exception('bad input') }}")
    add("err_unpack", "{% for a, b in [1] %}{% endfor %}")
    add("err_not_callable", "{{ 'a'() }}")
    add("err_dict_missing_then_call", "{{ d.nope() }}", d={})
    # malformed templates
    add("syn_unclosed_for", "{% for x in y %}\nbody")
    add("syn_unclosed_if", "a\n{% if x %}b")
    add("syn_unknown_tag", "x\n{% frobnicate %}")
    add("syn_unknown_filter", "{{ 1 }}\n{{ x | nosuchfilter }}")
    add("syn_unknown_test", "\n\n{{ x is nosuchtest }}")
    add("syn_bad_token", "{{ 1 $ 2 }}")
    add("syn_unclosed_variable", "{{ x ")
    add("syn_unexpected_endfor", "{% if x %}{% endfor %}")
    add("syn_missing_expression", "{{ }}")
    add("syn_unclosed_string", "{{ 'abc }}")
    add("syn_unclosed_comment", "a {# b")
    add("syn_break_outside_loop", "{% break %}")
    # chat templates
    add("chatml", CHATML, messages=MSGS, add_generation_prompt=True)
    add("qwen3_conversation", qwen3_template(), messages=QWEN3_MESSAGES, tools=QWEN3_TOOLS, add_generation_prompt=True,
        eos_token="<|im_end|>", pad_token="<|endoftext|>")
    add("qwen3_no_thinking", qwen3_template(), messages=QWEN3_MESSAGES[:2], add_generation_prompt=True, enable_thinking=False)
    add("qwen3_tool_call_string_arguments", qwen3_template(), messages=[
        {"role": "user", "content": "Go"},
        {"role": "assistant", "content": "Calling.", "tool_calls": [{"name": "f", "arguments": "{\"x\": 1}"}]},
    ], add_generation_prompt=False)
    add("llama31_style_tools", LLAMA31_STYLE, bos_token="<|begin_of_text|>", messages=[
        {"role": "system", "content": "  Be helpful.  "},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": {"temp": -3}},
        {"role": "assistant", "content": "It is -3."},
    ], tools=QWEN3_TOOLS, builtin_tools=["code_interpreter", "wolfram_alpha"], add_generation_prompt=True)
    add("llama31_style_plain", LLAMA31_STYLE, bos_token="<|begin_of_text|>", messages=ALTERNATING, add_generation_prompt=False, date_string="26 Jul 2024")
    add("llama31_style_no_user_error", LLAMA31_STYLE, bos_token="<|begin_of_text|>", messages=[{"role": "system", "content": "s"}], tools=QWEN3_TOOLS)
    add("mistral_style", MISTRAL_STYLE, bos_token="<s>", eos_token="</s>", messages=ALTERNATING)
    add("mistral_style_not_alternating", MISTRAL_STYLE, bos_token="<s>", eos_token="</s>", messages=ALTERNATING[:1] * 2)
    add("gemma_style", GEMMA_STYLE, bos_token="<bos>", messages=ALTERNATING, add_generation_prompt=True)
    add("deepseek_style", DEEPSEEK_STYLE, bos_token="<｜begin▁of▁sentence｜>", messages=[{"role": "system", "content": "A"}, {"role": "system", "content": "B"}] + ALTERNATING, add_generation_prompt=True)
    # more semantics
    add("undefined_chains", "{{ d.a is defined }} {{ d.a.b is defined if d.a is defined else 'no' }} {{ (d.x | default({})).get('y', 'z') }} {{ missing == missing }} {{ none is none }}", d={})
    add("loop_cycle_depth", "{% for a in [1, 2] %}{{ loop.depth }}{% for b in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}{{ loop.cycle('x', 'y', 'z') }}{% endfor %}")
    add("unicode_strings", "{{ s | length }} {{ s[1] }} {{ s[:2] }} {{ s | upper }} {{ s | tojson }} {{ s.find('b') }} {{ s[::-1] }}", s="a😀b é")
    add("in_dict_and_membership", "{{ 'a' in d }} {{ 'z' in d }} {{ 'tool_calls' in m }} {{ 1 in [1.0] }} {{ none in [none] }}", d={"a": 1}, m={"role": "user"})
    add("string_compare_and_concat", "{{ 'a' ~ 'b' == 'ab' }} {{ 'B' < 'a' }} {{ 'abc' * 0 }}|{{ -1 * 'x' }}|{{ '%' }}")
    add("whitespace_variable_trim_mix", "{%- for x in [1, 2] -%}\n  {{ x }}\n{%- endfor %}\n{{- 'end' }}\n  {# c #}  \n{% if true %}  t  {% endif %}")
    add("for_over_items_filter_tuple", "{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}", d={"b": 1, "a": 2})
    add("float_formatting", "{{ 1/3 }} {{ 2.0 * 3 }} {{ 1e-4 }} {{ 1e-5 }} {{ 123456789012345678.0 }} {{ 1e15 }} {{ 0.1 }} {{ -0.0 }} {{ 3 // 2.0 }} {{ 7 % -3 }} {{ 7.5 % 2 }}")
    add("replace_empty_and_unicode", "{{ 'ab'.replace('', '-') }} {{ s.replace('', '|', 2) }} {{ s.replace('😀', 'x') }} {{ s | replace('b', 'B') }} {{ s[::2] }} {{ s * 2 }}", s="😀ab😀")
    add("edge_mixed", "{{ [1, [2, 'x']] | tojson }} {{ {'a': none} | tojson }} {{ d | tojson }} {{ 'a\\u0001b' | tojson }} {{ (1, 'a') | tojson }} {{ {1: 2, true: 3} }} {{ 2 ** 0.5 }} {{ 10 // 3 * 3 + 10 % 3 }} {{ -2 ** 2 }} {{ (-2) ** 2 }} {{ not true == false }}",
        d={"k": [{"n": 1.25, "m": -0.0, "big": 12345678901234567890, "e": 1e300}]})
    add("edge_strings", "{{ 'a-b_c d'.title() }} {{ 'ABC'.lower().capitalize() }} {{ '  x  '.strip() | length }} {{ 'x'.center(5) }}|{{ 'a.b.c'.rsplit('.', 1)[0] }} {{ 'abc'.index('c') }} {{ 'a\tb'.split() }} {{ 'line1\nline2\r\nline3'.splitlines() }} {{ 'abc'.startswith('bc', 1) }} {{ 'Hello'.isupper() }} {{ '123'.isdigit() }}")
    add("edge_loops", "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }}{% if j == 0 %}{% continue %}{% endif %}!{% endfor %}{% if i == 1 %}{% break %}{% endif %}{% else %}E{% endfor %}|{% for x in [] if x %}{% else %}none{% endfor %}|{% for a, b in {'x': 1}.items() %}{{ a }}{{ b }}{% endfor %}")
    add("edge_set_in_if_in_loop", "{% set ns = namespace(s='') %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.s = ns.s + m.content[:3] %}{% set local = 1 %}{% endif %}{% endfor %}{{ ns.s }}|{{ local is defined }}", messages=MSGS)
    add("edge_macro_defaults_scope", "{% set g = 'G' %}{% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{{ g }}{% endmacro %}{{ m('x') }}{{ m('y', b='z') }}")
    add("edge_filters_chain", "{{ messages | map(attribute='role') | unique | join(',') | upper }} {{ messages | selectattr('role', 'in', ['user', 'system']) | list | length }} {{ messages | map(attribute='content') | map('length') | sum }} {{ messages | last | no_such_filter if false else 'ok' }}", messages=MSGS)
    add("edge_whitespace_blocks", "<ul>\n{% for i in [1, 2] %}\n    <li>{{ i }}</li>\n{% endfor %}\n</ul>\n{%- if true %}\n  x\n{%- endif %}\n  {%- set y = 1 -%}\n  z")
    add("edge_default_undefined_attr", "{{ message.tool_calls | default([]) | length }} {{ message.name | default('anon') }} {{ (message.content or '') | length }} {{ message['tool_calls'] is defined }}", message={"role": "user", "content": None})
    add("soft_unknown_filter_in_if", "{% if false %}{{ 1 | nof }}{% endif %}{{ (1 | nof) if false }}{% if false %}{{ 1 is notest }}{% endif %}ok")
    add("err_soft_unknown_filter_runs", "{% if true %}\n{{ 1 | nof }}{% endif %}")
    add("err_unknown_filter_in_loop_in_if", "{% if false %}\n{% for x in [] %}{{ 1 | nof }}{% endfor %}{% endif %}")
    add("str_center_just", "[{{ 'ab'.center(7, '*') }}][{{ 'ab'.ljust(4) }}][{{ 'ab'.rjust(4, '-') }}][{{ 'abc'.center(2) }}][{{ 'a'.center(4) }}]")
    return c
