import { anthropicClaude } from '../../src/models/anthropic';
import { cohereEmbed } from '../../src/models/cohereEmbed';
import { converseFor } from '../../src/models/converse';
import { metaLlama } from '../../src/models/llama';
import { mistralText } from '../../src/models/mistral';
import { amazonNova } from '../../src/models/nova';
import { baseModelId, resolveModelAdapter, supportedFamilies } from '../../src/models/registry';
import { titanEmbedV2 } from '../../src/models/titanEmbed';
import { ModelAdapter, UnknownModelError } from '../../src/models/types';

/** Every id form Bedrock takes for one foundation model: bare, cross-region profile ids, and ARNs. */
function idForms(bare: string): string[] {
  return [
    bare,
    ...['us', 'eu', 'apac', 'global', 'us-gov', 'ca', 'jp', 'au'].map((p) => `${p}.${bare}`),
    `arn:aws:bedrock:us-east-1::foundation-model/${bare}`,
    `arn:aws:bedrock:us-west-2:123456789012:inference-profile/us.${bare}`,
    `arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.${bare}`,
    `arn:aws:bedrock:us-east-1:123456789012:system-defined-inference-profile/global.${bare}`,
    `arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/${bare}`,
    `  ${bare}  `,
  ];
}

const CASES: Array<[string, ModelAdapter]> = [
  ['anthropic.claude-3-5-haiku-20241022-v1:0', anthropicClaude],
  ['amazon.titan-embed-text-v2:0', titanEmbedV2],
  ['amazon.nova-micro-v1:0', amazonNova],
  ['amazon.nova-lite-v1:0', amazonNova],
  ['amazon.nova-pro-v1:0', amazonNova],
  ['amazon.nova-premier-v1:0', amazonNova],
  ['amazon.nova-2-lite-v1:0', amazonNova],
  ['meta.llama3-8b-instruct-v1:0', metaLlama],
  ['meta.llama3-1-70b-instruct-v1:0', metaLlama],
  ['meta.llama3-3-70b-instruct-v1:0', metaLlama],
  ['meta.llama4-maverick-17b-instruct-v1:0', metaLlama],
  ['mistral.mistral-7b-instruct-v0:2', mistralText],
  ['mistral.mixtral-8x7b-instruct-v0:1', mistralText],
  ['mistral.mistral-large-2402-v1:0', mistralText],
  ['mistral.mistral-small-2402-v1:0', mistralText],
  ['cohere.embed-english-v3', cohereEmbed],
  ['cohere.embed-multilingual-v3', cohereEmbed],
  ['cohere.embed-v4:0', cohereEmbed],
];

describe('model id resolution (InvokeModel)', () => {
  it.each(CASES)('resolves every id form of %s to its family', (bare, adapter) => {
    for (const id of idForms(bare)) {
      expect(baseModelId(id)).toBe(bare);
      expect(resolveModelAdapter(id)).toBe(adapter);
      expect(resolveModelAdapter(id, 'InvokeModel')).toBe(adapter);
    }
  });

  it('names unknown models and lists the supported families', () => {
    for (const id of ['cohere.command-r-v1:0', 'ai21.jamba-1-5-large-v1:0', 'us.deepseek.r1-v1:0', 'amazon.titan-embed-text-v1', 'amazon.titan-text-express-v1']) {
      expect(() => resolveModelAdapter(id)).toThrow(UnknownModelError);
      expect(() => resolveModelAdapter(id)).toThrow(id);
    }
    expect(() => resolveModelAdapter('cohere.command-r-v1:0')).toThrow(/meta-llama \(meta\.llama\*\).*cohere-embed \(cohere\.embed-\*\)/);
  });

  it('refuses the Nova models that are not text models and Pixtral, which takes the chat body', () => {
    for (const id of ['amazon.nova-canvas-v1:0', 'us.amazon.nova-reel-v1:1', 'amazon.nova-sonic-v1:0', 'amazon.nova-2-sonic-v1:0', 'amazon.nova-2-multimodal-embeddings-v1:0']) {
      expect(() => resolveModelAdapter(id)).toThrow(/is not an Amazon Nova text-understanding model/);
      expect(() => resolveModelAdapter(id, 'Converse')).toThrow(UnknownModelError);
    }
    expect(() => resolveModelAdapter('us.mistral.pixtral-large-2502-v1:0')).toThrow(/chat-completion body.*use Converse/);
    expect(resolveModelAdapter('us.mistral.pixtral-large-2502-v1:0', 'Converse')).toBe(converseFor('mistral'));
  });

  it('does not read application inference profiles or custom models, whose ARNs name no model', () => {
    expect(() => resolveModelAdapter('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6')).toThrow(UnknownModelError);
  });
});

describe('model id resolution (Converse)', () => {
  it.each(CASES.filter(([, a]) => a.task === 'text'))('gives %s the Converse adapter of its family in every id form', (bare, adapter) => {
    for (const id of idForms(bare)) {
      const resolved = resolveModelAdapter(id, 'Converse');
      expect(resolved).toBe(converseFor(adapter.family));
      expect(resolved.family).toBe('converse');
    }
  });

  it.each(['amazon.titan-embed-text-v2:0', 'cohere.embed-english-v3', 'arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-v4:0'])(
    'refuses embedding model %s with Converse',
    (id) => {
      expect(() => resolveModelAdapter(id, 'Converse')).toThrow(UnknownModelError);
      expect(() => resolveModelAdapter(id, 'Converse')).toThrow(/is an embedding model .*Converse batch jobs take chat models only, use InvokeModel/);
    },
  );

  it('lists only chat families for Converse', () => {
    expect(() => resolveModelAdapter('cohere.command-r-v1:0', 'Converse')).toThrow(/supported for Converse: anthropic-claude/);
    expect(() => resolveModelAdapter('cohere.command-r-v1:0', 'Converse')).not.toThrow(/cohere-embed/);
  });

  it('rejects an invocation type other than InvokeModel or Converse', () => {
    expect(() => resolveModelAdapter('anthropic.claude-3-haiku-20240307-v1:0', 'Batch' as never)).toThrow(/"Batch" is not InvokeModel or Converse/);
  });
});

describe('supportedFamilies', () => {
  it('labels every family with its id pattern, embeddings only for InvokeModel', () => {
    expect(supportedFamilies()).toEqual([
      'anthropic-claude (anthropic.claude*)',
      'amazon-titan-embed-v2 (amazon.titan-embed-text-v2*)',
      'amazon-nova (amazon.nova-* text models)',
      'meta-llama (meta.llama*)',
      'mistral (mistral.* text-completion models)',
      'cohere-embed (cohere.embed-*)',
    ]);
    expect(supportedFamilies('Converse')).toEqual([
      'anthropic-claude (anthropic.claude*)',
      'amazon-nova (amazon.nova-* text models)',
      'meta-llama (meta.llama*)',
      'mistral (mistral.* text-completion models)',
    ]);
  });
});
