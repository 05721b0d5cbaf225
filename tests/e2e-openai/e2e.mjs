// End-to-end check of Bulkhead's OpenAI-compatible API with the official `openai` npm client.
//
// Env: BASE_URL (e.g. http://127.0.0.1:8000/v1, required), API_KEY (default "none"), MODEL (default
// "stories260K"), BAD_KEY_EXPECTED=1 to also check that a wrong key is refused with 401.
// Exits 0 when every check passes, 1 on the first failure (with the reason on stderr).
// It downloads nothing: run `npm ci` in this folder first.

import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const baseURL = process.env.BASE_URL;
if (!baseURL) {
  console.error('BASE_URL is required, e.g. BASE_URL=http://127.0.0.1:8000/v1');
  process.exit(2);
}
const apiKey = process.env.API_KEY || 'none';
const model = process.env.MODEL || 'stories260K';
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

const greedy = { temperature: 0, seed: 1 };
let wholeCompletion = null;

check('completions, non-stream, usage', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 24, ...greedy,
    ignore_eos: true });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.ok(r.choices[0].text.length > 0, 'empty text');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 24);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  wholeCompletion = r.choices[0].text;
});

check('completions, stream, same text as non-stream, usage chunk', async () => {
  const stream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 24, ...greedy,
    ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      text += ch.text ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.ok(chunks > 2, `only ${chunks} chunks`);
  assert.equal(text, wholeCompletion);
  assert.equal(finish, 'length');
  assert.ok(usage, 'no usage chunk');
  assert.equal(usage.completion_tokens, 24);
});

const messages = [
  { role: 'system', content: 'Tell a short story.' },
  { role: 'user', content: 'Lily had a cat' },
];
let wholeChat = null;

check('chat, non-stream, usage', async () => {
  const r = await client.chat.completions.create({ model, messages, max_completion_tokens: 16, ...greedy });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason), r.choices[0].finish_reason);
  assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 16, `${r.usage.completion_tokens}`);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  wholeChat = r;
});

check('chat, stream with include_usage, same text as non-stream', async () => {
  const stream = await client.chat.completions.create({ model, messages, max_completion_tokens: 16, ...greedy,
    stream: true, stream_options: { include_usage: true } });
  let text = '';
  let role = null;
  let finish = null;
  let usage = null;
  for await (const c of stream) {
    assert.equal(c.object, 'chat.completion.chunk');
    if (c.usage) usage = c.usage;
    for (const ch of c.choices) {
      if (ch.delta?.role) role = ch.delta.role;
      text += ch.delta?.content ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, wholeChat.choices[0].message.content);
  assert.equal(finish, wholeChat.choices[0].finish_reason);
  assert.ok(usage, 'no usage chunk');
  assert.equal(usage.completion_tokens, wholeChat.usage.completion_tokens);
  assert.equal(usage.prompt_tokens, wholeChat.usage.prompt_tokens);
});

check('chat, stream via the SDK helper (finalChatCompletion)', async () => {
  const runner = client.chat.completions.stream({ model, messages, max_completion_tokens: 16, ...greedy });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, wholeChat.choices[0].message.content);
});

check('stop strings end the text before the stop, finish_reason stop', async () => {
  // Pick a word from the middle of the greedy text; the stopped text must be exactly what came before it.
  const words = wholeCompletion.split(/\s+/).filter((w) => /^[A-Za-z]{3,}$/.test(w));
  assert.ok(words.length > 0, `no word to stop on in ${JSON.stringify(wholeCompletion)}`);
  const stop = ' ' + words[Math.floor(words.length / 2)];
  const idx = wholeCompletion.indexOf(stop);
  assert.ok(idx >= 0);
  const expected = wholeCompletion.slice(0, idx);
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 24, ...greedy,
    ignore_eos: true, stop: [stop, 'zzqqzz'] });
  assert.equal(r.choices[0].text, expected);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.completion_tokens < 24);

  const stream = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 24, ...greedy,
    ignore_eos: true, stop, stream: true });
  let text = '';
  let finish = null;
  for await (const c of stream) {
    for (const ch of c.choices) {
      text += ch.text ?? '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(text, expected);
  assert.equal(finish, 'stop');
});

check('response_format json_schema: choices that stop are conforming JSON', async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } },
    required: ['name', 'age'], additionalProperties: false };
  const r = await client.chat.completions.create({ model, messages, n: 4, seed: 0, temperature: 1,
    max_completion_tokens: 120, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
  const stopped = r.choices.filter((c) => c.finish_reason === 'stop');
  assert.ok(stopped.length > 0, `no choice finished: ${JSON.stringify(r.choices.map((c) => c.finish_reason))}`);
  for (const c of stopped) {
    const doc = JSON.parse(c.message.content);
    assert.deepEqual(Object.keys(doc), ['name', 'age'], c.message.content);
    assert.equal(typeof doc.name, 'string');
    assert.ok(Number.isInteger(doc.age), c.message.content);
  }
});

check('completions, a list of prompts × n: choices prompt-major, each as its prompt alone', async () => {
  const r = await client.completions.create({ model, prompt: ['Once upon a time', 'Lily had a cat'], n: 2,
    max_tokens: 24, ...greedy, ignore_eos: true });
  assert.equal(r.choices.length, 4);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3]);
  assert.equal(r.choices[0].text, wholeCompletion);
  assert.equal(r.choices[1].text, wholeCompletion);
  assert.equal(r.choices[2].text, r.choices[3].text);
  assert.notEqual(r.choices[2].text, wholeCompletion);
  assert.equal(r.usage.completion_tokens, 96);
});

// vLLM's /tokenize and /detokenize sit beside /v1, outside the SDK: plain fetch, with the same key.
const root = baseURL.replace(/\/v1\/?$/, '');
const post = async (path, body) => {
  const res = await fetch(root + path, { method: 'POST', body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${apiKey}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
};

check('/tokenize counts chat messages as the chat endpoint bills them; /detokenize undoes it', async () => {
  const t = await post('/tokenize', { model, messages });
  assert.equal(t.count, wholeChat.usage.prompt_tokens);
  assert.equal(t.tokens.length, t.count);
  assert.ok(t.max_model_len > t.count, `${t.max_model_len}`);
  const text = 'Once upon a time, there was a cat.';
  const ids = await post('/tokenize', { model, prompt: text, add_special_tokens: false });
  const d = await post('/detokenize', { model, tokens: ids.tokens });
  assert.equal(d.prompt, text);
});

check('models list names the model', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes(model), `models: ${ids}`);
});

check('unknown model is NotFoundError (404)', async () => {
  await assert.rejects(
    client.completions.create({ model: 'no-such-model', prompt: 'Hi', max_tokens: 2 }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && typeof e.message === 'string');
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 2, stream: true }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404);
});

check('bad request is BadRequestError (400) naming the param', async () => {
  await assert.rejects(
    client.completions.create({ model, prompt: 'Hi', temperature: -1 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'temperature');
});

if (process.env.BAD_KEY_EXPECTED === '1') {
  check('bad API key is AuthenticationError (401)', async () => {
    const bad = new OpenAI({ baseURL, apiKey: apiKey + '-wrong', maxRetries: 0, timeout: 60_000 });
    await assert.rejects(
      bad.completions.create({ model, prompt: 'Hi', max_tokens: 2 }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(
      bad.chat.completions.create({ model, messages, max_tokens: 2, stream: true }),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  });
}

let failed = 0;
for (const { name, fn } of checks) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.error(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}
console.log(`${checks.length - failed}/${checks.length} checks passed against ${baseURL} with openai ${VERSION}`);
process.exit(failed === 0 ? 0 : 1);
