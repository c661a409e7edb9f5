"""The official `openai` Python client, pointed at the gateway with a tenant token as its key, makes a
plain and a streaming chat completion and reads their usage, and lists the models. Usage:
openai_client_check.py BASE_URL TENANT_TOKEN"""
import sys

import openai

base, token = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=f"{base}/v1/llm", api_key=token, max_retries=0, timeout=30)
messages = [{"role": "user", "content": "Say hello to the contract suite."}]

raw = client.chat.completions.with_raw_response.create(model="auto", messages=messages, max_tokens=64)
plain = raw.parse()
assert raw.headers.get("x-controlplane-provider") == "mock", raw.headers
assert plain.choices[0].message.content, plain
assert plain.usage.total_tokens == plain.usage.prompt_tokens + plain.usage.completion_tokens > 0, plain.usage

text, usage, finish = "", None, None
stream = client.chat.completions.create(
    model="mock/mock-1", messages=messages, max_tokens=64, stream=True, stream_options={"include_usage": True})
for chunk in stream:
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
assert text == plain.choices[0].message.content, (text, plain.choices[0].message.content)
assert finish == "stop", finish
assert usage is not None and usage.total_tokens == plain.usage.total_tokens, usage

models = [model.id for model in client.models.list()]
assert models == ["mock/mock-1"], models

try:
    client.chat.completions.create(model="openai/not-in-policy", messages=messages)
    raise AssertionError("a model outside the policy was answered")
except openai.NotFoundError:
    pass

print(f"openai {openai.__version__}: plain and streaming calls answered, usage {plain.usage.total_tokens} tokens each")
