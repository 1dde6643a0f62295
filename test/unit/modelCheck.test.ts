import type { BedrockClient } from '@aws-sdk/client-bedrock';
import { ApplicationFailure } from '@temporalio/common';
import { checkModelForBatch, checkModelInCatalog } from '../../src/activities/modelCheck';
import { UnknownModelError } from '../../src/models/types';

/** A Bedrock client stand-in: its Region, and `send` answering each command by name. */
function fakeBedrock(region: string, answer: (command: string, input: Record<string, unknown>) => unknown) {
  const calls: Array<{ command: string; input: Record<string, unknown> }> = [];
  const client = {
    config: { region: async () => region },
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const command = cmd.constructor.name.replace(/Command$/, '');
      calls.push({ command, input: cmd.input });
      const res = answer(command, cmd.input);
      if (res instanceof Error) throw res;
      return res;
    },
  };
  return { bedrock: client as unknown as BedrockClient, calls };
}

const awsError = (name: string, message = `${name} from the fake`) => Object.assign(new Error(message), { name });
const found = () => ({ modelDetails: { modelArn: 'arn', modelId: 'x', modelLifecycle: { status: 'ACTIVE' } } });

describe('checkModelForBatch', () => {
  test('asks GetFoundationModel for a model id and GetInferenceProfile for a profile id, in the client\'s Region', async () => {
    const { bedrock, calls } = fakeBedrock('us-east-1', (command) => (command === 'GetFoundationModel' ? found() : { status: 'ACTIVE' }));
    await checkModelForBatch({ bedrock }, { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' });
    await checkModelForBatch({ bedrock }, { modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' });
    await checkModelForBatch({ bedrock }, { modelId: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-8b-instruct-v1:0' });
    expect(calls).toEqual([
      { command: 'GetFoundationModel', input: { modelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0' } },
      { command: 'GetInferenceProfile', input: { inferenceProfileIdentifier: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' } },
      { command: 'GetInferenceProfile', input: { inferenceProfileIdentifier: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-1-8b-instruct-v1:0' } },
    ]);
  });

  test('the catalog refuses before any call: unknown id, wrong Region, InvokeModel for a chat-only model', async () => {
    const { bedrock, calls } = fakeBedrock('us-east-1', () => found());
    await expect(checkModelForBatch({ bedrock }, { modelId: 'anthropic.claude-nonexistent-v9:0' })).rejects.toThrow(UnknownModelError);
    await expect(checkModelForBatch({ bedrock }, { modelId: 'meta.llama2-13b-chat-v1' })).rejects.toThrow(/retired/);
    await expect(checkModelForBatch({ bedrock }, { modelId: 'mistral.mistral-large-2407-v1:0' })).rejects.toThrow(/in us-east-1 with its model id; batch runs it with its model id in us-west-2/);
    const west = fakeBedrock('us-west-2', () => found());
    await expect(checkModelForBatch({ bedrock: west.bedrock }, { modelId: 'mistral.mistral-large-2407-v1:0', invocationType: 'InvokeModel' })).rejects.toThrow(/"invocationType": "Converse"/);
    await checkModelForBatch({ bedrock: west.bedrock }, { modelId: 'mistral.mistral-large-2407-v1:0', invocationType: 'Converse' });
    expect(calls).toEqual([]);
    expect(west.calls.map((c) => c.command)).toEqual(['GetFoundationModel']);
  });

  test('ResourceNotFound and Validation from Bedrock are input errors naming the model and Region', async () => {
    for (const name of ['ResourceNotFoundException', 'ValidationException']) {
      const { bedrock } = fakeBedrock('us-east-1', () => awsError(name, 'Could not resolve the foundation model from the provided model identifier.'));
      const err = await checkModelForBatch({ bedrock }, { modelId: 'amazon.nova-lite-v1:0' }).catch((e) => e);
      expect(err).toBeInstanceOf(UnknownModelError);
      expect(err.message).toBe(
        `Bedrock in us-east-1 does not know model "amazon.nova-lite-v1:0" (GetFoundationModel: ${name}: Could not resolve the foundation model from the provided model identifier.)`,
      );
    }
  });

  test('AccessDenied fails at once, naming the permission; throttling and server errors are left to retries', async () => {
    const denied = fakeBedrock('us-east-1', () => awsError('AccessDeniedException', 'User is not authorized'));
    const err = await checkModelForBatch({ bedrock: denied.bedrock }, { modelId: 'us.amazon.nova-micro-v1:0' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'BedrockAccessDenied', nonRetryable: true });
    expect(err.message).toMatch(/denied GetInferenceProfile for "us\.amazon\.nova-micro-v1:0" \(User is not authorized\); the worker's credentials need bedrock:GetInferenceProfile/);
    for (const name of ['ThrottlingException', 'InternalServerException']) {
      const original = awsError(name);
      const { bedrock } = fakeBedrock('us-east-1', () => original);
      await expect(checkModelForBatch({ bedrock }, { modelId: 'amazon.nova-micro-v1:0' })).rejects.toBe(original);
    }
  });

  test('a malformed modelId is left to the run-input check; unverified models pass with a warning', async () => {
    const { bedrock, calls } = fakeBedrock('us-east-1', () => found());
    await expect(checkModelInCatalog({ bedrock }, { modelId: 42 })).resolves.toBeUndefined();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await checkModelForBatch({ bedrock }, { modelId: 'cohere.embed-english-v3' });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^warning: model "cohere\.embed-english-v3" \(Cohere Embed English\): batch support is unverified/));
    } finally {
      warn.mockRestore();
    }
    expect(calls).toHaveLength(1);
  });
});
