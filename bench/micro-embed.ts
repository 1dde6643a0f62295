/**
 * Micro-benchmark behind the post-embed suggestions: ways to turn Titan V2 output lines (1024-d,
 * vector twice per line as Bedrock returns it) into Float32Arrays. In memory, no S3.
 *
 *   npx tsx bench/micro-embed.ts [lines=5000]
 */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { outputLineParser, parseOutputLine } from '../src/core/outputLine';
import { LineSplitter } from '../src/io/lineSplitter';
import { titanEmbedV2 } from '../src/models/titanEmbed';
import { vectorPool } from './outputs';
import { Prng } from './textgen';

const N = Number(process.argv[2] ?? 5000);
const rng = new Prng('micro-embed');
const pool = vectorPool(rng, 1024, 16);
const parts: Buffer[] = [];
for (let i = 0; i < N; i++) {
  const v = pool[i % pool.length];
  parts.push(Buffer.from(`{"recordId":"${String(i).padStart(11, '0')}","modelInput":{"inputText":"${'lorem ipsum dolor '.repeat(20)}"},"modelOutput":{"embedding":`), v, Buffer.from(',"embeddingsByType":{"float":'), v, Buffer.from(`},"inputTextTokenCount":${90}}}\n`));
}
const data = Buffer.concat(parts);
const CHUNK = 64 * 1024; // what a socket / S3 body typically delivers
const chunks = () => Readable.from((function* () { for (let o = 0; o < data.length; o += CHUNK) yield data.subarray(o, o + CHUNK); })());

function* bufferLines(buf: Buffer): Generator<string> {
  let start = 0;
  for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
    if (nl > start) yield buf.toString('utf8', start, nl);
    start = nl + 1;
  }
}

/** Parses the JSON array that follows `"embedding":` straight into a Float32Array (no JS number[]). */
function scanEmbedding(line: string, dims: number): Float32Array {
  const key = '"embedding":[';
  let i = line.indexOf(key) + key.length;
  const out = new Float32Array(dims);
  let n = 0;
  while (n < dims) {
    let end = i;
    for (let c = line.charCodeAt(end); c !== 44 && c !== 93; c = line.charCodeAt(++end));
    out[n++] = +line.slice(i, end);
    i = end + 1;
    if (line.charCodeAt(end) === 93) break;
  }
  return n === dims ? out : out.subarray(0, n);
}

const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

async function time(name: string, fn: () => Promise<number> | number) {
  const t = process.hrtime.bigint();
  const n = await fn();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`${name.padEnd(62)} ${s.toFixed(2).padStart(6)} s  ${Math.round(N / s).toLocaleString('en-US').padStart(7)} lines/s  ${(data.length / 2 ** 20 / s).toFixed(0).padStart(4)} MB/s  (${n})`);
}

(async () => {
  console.log(`${N} lines, ${(data.length / 2 ** 20).toFixed(0)} MiB, ${Math.round(data.length / N)} B/line`);
  await time('readline only (app: createInterface over the body)', async () => { let n = 0; for await (const l of createInterface({ input: chunks(), crlfDelay: Infinity })) n += l.length > 0 ? 1 : 0; return n; });
  await time('Buffer indexOf split only', () => { let n = 0; for (const l of bufferLines(data)) n += l.length > 0 ? 1 : 0; return n; });
  await time('readline + parseOutputLine (app today)', async () => { let n = 0; for await (const l of createInterface({ input: chunks(), crlfDelay: Infinity })) n += parseOutputLine(l, titanEmbedV2).embedding!.length; return n; });
  await time('Buffer split + parseOutputLine', () => { let n = 0; for (const l of bufferLines(data)) n += parseOutputLine(l, titanEmbedV2).embedding!.length; return n; });
  await time('Buffer split + JSON.parse of the "embedding" array only', () => { let n = 0; for (const l of bufferLines(data)) { const a = l.indexOf('"embedding":[') + 12; n += Float32Array.from(JSON.parse(l.slice(a, l.indexOf(']', a) + 1)) as number[]).length; } return n; });
  await time('Buffer split + scan "embedding" into Float32Array', () => { let n = 0; for (const l of bufferLines(data)) n += scanEmbedding(l, 1024).length; return n; });
  const splitAll = (): Buffer[] => { const s = new LineSplitter(); const out: Buffer[] = []; for (let o = 0; o < data.length; o += CHUNK) s.push(data.subarray(o, o + CHUNK), out); s.end(out); return out; };
  await time('LineSplitter (64 KiB chunks) only, Buffer lines', () => splitAll().length);
  await time('LineSplitter + decode each line to a string', () => { let n = 0; for (const l of splitAll()) n += l.toString('utf8').length > 0 ? 1 : 0; return n; });
  const parse = outputLineParser(titanEmbedV2);
  await time('LineSplitter + outputLineParser (app: byte-level fast path)', () => { let n = 0; for (const l of splitAll()) n += parse(l)!.embedding!.length; return n; });
  await time('LineSplitter {reuse} + outputLineParser (app: collectShard)', () => { let n = 0; const s = new LineSplitter({ reuse: true }); for (let o = 0; o < data.length; o += CHUNK) { const out: Buffer[] = []; s.push(data.subarray(o, o + CHUNK), out); for (const l of out) n += parse(l)!.embedding!.length; } return n; });
  const full = splitAll().map((l) => parseOutputLine(l.toString('utf8'), titanEmbedV2));
  const fast = splitAll().map((l) => parse(l)!);
  console.log('fast path matches parseOutputLine:', full.every((r, i) => r.recordId === fast[i].recordId && r.inputTokens === fast[i].inputTokens && Buffer.compare(bytesOf(r.embedding!), bytesOf(fast[i].embedding!)) === 0));
  const a = parseOutputLine(bufferLines(data).next().value as string, titanEmbedV2).embedding!;
  const b = scanEmbedding(bufferLines(data).next().value as string, 1024);
  console.log('scanner matches JSON.parse:', a.every((x, i) => x === b[i]));
})();
