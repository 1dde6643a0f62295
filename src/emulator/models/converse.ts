import { Answered, Json, answerTokens, chatAnswer, checkTurns, isObject, lastUserText, messagesInputChars, tokens } from './common';

const CONVERSE_KEYS = [
  'messages', 'system', 'inferenceConfig', 'additionalModelRequestFields', 'additionalModelResponseFieldPaths',
  'promptVariables', 'requestMetadata', 'performanceConfig',
];

// Converse's feature table lists these as chat models without system-prompt support.
const NO_SYSTEM_PROMPT = /^mistral\.(?:mistral-7b-instruct|mixtral-8x7b-instruct)-/;

const maxTokensOf = (body: unknown): number | undefined =>
  isObject(body) && isObject(body.inferenceConfig) && typeof body.inferenceConfig.maxTokens === 'number' ? body.inferenceConfig.maxTokens : undefined;

/** The text a Converse record's answer holds, whatever the chat family (see emulatedAnswerText). */
export function converseAnswerText(modelInput: unknown): string {
  return chatAnswer(modelInput, lastUserText(modelInput), maxTokensOf(modelInput)).text;
}

/** Converse's own request checks, in the runtime API's wording (not the model-schema "Malformed" form). */
function validateConverse(baseId: string, body: Json): void {
  const extra = Object.keys(body).filter((k) => !CONVERSE_KEYS.includes(k));
  if (extra.length) throw new Error(`The request body contains an unsupported field: ${extra[0]}`);
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new Error('A conversation must have at least one message in messages.');
  messages.forEach((m, i) => {
    if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant')) throw new Error(`messages.${i}.role must be "user" or "assistant".`);
    if (!Array.isArray(m.content) || m.content.length === 0 || !m.content.every(isObject)) {
      throw new Error(`messages.${i}.content must be a non-empty list of content blocks.`);
    }
  });
  checkTurns(messages as Json[]);
  if (body.system !== undefined && !(Array.isArray(body.system) && body.system.every(isObject))) throw new Error('system must be a list of system content blocks.');
  if (Array.isArray(body.system) && body.system.length > 0 && NO_SYSTEM_PROMPT.test(baseId)) {
    throw new Error("This model doesn't support system messages. Try again without system messages.");
  }
  const cfg = body.inferenceConfig;
  if (cfg !== undefined && (!isObject(cfg) || (cfg.maxTokens !== undefined && !(Number.isInteger(cfg.maxTokens) && (cfg.maxTokens as number) >= 1)))) {
    throw new Error('inferenceConfig.maxTokens must be a positive integer.');
  }
}

/** One Converse record for any chat family; the response shape is the same for all of them. */
export function invokeConverse(baseId: string, body: Json): Answered {
  validateConverse(baseId, body);
  const max = maxTokensOf(body);
  const answer = chatAnswer(body, lastUserText(body), max);
  const inputTokens = tokens(messagesInputChars(body));
  const outputTokens = answerTokens(answer, max);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      output: { message: { role: 'assistant', content: [{ text: answer.text }] } },
      stopReason: answer.truncated ? 'max_tokens' : 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: 100 + (outputTokens % 900) },
    },
  };
}
