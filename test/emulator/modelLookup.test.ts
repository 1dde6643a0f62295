import { GetFoundationModelCommand, GetInferenceProfileCommand, ResourceNotFoundException, ValidationException } from '@aws-sdk/client-bedrock';
import { Env, errorOf, startEnv } from './helpers';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

describe('GetFoundationModel', () => {
  test('describes a model offered in the Region, by id or ARN, in the service model shape', async () => {
    const { bedrock } = await env.start();
    const res = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0' }));
    expect(res.modelDetails).toEqual({
      modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      modelName: 'Claude 3 Haiku',
      providerName: 'Anthropic',
      inputModalities: ['TEXT', 'IMAGE'],
      outputModalities: ['TEXT'],
      responseStreamingSupported: true,
      customizationsSupported: [],
      inferenceTypesSupported: ['ON_DEMAND'],
      modelLifecycle: { status: 'ACTIVE' },
    });
    const byArn = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0' }));
    expect(byArn.modelDetails).toMatchObject({ modelId: 'amazon.titan-embed-text-v2:0', outputModalities: ['EMBEDDING'], responseStreamingSupported: false });
    // Offered here only through profiles: no on-demand inference type in the service model's enum.
    const profileOnly = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'anthropic.claude-sonnet-4-20250514-v1:0' }));
    expect(profileOnly.modelDetails?.inferenceTypesSupported).toEqual([]);
    const legacy = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'anthropic.claude-3-5-sonnet-20240620-v1:0' }));
    expect(legacy.modelDetails?.modelLifecycle).toEqual({ status: 'LEGACY' });
  });

  test('unknown, retired, other-Region and profile ids are ResourceNotFound; malformed ids are ValidationException', async () => {
    const { bedrock } = await env.start();
    for (const modelIdentifier of [
      'anthropic.claude-nonexistent-v9:0',
      'meta.llama2-13b-chat-v1',
      'mistral.mistral-large-2407-v1:0',
      'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    ]) {
      const err = await errorOf(bedrock.send(new GetFoundationModelCommand({ modelIdentifier })));
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.$metadata.httpStatusCode).toBe(404);
      expect(err.message).toBe('Could not resolve the foundation model from the provided model identifier.');
    }
    const bad = await errorOf(bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'Not A Model' })));
    expect(bad).toBeInstanceOf(ValidationException);
    expect(bad.message).toMatch(/^1 validation error detected: Value 'Not A Model' at 'modelIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
  });

  test('answers for the emulator\'s own Region', async () => {
    const { bedrock } = await env.start({ region: 'us-west-2' });
    const res = await bedrock.send(new GetFoundationModelCommand({ modelIdentifier: 'mistral.mistral-large-2407-v1:0' }));
    expect(res.modelDetails?.modelArn).toBe('arn:aws:bedrock:us-west-2::foundation-model/mistral.mistral-large-2407-v1:0');
  });
});

describe('GetInferenceProfile', () => {
  test('describes a system-defined profile callable from the Region, by id or ARN', async () => {
    const { bedrock } = await env.start();
    const res = await bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' }));
    expect(res).toMatchObject({
      inferenceProfileName: 'US Anthropic Claude 3.5 Haiku',
      inferenceProfileArn: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
      inferenceProfileId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
      status: 'ACTIVE',
      type: 'SYSTEM_DEFINED',
      models: [
        { modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0' },
        { modelArn: 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0' },
      ],
    });
    expect(res.createdAt).toBeInstanceOf(Date);
    expect(res.description).toBe('Routes requests to Anthropic Claude 3.5 Haiku in us-east-1 and us-west-2.');
    const byArn = await bedrock.send(
      new GetInferenceProfileCommand({ inferenceProfileIdentifier: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0' }),
    );
    expect(byArn.inferenceProfileId).toBe('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(byArn.models!.length).toBeLessThanOrEqual(5);
  });

  test('profiles that do not exist, or not for this Region, are ResourceNotFound', async () => {
    const { bedrock } = await env.start();
    for (const inferenceProfileIdentifier of ['eu.amazon.nova-micro-v1:0', 'global.amazon.nova-lite-v1:0', 'us.anthropic.claude-nonexistent-v9:0', 'anthropic.claude-3-haiku-20240307-v1:0']) {
      const err = await errorOf(bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier })));
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.message).toBe(`The inference profile ${inferenceProfileIdentifier} could not be found.`);
    }
  });
});
