import { anthropicClaude } from './anthropic';
import { cohereEmbed } from './cohereEmbed';
import { converseFor } from './converse';
import { metaLlama } from './llama';
import { mistralText } from './mistral';
import { amazonNova } from './nova';
import { titanEmbedV2 } from './titanEmbed';
import { DEFAULT_MAX_TOKENS } from './checks';
import { InvocationType, ModelAdapter, ModelParams, UnknownModelError } from './types';

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

interface Family {
  /** How messages name the family: the adapter's family and the ids it covers. */
  label: string;
  match: RegExp;
  /** Ids under `match` the adapter cannot serve, with the reason given in the error; `converseOk` when Converse still serves them. */
  except?: { match: RegExp; reason: string; converseOk?: boolean };
  adapter: ModelAdapter;
}

const FAMILIES: ReadonlyArray<Family> = [
  { label: 'anthropic-claude (anthropic.claude*)', match: /^anthropic\.claude/, adapter: anthropicClaude },
  { label: 'amazon-titan-embed-v2 (amazon.titan-embed-text-v2*)', match: /^amazon\.titan-embed-text-v2/, adapter: titanEmbedV2 },
  {
    label: 'amazon-nova (amazon.nova-* text models)',
    match: /^amazon\.nova-/,
    // Canvas (images), Reel (video), Sonic (speech) and the multimodal embeddings model take other bodies.
    except: { match: /^amazon\.nova-(?:\d+-)?(?:canvas|reel|sonic|multimodal-embeddings)/, reason: 'is not an Amazon Nova text-understanding model' },
    adapter: amazonNova,
  },
  { label: 'meta-llama (meta.llama*)', match: /^meta\.llama/, adapter: metaLlama },
  {
    label: 'mistral (mistral.* text-completion models)',
    match: /^mistral\./,
    // Pixtral takes only the chat-completion (messages) body through InvokeModel; Converse serves it.
    except: { match: /^mistral\.pixtral/, reason: 'takes the Mistral chat-completion body, not the text-completion prompt; use Converse', converseOk: true },
    adapter: mistralText,
  },
  { label: 'cohere-embed (cohere.embed-*)', match: /^cohere\.embed-/, adapter: cohereEmbed },
];

/** The families `resolveModelAdapter` serves for that invocation type, as `family (id pattern)` labels for messages. */
export function supportedFamilies(invocationType: InvocationType = 'InvokeModel'): string[] {
  return FAMILIES.filter((f) => invocationType === 'InvokeModel' || f.adapter.task === 'text').map((f) => f.label);
}

/**
 * The adapter that writes and reads records for `modelId` (bare id, cross-region profile id or
 * ARN). With `Converse` it is the Converse adapter for the model's chat family; embedding models
 * have no Converse form. Throws UnknownModelError naming the model and the supported families.
 */
export function resolveModelAdapter(modelId: string, invocationType: InvocationType = 'InvokeModel'): ModelAdapter {
  if (invocationType !== 'InvokeModel' && invocationType !== 'Converse') {
    throw new UnknownModelError(`invocation type ${JSON.stringify(invocationType)} is not InvokeModel or Converse`);
  }
  const base = baseModelId(modelId);
  const found = FAMILIES.find((f) => f.match.test(base));
  const supported = `supported for ${invocationType}: ${supportedFamilies(invocationType).join(', ')}`;
  if (!found) {
    throw new UnknownModelError(`model "${modelId}" is not of a supported family (${supported})`);
  }
  if (found.except?.match.test(base) && !(invocationType === 'Converse' && found.except.converseOk)) {
    throw new UnknownModelError(`model "${modelId}" ${found.except.reason} (${supported})`);
  }
  if (invocationType === 'InvokeModel') return found.adapter;
  if (found.adapter.task !== 'text') {
    throw new UnknownModelError(
      `model "${modelId}" is an embedding model (${found.adapter.family}); Converse batch jobs take chat models only, use InvokeModel (${supported})`,
    );
  }
  return converseFor(found.adapter.family);
}

/** Output tokens a record may use: every text adapter sends maxTokens (default DEFAULT_MAX_TOKENS); embeddings bill input only. */
export function maxOutputTokens(adapter: ModelAdapter, params: ModelParams): number {
  return adapter.task === 'embedding' ? 0 : (params.maxTokens ?? DEFAULT_MAX_TOKENS);
}
