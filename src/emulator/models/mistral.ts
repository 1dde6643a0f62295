import {
  Answered,
  Json,
  answerTokens,
  chatAnswer,
  checkInt,
  checkString,
  checkStrings,
  checkUnit,
  isObject,
  noExtraneous,
  numberOr,
  promptUserText,
  required,
  tokens,
} from './common';

const MISTRAL_KEYS = ['prompt', 'max_tokens', 'stop', 'temperature', 'top_p', 'top_k'];

/** max_tokens ceilings from Bedrock's Mistral text-completion page. */
function maxTokensCeiling(baseId: string): number {
  return baseId.startsWith('mistral.mixtral-8x7b') ? 4096 : 8192;
}

const promptOf = (body: unknown) => (isObject(body) && typeof body.prompt === 'string' ? body.prompt : '');
const maxTokensOf = (body: unknown) => (isObject(body) ? numberOr(body.max_tokens) : undefined);

/** The `outputs[0].text` of a Mistral record: hash of the body + the last [INST] block, cut at max_tokens*4 characters. */
export function mistralAnswerText(modelInput: unknown): string {
  return chatAnswer(modelInput, promptUserText(promptOf(modelInput)), maxTokensOf(modelInput)).text;
}

function validateMistral(baseId: string, body: Json): void {
  noExtraneous('#', body, MISTRAL_KEYS);
  checkString('#/prompt', required('#', body, 'prompt'), 1);
  checkInt('#/max_tokens', body.max_tokens, 1, maxTokensCeiling(baseId));
  checkStrings('#/stop', body.stop, 10);
  checkUnit('#/temperature', body.temperature);
  checkUnit('#/top_p', body.top_p);
  checkInt('#/top_k', body.top_k, 1, 200);
}

/** Mistral's record carries no token counts; the estimates only reach the manifest. */
export function invokeMistral(baseId: string, body: Json): Answered {
  validateMistral(baseId, body);
  const max = maxTokensOf(body);
  const answer = chatAnswer(body, promptUserText(body.prompt as string), max);
  return {
    ok: true,
    inputTokens: tokens((body.prompt as string).length),
    outputTokens: answerTokens(answer, max),
    modelOutput: { outputs: [{ text: answer.text, stop_reason: answer.truncated ? 'length' : 'stop' }] },
  };
}
