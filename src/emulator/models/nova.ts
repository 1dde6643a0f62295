import {
  Answered,
  Json,
  Malformed,
  answerTokens,
  chatAnswer,
  checkArray,
  checkEnum,
  checkInt,
  checkString,
  checkStrings,
  checkTurns,
  checkUnit,
  expect,
  isObject,
  lastUserText,
  messagesInputChars,
  noExtraneous,
  numberOr,
  required,
  tokens,
} from './common';

const NOVA_KEYS = ['schemaVersion', 'system', 'messages', 'inferenceConfig', 'toolConfig'];
// Nova's docs show both spellings (camelCase in the current schema, snake_case in early examples).
const INFERENCE_KEYS = ['maxTokens', 'max_new_tokens', 'temperature', 'topP', 'top_p', 'topK', 'top_k', 'stopSequences', 'reasoningConfig'];
const BLOCK_KEYS = ['text', 'image', 'video', 'document', 'toolUse', 'toolResult', 'reasoningContent', 'cachePoint'];

function maxTokensOf(body: unknown): number | undefined {
  const cfg = isObject(body) ? body.inferenceConfig : undefined;
  return isObject(cfg) ? (numberOr(cfg.maxTokens) ?? numberOr(cfg.max_new_tokens)) : undefined;
}

/** The text of a Nova InvokeModel answer: as for Claude, cut at inferenceConfig.maxTokens (or max_new_tokens) * 4 characters. */
export function novaAnswerText(modelInput: unknown): string {
  return chatAnswer(modelInput, lastUserText(modelInput), maxTokensOf(modelInput)).text;
}

function validateBlocks(path: string, blocks: unknown[], allowed: readonly string[]): void {
  blocks.forEach((block, j) => {
    const bp = `${path}/${j}`;
    expect(bp, block, 'JSONObject', isObject(block));
    const b = block as Json;
    noExtraneous(bp, b, allowed);
    if (Object.keys(b).length === 0) throw new Malformed(`${bp}: required key [text] not found`);
    if (b.text !== undefined) checkString(`${bp}/text`, b.text);
  });
}

function validateNova(body: Json): void {
  noExtraneous('#', body, NOVA_KEYS);
  if (body.schemaVersion !== undefined) checkEnum('#/schemaVersion', body.schemaVersion, ['messages-v1']);
  if (body.system !== undefined) validateBlocks('#/system', checkArray('#/system', body.system, 0), ['text', 'cachePoint']);
  const messages = checkArray('#/messages', required('#', body, 'messages'), 1);
  messages.forEach((m, i) => {
    const p = `#/messages/${i}`;
    expect(p, m, 'JSONObject', isObject(m));
    const msg = m as Json;
    noExtraneous(p, msg, ['role', 'content']);
    checkEnum(`${p}/role`, required(p, msg, 'role'), ['user', 'assistant']);
    validateBlocks(`${p}/content`, checkArray(`${p}/content`, required(p, msg, 'content'), 1), BLOCK_KEYS);
  });
  checkTurns(messages as Json[]);
  const cfg = body.inferenceConfig;
  if (cfg === undefined) return;
  expect('#/inferenceConfig', cfg, 'JSONObject', isObject(cfg));
  const c = cfg as Json;
  noExtraneous('#/inferenceConfig', c, INFERENCE_KEYS);
  checkInt('#/inferenceConfig/maxTokens', c.maxTokens, 1);
  checkInt('#/inferenceConfig/max_new_tokens', c.max_new_tokens, 1);
  checkUnit('#/inferenceConfig/temperature', c.temperature);
  checkUnit('#/inferenceConfig/topP', c.topP);
  checkUnit('#/inferenceConfig/top_p', c.top_p);
  checkInt('#/inferenceConfig/topK', c.topK, 0);
  checkInt('#/inferenceConfig/top_k', c.top_k, 0);
  checkStrings('#/inferenceConfig/stopSequences', c.stopSequences);
}

export function invokeNova(body: Json): Answered {
  validateNova(body);
  const max = maxTokensOf(body);
  const answer = chatAnswer(body, lastUserText(body), max);
  const inputTokens = tokens(messagesInputChars(body));
  const outputTokens = answerTokens(answer, max);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      output: { message: { content: [{ text: answer.text }], role: 'assistant' } },
      stopReason: answer.truncated ? 'max_tokens' : 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, cacheReadInputTokenCount: 0, cacheWriteInputTokenCount: 0 },
    },
  };
}
