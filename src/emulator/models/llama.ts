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

const LLAMA_KEYS = ['prompt', 'temperature', 'top_p', 'max_gen_len', 'images'];

const promptOf = (body: unknown) => (isObject(body) && typeof body.prompt === 'string' ? body.prompt : '');
const maxGenLenOf = (body: unknown) => (isObject(body) ? numberOr(body.max_gen_len) : undefined);

/** The `generation` of a Llama record: hash of the body + the prompt's last user turn, cut at max_gen_len*4 characters. */
export function llamaAnswerText(modelInput: unknown): string {
  return chatAnswer(modelInput, promptUserText(promptOf(modelInput)), maxGenLenOf(modelInput)).text;
}

function validateLlama(baseId: string, body: Json): void {
  noExtraneous('#', body, LLAMA_KEYS);
  checkString('#/prompt', required('#', body, 'prompt'), 1);
  checkUnit('#/temperature', body.temperature);
  checkUnit('#/top_p', body.top_p);
  // Meta's page documents 2048 as the ceiling for Llama 3.x; no figure is published for Llama 4.
  checkInt('#/max_gen_len', body.max_gen_len, 1, baseId.startsWith('meta.llama3') ? 2048 : undefined);
  checkStrings('#/images', body.images);
}

export function invokeLlama(baseId: string, body: Json): Answered {
  validateLlama(baseId, body);
  const max = maxGenLenOf(body);
  const answer = chatAnswer(body, promptUserText(body.prompt as string), max);
  const inputTokens = tokens((body.prompt as string).length);
  const outputTokens = answerTokens(answer, max);
  return {
    ok: true,
    inputTokens,
    outputTokens,
    modelOutput: {
      generation: answer.text,
      prompt_token_count: inputTokens,
      generation_token_count: outputTokens,
      stop_reason: answer.truncated ? 'length' : 'stop',
    },
  };
}
