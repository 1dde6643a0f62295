import { canonicalJson, sha256Hex } from '../hash';
import {
  Answered,
  Json,
  Malformed,
  answerTokens,
  chatAnswer,
  checkUnit,
  expect,
  isObject,
  lastUserText,
  messagesInputChars,
  noExtraneous,
  required,
  tokens,
} from './common';

function maxTokensOf(modelInput: unknown): number | undefined {
  if (!isObject(modelInput)) return undefined;
  if (typeof modelInput.max_tokens === 'number') return modelInput.max_tokens;
  const cfg = modelInput.inferenceConfig;
  return isObject(cfg) && typeof cfg.maxTokens === 'number' ? cfg.maxTokens : undefined;
}

/**
 * The text the emulator answers for a Claude record (Messages or Converse body): a hash of the
 * whole canonicalised modelInput plus the start of the last user message, cut to max_tokens*4
 * characters when longer (the record then reports stop_reason "max_tokens").
 */
export function anthropicAnswerText(modelInput: unknown): string {
  return chatAnswer(modelInput, lastUserText(modelInput), maxTokensOf(modelInput)).text;
}

const ANTHROPIC_KEYS = [
  'anthropic_version', 'anthropic_beta', 'max_tokens', 'messages', 'system', 'temperature', 'top_p', 'top_k',
  'stop_sequences', 'metadata', 'thinking', 'tools', 'tool_choice',
];
const CONTENT_TYPES = ['text', 'image', 'document'];

function validateAnthropic(body: Json): void {
  noExtraneous('#', body, ANTHROPIC_KEYS);
  const version = required('#', body, 'anthropic_version');
  if (version !== 'bedrock-2023-05-31') throw new Malformed(`#/anthropic_version: ${JSON.stringify(version)} is not a valid enum value`);
  const max = required('#', body, 'max_tokens');
  expect('#/max_tokens', max, 'Integer', typeof max === 'number' && Number.isInteger(max));
  if ((max as number) < 1) throw new Malformed(`#/max_tokens: ${max} is not greater or equal to 1`);
  const messages = required('#', body, 'messages');
  expect('#/messages', messages, 'JSONArray', Array.isArray(messages));
  if ((messages as unknown[]).length === 0) throw new Malformed('#/messages: expected minimum item count: 1, found: 0');
  (messages as unknown[]).forEach((m, i) => {
    const p = `#/messages/${i}`;
    expect(p, m, 'JSONObject', isObject(m));
    const msg = m as Json;
    noExtraneous(p, msg, ['role', 'content']);
    const role = required(p, msg, 'role');
    if (role !== 'user' && role !== 'assistant') throw new Malformed(`${p}/role: ${JSON.stringify(role)} is not a valid enum value`);
    const content = required(p, msg, 'content');
    if (typeof content === 'string') return;
    expect(`${p}/content`, content, 'JSONArray', Array.isArray(content));
    if ((content as unknown[]).length === 0) throw new Malformed(`${p}/content: expected minimum item count: 1, found: 0`);
    (content as unknown[]).forEach((block, j) => {
      const bp = `${p}/content/${j}`;
      expect(bp, block, 'JSONObject', isObject(block));
      const type = (block as Json).type;
      if (!CONTENT_TYPES.includes(type as string)) throw new Malformed(`${bp}/type: ${JSON.stringify(type)} is not a valid enum value`);
      if (type === 'text') expect(`${bp}/text`, (block as Json).text, 'String', typeof (block as Json).text === 'string');
    });
  });
  if (body.system !== undefined) expect('#/system', body.system, 'String', typeof body.system === 'string' || Array.isArray(body.system));
  checkUnit('#/temperature', body.temperature);
  checkUnit('#/top_p', body.top_p);
  if (body.top_k !== undefined) expect('#/top_k', body.top_k, 'Integer', Number.isInteger(body.top_k) && (body.top_k as number) >= 0);
  if (body.stop_sequences !== undefined) {
    expect('#/stop_sequences', body.stop_sequences, 'JSONArray', Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === 'string'));
  }
}

/** `anthropic.claude-3-5-haiku-20241022-v1:0` → `claude-3-5-haiku-20241022`, as the Messages API reports it. */
function claudeModelName(baseId: string): string {
  return baseId.replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

export function invokeAnthropic(baseId: string, body: Json): Answered {
  validateAnthropic(body);
  const answer = chatAnswer(body, lastUserText(body), body.max_tokens as number);
  const inputTokens = tokens(messagesInputChars(body));
  const outputTokens = answerTokens(answer, body.max_tokens as number);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      id: `msg_bdrk_${sha256Hex(`id:${canonicalJson(body)}`).slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: claudeModelName(baseId),
      content: [{ type: 'text', text: answer.text }],
      stop_reason: answer.truncated ? 'max_tokens' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: outputTokens },
    },
  };
}
