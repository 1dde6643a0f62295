import { readFileSync } from 'node:fs';
import { BatchCatalog, BatchCatalogData, DEFAULT_BATCH_CATALOG_FILE, loadBatchCatalog } from '../../src/models/batchCatalog';
import { parseModelIdentifier } from '../../src/models/modelIdentifier';
import { resolveModelAdapter } from '../../src/models/registry';

const catalog = loadBatchCatalog();
const ok = (modelId: string, region: string, type: 'InvokeModel' | 'Converse' = 'InvokeModel') => catalog.check(modelId, region, type).ok;
const reason = (modelId: string, region: string, type: 'InvokeModel' | 'Converse' = 'InvokeModel') => {
  const v = catalog.check(modelId, region, type);
  if (v.ok) throw new Error(`${modelId} in ${region} was accepted`);
  return v.reason;
};

describe('parseModelIdentifier', () => {
  test.each([
    ['anthropic.claude-3-haiku-20240307-v1:0', { form: 'model-id', baseId: 'anthropic.claude-3-haiku-20240307-v1:0' }],
    [' us.meta.llama3-1-8b-instruct-v1:0 ', { form: 'profile-id', geography: 'us', baseId: 'meta.llama3-1-8b-instruct-v1:0' }],
    ['global.anthropic.claude-sonnet-4-20250514-v1:0', { form: 'profile-id', geography: 'global', baseId: 'anthropic.claude-sonnet-4-20250514-v1:0' }],
    ['us-gov.amazon.nova-pro-v1:0', { form: 'profile-id', geography: 'us-gov', baseId: 'amazon.nova-pro-v1:0' }],
    ['arn:aws:bedrock:eu-west-1::foundation-model/mistral.mistral-large-2402-v1:0', { form: 'foundation-model-arn', region: 'eu-west-1', baseId: 'mistral.mistral-large-2402-v1:0' }],
    [
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-70b-instruct-v1:0',
      { form: 'profile-arn', region: 'us-east-1', geography: 'us', profileId: 'us.meta.llama3-1-70b-instruct-v1:0', baseId: 'meta.llama3-1-70b-instruct-v1:0' },
    ],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456', { form: 'other-arn', resourceType: 'application-inference-profile' }],
  ])('%s', (id, expected) => {
    expect(parseModelIdentifier(id)).toMatchObject(expected);
  });
});

describe('the catalog file', () => {
  const data = JSON.parse(readFileSync(DEFAULT_BATCH_CATALOG_FILE, 'utf8')) as BatchCatalogData;

  test('is dated, names its sources, and every row cites one of them', () => {
    expect(data.compiledOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const s of Object.values(data.sources)) expect(s.url).toMatch(/^https:\/\//);
    for (const m of data.models) expect(Object.keys(data.sources)).toContain(m.batch.source);
  });

  test('ids are unique, real-looking, and the adapter named is the one registry.ts resolves', () => {
    const ids = data.models.map((m) => m.modelId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of data.models) {
      expect(m.modelId).toMatch(/^[a-z0-9-]+\.[a-z0-9.-]+(:[a-z0-9-]+)*$/);
      if (m.adapter) expect(`${m.modelId} ${resolveModelAdapter(m.modelId).family}`).toBe(`${m.modelId} ${m.adapter}`);
      if (m.batch.status !== 'unsupported') expect((m.batch.regions ?? []).length + (m.batch.profileRegions ?? []).length).toBeGreaterThan(0);
      for (const g of m.profiles) expect(Object.keys(data.profileGeographies)).toContain(g);
    }
  });

  test('covers every real model id the project names (tests, samples, prices)', () => {
    const prices = JSON.parse(readFileSync(DEFAULT_BATCH_CATALOG_FILE.replace('batch-models.json', 'prices.json'), 'utf8')) as { models: Record<string, unknown> };
    const samples = ['anthropic.claude-3-5-haiku-20241022-v1:0', 'amazon.titan-embed-text-v2:0'];
    for (const id of [...Object.keys(prices.models), ...samples]) expect(catalog.model(id)).toBeDefined();
  });
});

describe('BatchCatalog.check', () => {
  test('bare ids run where AWS lists them, in the Region the job runs in', () => {
    expect(ok('anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1')).toBe(true);
    expect(ok('anthropic.claude-3-haiku-20240307-v1:0', 'eu-west-1')).toBe(true);
    expect(ok('amazon.titan-embed-text-v2:0', 'us-east-1')).toBe(true);
    expect(ok('mistral.mistral-small-2402-v1:0', 'us-east-1')).toBe(true);
    expect(reason('mistral.mistral-small-2402-v1:0', 'us-west-2')).toMatch(/does not run in batch in us-west-2 with its model id; batch runs it with its model id in us-east-1$/);
  });

  test('a model that runs in batch only through profiles there is refused with the profile to use', () => {
    const r = reason('anthropic.claude-3-5-haiku-20241022-v1:0', 'us-east-1');
    expect(r).toContain('does not run in batch in us-east-1 with its model id');
    expect(r).toContain('with its model id in us-west-2, and through us. profiles from us-east-1, us-west-2');
    expect(r).toMatch(/use the cross-Region inference profile "us\.anthropic\.claude-3-5-haiku-20241022-v1:0"$/);
    expect(ok('us.anthropic.claude-3-5-haiku-20241022-v1:0', 'us-east-1')).toBe(true);
    expect(ok('meta.llama3-1-8b-instruct-v1:0', 'us-east-1')).toBe(false);
    expect(ok('us.meta.llama3-1-8b-instruct-v1:0', 'us-east-1')).toBe(true);
    expect(ok('amazon.nova-premier-v1:0', 'us-east-1')).toBe(false);
    expect(ok('us.amazon.nova-premier-v1:0', 'us-east-1')).toBe(true);
  });

  test('profiles: must exist, be called from their geography, and carry batch there', () => {
    expect(reason('global.amazon.nova-lite-v1:0', 'us-east-1')).toMatch(/no cross-Region inference profile "global\.amazon\.nova-lite-v1:0" \(its profiles are us\., eu\., apac\.\)/);
    expect(reason('eu.amazon.nova-micro-v1:0', 'us-east-1')).toMatch(/the eu\. profile is called from Regions of its geography, not from us-east-1/);
    expect(ok('eu.amazon.nova-micro-v1:0', 'eu-west-1')).toBe(true);
    expect(ok('apac.amazon.nova-pro-v1:0', 'ap-northeast-1')).toBe(true);
    // Claude 3 Haiku has profiles, but batch takes it only with its model id.
    expect(reason('us.anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1')).toMatch(/through a cross-Region profile from us-east-1.*use the model id "anthropic\.claude-3-haiku-20240307-v1:0"$/);
    expect(ok('global.anthropic.claude-sonnet-4-20250514-v1:0', 'us-east-1')).toBe(true);
    expect(ok('global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'eu-west-1')).toBe(true);
    expect(ok('anthropic.claude-sonnet-4-20250514-v1:0', 'us-east-1')).toBe(false);
  });

  test('ARNs: a foundation-model ARN must be in the job\'s Region; profile ARNs are checked like profile ids', () => {
    expect(ok('arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1')).toBe(true);
    expect(reason('arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0', 'us-east-1')).toMatch(/is an ARN in us-west-2, but the job runs in us-east-1/);
    expect(ok('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-70b-instruct-v1:0', 'us-east-1')).toBe(true);
    expect(reason('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456', 'us-east-1')).toMatch(/application-inference-profile ARN/);
  });

  test('unknown ids are refused with close matches that run in batch in that Region', () => {
    const r = reason('anthropic.claude-nonexistent-v9:0', 'us-east-1');
    expect(r).toMatch(/^model "anthropic\.claude-nonexistent-v9:0" is not a Bedrock model id that config\/batch-models\.json \(compiled \d{4}-\d{2}-\d{2}\) knows; close matches that run in batch in us-east-1: /);
    expect(r).toContain('anthropic.claude-');
    expect(catalog.closeMatches('anthropic.claude-3-haiku-20240307-v1:1', 'us-east-1')[0]).toBe('anthropic.claude-3-haiku-20240307-v1:0');
  });

  test('retired and batch-less models are refused, naming why and what does run', () => {
    expect(reason('meta.llama2-13b-chat-v1', 'us-east-1')).toMatch(/\(Meta Llama 2 Chat 13B\) is retired on Amazon Bedrock .*models that do run in batch in us-east-1: .*meta\.llama/);
    expect(reason('mistral.pixtral-large-2502-v1:0', 'us-west-2')).toMatch(/does not support batch inference \(models-features 2026-01/);
    expect(reason('cohere.embed-v4:0', 'us-east-1')).toMatch(/does not support batch inference/);
  });

  test('the request format: chat-only Mistral Large 2407 needs Converse; embeddings have no Converse form', () => {
    expect(reason('mistral.mistral-large-2407-v1:0', 'us-west-2')).toMatch(
      /\(Mistral AI Mistral Large \(24\.07\)\) takes the mistral-chat-completion request body through InvokeModel, which none of our adapters writes; run it with "invocationType": "Converse"$/,
    );
    expect(ok('mistral.mistral-large-2407-v1:0', 'us-west-2', 'Converse')).toBe(true);
    expect(reason('mistral.mistral-large-2407-v1:0', 'us-east-1', 'Converse')).toMatch(/does not run in batch in us-east-1 with its model id; batch runs it with its model id in us-west-2$/);
    expect(reason('amazon.titan-embed-text-v2:0', 'us-east-1', 'Converse')).toMatch(/does not take Converse requests/);
    expect(reason('amazon.nova-2-multimodal-embeddings-v1:0', 'us-east-1')).toMatch(/takes the nova-multimodal-embeddings request body through InvokeModel, which none of our adapters writes$/);
  });

  test('unverified rows are accepted with a warning', () => {
    const v = catalog.check('cohere.embed-english-v3', 'us-east-1');
    expect(v.ok && v.warning).toMatch(/batch support is unverified/);
    const sure = catalog.check('amazon.titan-embed-text-v2:0', 'us-east-1');
    expect(sure.ok && sure.warning).toBeUndefined();
  });

  test('a catalog is plain data: a one-row catalog answers only for its row', () => {
    const data: BatchCatalogData = {
      compiledOn: '2026-01-01',
      sources: { t: { title: 't', url: 'https://example.com' } },
      profileGeographies: { us: '^us-' },
      models: [{ ...catalog.model('amazon.nova-micro-v1:0')!, batch: { status: 'supported', regions: ['us-west-2'], profileRegions: [], source: 't' } }],
    };
    const small = new BatchCatalog(data, 'test.json');
    expect(small.check('amazon.nova-micro-v1:0', 'us-west-2').ok).toBe(true);
    const v = small.check('amazon.nova-lite-v1:0', 'us-west-2');
    expect(!v.ok && v.reason).toMatch(/that test\.json \(compiled 2026-01-01\) knows; close matches that run in batch in us-west-2: amazon\.nova-micro-v1:0$/);
  });
});
