import { createS3Client, formatS3Uri, joinS3Uri, parseS3Uri, s3SettingsFromEnv } from '../../src/io/s3';

describe('parseS3Uri', () => {
  it('splits bucket and key, keeping the key verbatim', () => {
    expect(parseS3Uri('s3://my-bucket/a/b c/%20.parquet')).toEqual({ bucket: 'my-bucket', key: 'a/b c/%20.parquet' });
  });

  it('accepts bucket-only URIs as an empty key', () => {
    expect(parseS3Uri('s3://bucket')).toEqual({ bucket: 'bucket', key: '' });
    expect(parseS3Uri('s3://bucket/')).toEqual({ bucket: 'bucket', key: '' });
  });

  it.each(['', 'bucket/key', 'https://bucket/key', 's3:/bucket/key', 's3://', 's3:///key', 's3://bad bucket/key'])(
    'rejects %j with an error naming the URI',
    (bad) => {
      expect(() => parseS3Uri(bad)).toThrow(JSON.stringify(bad));
    },
  );
});

describe('formatS3Uri', () => {
  it('round-trips with parseS3Uri', () => {
    const uri = 's3://b/x/y/z.jsonl';
    expect(formatS3Uri(parseS3Uri(uri))).toBe(uri);
  });

  it('rejects an empty bucket', () => {
    expect(() => formatS3Uri({ bucket: '', key: 'k' })).toThrow(/bucket/);
  });
});

describe('joinS3Uri', () => {
  it('puts exactly one slash between segments', () => {
    expect(joinS3Uri('s3://b/runs/', '/r1/', 'part-0.parquet')).toBe('s3://b/runs/r1/part-0.parquet');
    expect(joinS3Uri('s3://b/runs', 'r1', 'x')).toBe('s3://b/runs/r1/x');
  });

  it('joins onto a bare bucket', () => {
    expect(joinS3Uri('s3://b', 'x')).toBe('s3://b/x');
    expect(joinS3Uri('s3://b/', '/x')).toBe('s3://b/x');
  });

  it('skips empty segments and keeps a trailing slash on the last one', () => {
    expect(joinS3Uri('s3://b/p', '', 'out/')).toBe('s3://b/p/out/');
    expect(joinS3Uri('s3://b/p/')).toBe('s3://b/p/');
    expect(joinS3Uri('s3://b/p', 'q')).toBe('s3://b/p/q');
  });

  it('rejects a non-S3 base', () => {
    expect(() => joinS3Uri('/tmp/x', 'y')).toThrow('"/tmp/x"');
  });
});

describe('s3SettingsFromEnv / createS3Client', () => {
  it('defaults to us-east-1 on AWS with no endpoint', () => {
    expect(s3SettingsFromEnv({})).toEqual({ region: 'us-east-1' });
  });

  it('prefers the S3-specific endpoint and turns on path style', () => {
    const s = s3SettingsFromEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://s3:2' });
    expect(s).toEqual({ region: 'eu-west-1', endpoint: 'http://s3:2', forcePathStyle: true });
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'http://a:1' }).endpoint).toBe('http://a:1');
  });

  it('uses WHEN_REQUIRED checksums and path style only for custom endpoints', async () => {
    const local = createS3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' });
    expect(local.config.forcePathStyle).toBe(true);
    expect(await local.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await local.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
    const aws = createS3Client({ region: 'us-east-1' });
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    local.destroy();
    aws.destroy();
  });
});
