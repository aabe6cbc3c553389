// Independent reference for the engine's fidelity tests: tokenizers.js (pure JavaScript, not the
// Rust library that the engine uses through DJL) and onnxruntime-node, one text at a time, with
// pooling, special tokens, truncation and normalisation written here from the models' documentation.
//
// Usage: node embed.mjs request.json  ->  {"results": [{"ids": [...], "truncated": bool, "vector": [...]}]}
// request: {"tokenizer": path, "tokenizer_config": path|null, "graph": path|null,
//           "pooling": "mean"|"sentence_embedding", "max_tokens": n, "dims": n, "texts": [...]}
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import ort from 'onnxruntime-node';

const request = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tokenizerJson = JSON.parse(readFileSync(request.tokenizer, 'utf8'));
const tokenizerConfig = request.tokenizer_config
  ? JSON.parse(readFileSync(request.tokenizer_config, 'utf8'))
  : {};
// User text is text (the engine's documented rule, unlike sentence-transformers, which reads
// special tokens out of the text): special tokens are put around a text by id, never matched in it,
// so they are taken out of the added vocabulary here and looked up by name.
const specialIds = new Map(
  (tokenizerJson.added_tokens ?? []).filter((token) => token.special).map((token) => [token.content, token.id]),
);
tokenizerJson.added_tokens = (tokenizerJson.added_tokens ?? []).filter((token) => !token.special);
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

const tokenContent = (token) => (token && typeof token === 'object' ? token.content : token);
const idOf = (token) => specialIds.get(token) ?? tokenizer.encode(token, { add_special_tokens: false }).ids[0];

// The special tokens around a text: what tokenizer.json's post-processor adds, plus what
// tokenizer_config.json asks for with add_bos_token / add_eos_token (as the Python library does).
const bare = tokenizer.encode('a', { add_special_tokens: false }).ids;
const wrapped = tokenizer.encode('a', { add_special_tokens: true }).ids;
let prefix = wrapped.slice(0, wrapped.indexOf(bare[0]));
let suffix = wrapped.slice(wrapped.indexOf(bare[0]) + bare.length);
if (tokenizerConfig.add_bos_token) {
  const bos = idOf(tokenContent(tokenizerConfig.bos_token));
  if (prefix[0] !== bos) prefix = [bos, ...prefix];
}
if (tokenizerConfig.add_eos_token) {
  const eos = idOf(tokenContent(tokenizerConfig.eos_token));
  if (suffix[suffix.length - 1] !== eos) suffix = [...suffix, eos];
}

function tokenize(text) {
  const body = tokenizer.encode(text, { add_special_tokens: false }).ids;
  const room = request.max_tokens - prefix.length - suffix.length;
  const kept = body.slice(0, room);
  return { ids: [...prefix, ...kept, ...suffix], truncated: body.length > room };
}

function normalize(vector) {
  let squares = 0;
  for (const v of vector) squares += v * v;
  const norm = Math.sqrt(squares);
  return vector.map((v) => v / norm);
}

const session = request.graph ? await ort.InferenceSession.create(request.graph) : null;

async function embed(ids) {
  const n = ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
  };
  if (session.inputNames.includes('token_type_ids')) {
    feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(n), [1, n]);
  }
  // EmbeddingGemma 2's official export: media rows for placeholder tokens, none for text.
  for (const name of session.inputNames.filter((input) => input.endsWith('_features'))) {
    const width = session.inputMetadata?.find?.((input) => input.name === name)?.shape?.[1];
    feeds[name] = new ort.Tensor('float32', new Float32Array(0), [0, typeof width === 'number' ? width : 512]);
  }
  const outputs = await session.run(feeds);
  let pooled;
  if (request.pooling === 'sentence_embedding') {
    pooled = Array.from(outputs.sentence_embedding.data);
  } else {
    const hidden = outputs.last_hidden_state;
    const width = hidden.dims[2];
    pooled = new Array(width).fill(0);
    for (let t = 0; t < n; t++) {
      for (let h = 0; h < width; h++) pooled[h] += hidden.data[t * width + h];
    }
    pooled = pooled.map((v) => v / n);
  }
  return normalize(normalize(pooled).slice(0, request.dims ?? pooled.length));
}

const results = [];
for (const text of request.texts) {
  const { ids, truncated } = tokenize(text);
  const result = { ids, truncated };
  if (session) result.vector = await embed(ids);
  results.push(result);
}
process.stdout.write(JSON.stringify({ results }));
