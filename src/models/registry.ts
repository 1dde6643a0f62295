import { anthropicClaude } from './anthropic';
import { titanEmbedV2 } from './titanEmbed';
import { ModelAdapter, UnknownModelError } from './types';

const REGION_PROFILE_PREFIX = /^(us|eu|apac|global|us-gov|ca|jp|au)\./;

/**
 * The bare model id inside any form Bedrock accepts: `anthropic.claude…`, a cross-region
 * inference profile id (`us.anthropic.claude…`), or a foundation-model / inference-profile ARN.
 */
export function baseModelId(modelId: string): string {
  let id = modelId.trim();
  const arn = /^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?:foundation-model|inference-profile|system-defined-inference-profile)\/(.+)$/.exec(id);
  if (arn) id = arn[1];
  return id.replace(REGION_PROFILE_PREFIX, '');
}

const FAMILIES: Array<{ match: RegExp; adapter: ModelAdapter }> = [
  { match: /^anthropic\.claude/, adapter: anthropicClaude },
  { match: /^amazon\.titan-embed-text-v2/, adapter: titanEmbedV2 },
];

export function resolveModelAdapter(modelId: string): ModelAdapter {
  const base = baseModelId(modelId);
  const found = FAMILIES.find((f) => f.match.test(base));
  if (!found) {
    throw new UnknownModelError(`model "${modelId}" is not of a supported family (supported: Anthropic Claude, Amazon Titan Text Embeddings V2)`);
  }
  return found.adapter;
}
