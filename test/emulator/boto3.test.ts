import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Env, startEnv } from './helpers';

/**
 * The emulator seen by a second client, boto3, whose parsing is loose: so the script also checks
 * each answer against botocore's own service model (required members, enums, member types).
 */
// biome-ignore lint/complexity/noUselessStringRaw: whatever backslashes the script gets must reach Python as written
const SCRIPT = String.raw`
import datetime, json, sys
import boto3, botocore

endpoint = sys.argv[1]
client = boto3.client('bedrock', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
service = client.meta.service_model

def problems(shape, value, path):
    """What in value breaks the botocore shape: missing required members, values outside enums, wrong types."""
    out = []
    t = shape.type_name
    if t == 'structure':
        if not isinstance(value, dict):
            return [path + ': not a structure']
        for name in shape.required_members:
            if name not in value:
                out.append(path + '.' + name + ': required, missing')
        for name, member in shape.members.items():
            if name in value:
                out += problems(member, value[name], path + '.' + name)
        for name in value:
            if name not in shape.members and name != 'ResponseMetadata':
                out.append(path + '.' + name + ': not in the service model')
    elif t == 'list':
        if not isinstance(value, list):
            return [path + ': not a list']
        if shape.metadata.get('max') is not None and len(value) > shape.metadata['max']:
            out.append(path + ': more than %d items' % shape.metadata['max'])
        for i, v in enumerate(value):
            out += problems(shape.member, v, '%s[%d]' % (path, i))
    elif t == 'string':
        if not isinstance(value, str):
            out.append(path + ': not a string')
        elif shape.enum and value not in shape.enum:
            out.append(path + ': %r not in %s' % (value, shape.enum))
    elif t == 'boolean' and not isinstance(value, bool):
        out.append(path + ': not a boolean')
    elif t == 'timestamp' and not isinstance(value, datetime.datetime):
        out.append(path + ': not a timestamp')
    return out

def call(operation, **params):
    method = getattr(client, botocore.xform_name(operation))
    try:
        res = method(**params)
    except client.exceptions.ClientError as e:
        err = e.response['Error']
        return {'error': type(e).__name__, 'code': err.get('Code'), 'message': err.get('Message'), 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
    output = service.operation_model(operation).output_shape
    res.pop('ResponseMetadata', None)
    return {'problems': problems(output, res, operation), 'response': json.loads(json.dumps(res, default=str))}

results = {
    'model': call('GetFoundationModel', modelIdentifier='anthropic.claude-3-haiku-20240307-v1:0'),
    'modelByArn': call('GetFoundationModel', modelIdentifier='arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0'),
    'profile': call('GetInferenceProfile', inferenceProfileIdentifier='us.anthropic.claude-3-5-haiku-20241022-v1:0'),
    'globalProfile': call('GetInferenceProfile', inferenceProfileIdentifier='global.anthropic.claude-sonnet-4-5-20250929-v1:0'),
    'unknownModel': call('GetFoundationModel', modelIdentifier='anthropic.claude-nonexistent-v9:0'),
    'unknownProfile': call('GetInferenceProfile', inferenceProfileIdentifier='eu.amazon.nova-micro-v1:0'),
    'createUnknown': call('CreateModelInvocationJob', jobName='boto3-unknown-model', roleArn='arn:aws:iam::123456789012:role/BedrockBatch',
        modelId='anthropic.claude-nonexistent-v9:0',
        inputDataConfig={'s3InputDataConfig': {'s3Uri': 's3://emu-input/boto3/in.jsonl', 's3InputFormat': 'JSONL'}},
        outputDataConfig={'s3OutputDataConfig': {'s3Uri': 's3://emu-output/boto3/'}}),
}
print(json.dumps({'botocore': botocore.__version__, 'results': results}))
`;

/** What the script prints for one call: botocore's parsed answer and its problems, or the error it raised. */
interface Boto3Result {
  problems?: string[];
  response?: { modelDetails?: { modelId?: string } } & Record<string, unknown>;
  error?: string;
  code?: string;
  status?: number;
  message?: string;
}

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

test('boto3 reads GetFoundationModel and GetInferenceProfile in botocore\'s shapes and maps the errors to its exception classes', async () => {
  const { emulator } = await env.start();
  const python = process.env.PYTHON3 ?? process.env.MOTO_PYTHON ?? 'python3';
  // Not spawnSync: the emulator answers from this process's event loop, which must keep running.
  const run = await promisify(execFile)(python, ['-c', SCRIPT, emulator.url], { encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).not.toMatch(/Traceback/);
  const { results } = JSON.parse(run.stdout) as { results: Record<string, Boto3Result> };

  for (const key of ['model', 'modelByArn', 'profile', 'globalProfile']) expect([key, results[key].problems]).toEqual([key, []]);
  expect(results.model.response?.modelDetails).toMatchObject({
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
    inferenceTypesSupported: ['ON_DEMAND'],
    modelLifecycle: { status: 'ACTIVE' },
  });
  expect(results.modelByArn.response?.modelDetails?.modelId).toBe('amazon.titan-embed-text-v2:0');
  expect(results.profile.response).toMatchObject({
    inferenceProfileId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    type: 'SYSTEM_DEFINED',
    status: 'ACTIVE',
    models: [{ modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0' }, expect.anything()],
  });

  expect(results.unknownModel).toEqual({
    error: 'ResourceNotFoundException',
    code: 'ResourceNotFoundException',
    status: 404,
    message: 'Could not resolve the foundation model from the provided model identifier.',
  });
  expect(results.unknownProfile).toMatchObject({ error: 'ResourceNotFoundException', status: 404 });
  expect(results.createUnknown).toEqual({ error: 'ValidationException', code: 'ValidationException', status: 400, message: 'The provided model identifier is invalid.' });
  expect(emulator.stats()).toMatchObject({ createRequests: 1, jobsCreated: 0 });
});

/**
 * The bedrock-runtime routes seen by boto3: Converse checked against botocore's ConverseResponse,
 * InvokeModel's body and token headers, and the errors mapped to botocore's exception classes.
 */
// biome-ignore lint/complexity/noUselessStringRaw: whatever backslashes the script gets must reach Python as written
const RUNTIME_SCRIPT = String.raw`
import json, sys
import boto3, botocore
from botocore.config import Config

endpoint = sys.argv[1]
client = boto3.client('bedrock-runtime', endpoint_url=endpoint, region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test',
    config=Config(retries={'max_attempts': 1}))
service = client.meta.service_model
CLAUDE = 'anthropic.claude-3-haiku-20240307-v1:0'

def problems(shape, value, path):
    out = []
    t = shape.type_name
    if t == 'structure':
        if not isinstance(value, dict):
            return [path + ': not a structure']
        for name in shape.required_members:
            if name not in value:
                out.append(path + '.' + name + ': required, missing')
        for name, member in shape.members.items():
            if name in value:
                out += problems(member, value[name], path + '.' + name)
        for name in value:
            if name not in shape.members and name != 'ResponseMetadata':
                out.append(path + '.' + name + ': not in the service model')
    elif t == 'list':
        for i, v in enumerate(value if isinstance(value, list) else []):
            out += problems(shape.member, v, '%s[%d]' % (path, i))
    elif t == 'string':
        if not isinstance(value, str):
            out.append(path + ': not a string')
        elif shape.enum and value not in shape.enum:
            out.append(path + ': %r not in %s' % (value, shape.enum))
    elif t in ('integer', 'long') and not isinstance(value, int):
        out.append(path + ': not an integer')
    return out

def error(e):
    err = e.response['Error']
    return {'error': type(e).__name__, 'code': err.get('Code'), 'message': err.get('Message'), 'status': e.response['ResponseMetadata']['HTTPStatusCode']}

def invoke(model_id, body):
    try:
        res = client.invoke_model(modelId=model_id, body=json.dumps(body), contentType='application/json', accept='application/json')
    except client.exceptions.ClientError as e:
        return error(e)
    headers = res['ResponseMetadata']['HTTPHeaders']
    return {'contentType': res['contentType'], 'body': json.loads(res['body'].read()),
            'headers': {k: v for k, v in headers.items() if k.startswith('x-amzn-bedrock-')}}

def converse(model_id, **params):
    try:
        res = client.converse(modelId=model_id, **params)
    except client.exceptions.ClientError as e:
        return error(e)
    res.pop('ResponseMetadata', None)
    return {'problems': problems(service.operation_model('Converse').output_shape, res, 'Converse'), 'response': res}

claude_body = {'anthropic_version': 'bedrock-2023-05-31', 'max_tokens': 50, 'messages': [{'role': 'user', 'content': [{'type': 'text', 'text': 'Hello there'}]}]}
results = {
    'invoke': invoke(CLAUDE, claude_body),
    'converse': converse(CLAUDE, messages=[{'role': 'user', 'content': [{'text': 'Hello there'}]}], inferenceConfig={'maxTokens': 50}),
    'invokeUnknown': invoke('anthropic.claude-nonexistent-v9:0', claude_body),
    'invokeMalformed': invoke(CLAUDE, {'messages': []}),
    'converseEmbedding': converse('amazon.titan-embed-text-v2:0', messages=[{'role': 'user', 'content': [{'text': 'x'}]}]),
}
print(json.dumps({'results': results}))
`;

test('boto3 reads InvokeModel (body, token headers) and Converse (botocore\'s ConverseResponse) and maps the runtime errors', async () => {
  const { emulator } = await env.start();
  const python = process.env.PYTHON3 ?? process.env.MOTO_PYTHON ?? 'python3';
  const run = await promisify(execFile)(python, ['-c', RUNTIME_SCRIPT, emulator.url], { encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).not.toMatch(/Traceback/);
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON of several shapes, read by the assertions below
  const { results } = JSON.parse(run.stdout) as { results: Record<string, any> };
  expect(results.invoke.contentType).toBe('application/json');
  expect(results.invoke.body).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: expect.stringMatching(/^Emulated answer [0-9a-f]{16} to: Hello there$/) }] });
  expect(results.invoke.headers).toEqual({
    'x-amzn-bedrock-input-token-count': String(results.invoke.body.usage.input_tokens),
    'x-amzn-bedrock-output-token-count': String(results.invoke.body.usage.output_tokens),
    'x-amzn-bedrock-invocation-latency': expect.stringMatching(/^\d+$/),
  });
  expect(results.converse.problems).toEqual([]);
  expect(results.converse.response).toMatchObject({ stopReason: 'end_turn', output: { message: { role: 'assistant' } } });
  expect(results.invokeUnknown).toEqual({ error: 'ValidationException', code: 'ValidationException', status: 400, message: 'The provided model identifier is invalid.' });
  expect(results.invokeMalformed).toMatchObject({ error: 'ValidationException', status: 400, message: expect.stringMatching(/^Malformed input request: /) });
  expect(results.converseEmbedding).toMatchObject({ error: 'ValidationException', status: 400 });
  expect(emulator.stats().runtime).toMatchObject({ invokeRequests: 3, converseRequests: 2, answered: 2, rejected: 3 });
});
