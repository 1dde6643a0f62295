import { parseEmbedLine } from '../../src/core/embedLine';
import { RecordResult, outputLineParser, parseOutputLine } from '../../src/core/outputLine';
import { cohereEmbed, cohereEmbedLineShape } from '../../src/models/cohereEmbed';
import { titanEmbedLineShape, titanEmbedV2 } from '../../src/models/titanEmbed';
import type { ModelAdapter } from '../../src/models/types';

/** Seeded, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON numbers in many spellings: what Titan prints, exponents, integers, long mantissas, extremes. */
function numberText(r: () => number): string {
  const x = (r() - 0.5) * 2;
  switch (Math.floor(r() * 12)) {
    case 0: return String(Number(Math.fround(x).toPrecision(9)));
    case 1: return String(Math.fround(x));
    case 2: return x.toExponential(Math.floor(r() * 17)).replace('e', r() < 0.5 ? 'e' : 'E');
    case 3: return String(Math.round(x * 1e6));
    case 4: return `${(x * 10).toFixed(Math.floor(r() * 25))}`;
    case 5: return ['1e-7', '1.5E+3', '-0', '0', '-0.0', '0.0', '1E0', '2e+00', '-1e-45', '1e-46', '3.4028235e38', '3.5e38', '1e400', '-1e400', '123456789012345678901234567890', '0.1234567890123456789', '1e22', '1e23', '9007199254740993', '0.00000000000000000000001'][Math.floor(r() * 20)];
    case 6: return `${Math.floor(r() * 1e15)}e-${Math.floor(r() * 40)}`;
    case 7: return `-${Math.floor(r() * 1e17)}.${Math.floor(r() * 1e9)}`;
    default: return String(x);
  }
}

function vectorText(r: () => number, n: number, spaced = false): string {
  const xs = Array.from({ length: n }, () => numberText(r));
  return spaced ? `[ ${xs.join(' , ')} ]` : `[${xs.join(',')}]`;
}

const titanLine = (id: string, v: string, extra = '') =>
  `{"recordId":"${id}","modelInput":{"inputText":"Grüße, 日本 🎉 \\"quoted\\" \\\\ \\u00e9 {not [a] brace}","dimensions":256},"modelOutput":{"embedding":${v},"embeddingsByType":{"float":${v}},"inputTextTokenCount":17${extra}}}`;

function bits(v: Float32Array | undefined): string | undefined {
  return v && Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
}

function expectSame(fast: RecordResult | undefined, full: RecordResult): void {
  expect(fast).toBeDefined();
  expect({ ...fast!, embedding: bits(fast!.embedding) }).toEqual({ ...full, embedding: bits(full.embedding) });
}

function outcome(line: string, adapter: ModelAdapter): unknown {
  try {
    const r = parseOutputLine(line, adapter);
    return { ...r, embedding: bits(r.embedding) };
  } catch (err) {
    return { threw: (err as Error).name };
  }
}

function viaParser(line: string, adapter: ModelAdapter): unknown {
  try {
    const r = outputLineParser(adapter)(Buffer.from(line, 'utf8'));
    return r && { ...r, embedding: bits(r.embedding) };
  } catch (err) {
    return { threw: (err as Error).name };
  }
}

describe('embedding fast path matches the full parse bit for bit', () => {
  it('Titan lines with numbers in every spelling', () => {
    const r = rng(1);
    for (let k = 0; k < 300; k++) {
      const line = titanLine(`rec${k}`, vectorText(r, 1 + Math.floor(r() * 64)));
      expectSame(parseEmbedLine(Buffer.from(line), titanEmbedLineShape), parseOutputLine(line, titanEmbedV2));
    }
  });

  it('the vector as Titan prints it (1024-d, ~9 digits, vector twice)', () => {
    const r = rng(2);
    const v = `[${Array.from({ length: 1024 }, () => String(Number(Math.fround(r() - 0.5).toPrecision(9)))).join(',')}]`;
    const line = titanLine('00000000042', v);
    const fast = parseEmbedLine(Buffer.from(line), titanEmbedLineShape);
    expectSame(fast, parseOutputLine(line, titanEmbedV2));
    expect(fast!.embedding!.length).toBe(1024);
    expect(fast).toMatchObject({ recordId: '00000000042', inputTokens: 17, outputTokens: 0 });
  });

  it('vectors kept across many lines stay intact (shared slabs, declined lines in between)', () => {
    const r = rng(7);
    const texts = Array.from({ length: 8 }, () => `[${Array.from({ length: 1024 }, () => String(Number(Math.fround(r() - 0.5).toPrecision(9)))).join(',')}]`);
    const kept: Array<[RecordResult, RecordResult]> = [];
    // 1,300 × 1024 floats: more than one slab.
    for (let k = 0; k < 1300; k++) {
      const line = titanLine(`k${k}`, texts[k % 8]);
      kept.push([parseEmbedLine(Buffer.from(line), titanEmbedLineShape)!, parseOutputLine(line, titanEmbedV2)]);
      if (k % 100 === 0) expect(parseEmbedLine(Buffer.from(line.replace('"inputTextTokenCount"', '"embedding"')), titanEmbedLineShape)).toBeUndefined();
    }
    for (const [fast, full] of kept) expectSame(fast, full);
  });

  it('whitespace between tokens, and a line pretty-printed by JSON.stringify', () => {
    const r = rng(3);
    const v = vectorText(r, 20, true);
    const spaced = ` {\t"recordId" : "a b" ,\r\n "modelInput" : { "inputText" : "x" } , "modelOutput" : { "embedding" : ${v} , "embeddingsByType" : { "float" : ${v} } , "inputTextTokenCount" : 3 } } `;
    expectSame(parseEmbedLine(Buffer.from(spaced), titanEmbedLineShape), parseOutputLine(spaced, titanEmbedV2));
    const pretty = JSON.stringify(JSON.parse(titanLine('p', vectorText(r, 5))), null, 2).replace(/\n/g, ' ');
    expectSame(parseEmbedLine(Buffer.from(pretty), titanEmbedLineShape), parseOutputLine(pretty, titanEmbedV2));
  });

  it('Bedrock key order and a copy that differs from the vector (parsed, not compared)', () => {
    const r = rng(4);
    const v = vectorText(r, 8);
    const w = vectorText(r, 8);
    for (const line of [
      `{"modelInput":{"inputText":"q"},"modelOutput":{"inputTextTokenCount":5,"embeddingsByType":{"float":${w}},"embedding":${v}},"recordId":"z"}`,
      `{"recordId":"y","modelInput":{"inputText":"q"},"modelOutput":{"embedding":${v},"embeddingsByType":{"float":${w},"binary":[1,0]},"inputTextTokenCount":5.5}}`,
      `{"recordId":"x","modelInput":{"inputText":"q"},"modelOutput":{"embedding":${v},"inputTextTokenCount":"7"}}`,
    ]) expectSame(parseEmbedLine(Buffer.from(line), titanEmbedLineShape), parseOutputLine(line, titanEmbedV2));
  });

  it('Cohere embeddings_floats records, in the emulator and Bedrock key orders', () => {
    const r = rng(5);
    for (let k = 0; k < 50; k++) {
      const v = vectorText(r, 1 + Math.floor(r() * 40));
      const line =
        k % 2
          ? `{"recordId":"c${k}","modelInput":{"texts":["héllo"],"input_type":"search_document"},"modelOutput":{"id":"u-${k}","texts":["héllo"],"embeddings":[${v}],"response_type":"embeddings_floats"}}`
          : `{"recordId":"c${k}","modelInput":{"texts":["héllo"],"input_type":"search_document"},"modelOutput":{"embeddings":[ ${v} ],"id":"u","response_type":"embeddings_floats","texts":["héllo"]}}`;
      const fast = parseEmbedLine(Buffer.from(line), cohereEmbedLineShape);
      expectSame(fast, parseOutputLine(line, cohereEmbed));
      expect(fast!.inputTokens).toBeUndefined();
    }
  });
});

describe('embedding fast path declines what it does not know, and the parser falls back', () => {
  const r = rng(6);
  const v = vectorText(r, 6);
  const declined: Array<[string, ModelAdapter, string]> = [
    ['error record', titanEmbedV2, `{"recordId":"e1","modelInput":{"inputText":"x"},"error":{"errorCode":400,"errorMessage":"Malformed input request"}}`],
    ['error record with a modelOutput too', titanEmbedV2, `{"recordId":"e2","modelInput":{},"modelOutput":{"embedding":${v}},"error":{"errorCode":500}}`],
    ['vector not where expected', titanEmbedV2, `{"recordId":"v1","modelInput":{"inputText":"x"},"modelOutput":{"result":{"embedding":${v}},"inputTextTokenCount":2}}`],
    ['vector of strings', titanEmbedV2, `{"recordId":"v2","modelInput":{},"modelOutput":{"embedding":["0.5","x"]}}`],
    ['empty vector', titanEmbedV2, `{"recordId":"v3","modelInput":{},"modelOutput":{"embedding":[]}}`],
    ['nested vector for Titan', titanEmbedV2, `{"recordId":"v4","modelInput":{},"modelOutput":{"embedding":[${v}]}}`],
    ['vector key twice', titanEmbedV2, `{"recordId":"d1","modelInput":{},"modelOutput":{"embedding":${v},"embedding":[1,2]}}`],
    ['recordId twice', titanEmbedV2, `{"recordId":"d2","modelInput":{},"modelOutput":{"embedding":${v}},"recordId":"d3"}`],
    ['escaped key', titanEmbedV2, `{"recordId":"k1","modelInput":{},"modelOutput":{"embe\\u0064ding":${v}}}`],
    ['escaped recordId', titanEmbedV2, `{"recordId":"a\\"b","modelInput":{},"modelOutput":{"embedding":${v}}}`],
    ['numeric recordId', titanEmbedV2, `{"recordId":7,"modelInput":{},"modelOutput":{"embedding":${v}}}`],
    ['no recordId', titanEmbedV2, `{"modelInput":{},"modelOutput":{"embedding":${v}}}`],
    ['not JSON: bad number', titanEmbedV2, `{"recordId":"n1","modelInput":{},"modelOutput":{"embedding":[01,.5]}}`],
    ['not JSON: trailing comma', titanEmbedV2, `{"recordId":"n2","modelInput":{},"modelOutput":{"embedding":[1,2,]}}`],
    ['not JSON: broken modelInput', titanEmbedV2, `{"recordId":"n3","modelInput":{"inputText":"x},"modelOutput":{"embedding":[1]}}`],
    ['not JSON: trailing garbage', titanEmbedV2, `{"recordId":"n4","modelInput":{},"modelOutput":{"embedding":[1]}} x`],
    ['not JSON: NaN', titanEmbedV2, `{"recordId":"n5","modelInput":{},"modelOutput":{"embedding":[NaN]}}`],
    ['Cohere by type', cohereEmbed, `{"recordId":"t1","modelInput":{},"modelOutput":{"embeddings":{"float":[${v}],"int8":[[1]]},"response_type":"embeddings_by_type"}}`],
    ['Cohere two texts', cohereEmbed, `{"recordId":"t2","modelInput":{},"modelOutput":{"embeddings":[${v},${v}]}}`],
    ['Cohere flat vector', cohereEmbed, `{"recordId":"t3","modelInput":{},"modelOutput":{"embeddings":${v}}}`],
  ];

  it.each(declined)('%s', (_name, adapter, line) => {
    const shape = adapter === titanEmbedV2 ? titanEmbedLineShape : cohereEmbedLineShape;
    expect(parseEmbedLine(Buffer.from(line), shape)).toBeUndefined();
    expect(viaParser(line, adapter)).toEqual(outcome(line, adapter));
  });

  it('the parser equals parseOutputLine on every line, accepted or not, and skips blank lines', () => {
    for (const [, adapter, line] of declined) expect(viaParser(line, adapter)).toEqual(outcome(line, adapter));
    const ok = titanLine('ok', v);
    expect(viaParser(ok, titanEmbedV2)).toEqual(outcome(ok, titanEmbedV2));
    expect(viaParser('   \t', titanEmbedV2)).toBeUndefined();
  });
});
