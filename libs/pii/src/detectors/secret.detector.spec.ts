import { detectSecrets } from './secret.detector';
import { found } from './spec-helpers';

// Fabricated, format-correct values: these are not real credentials.
const tail = (n: number): string => 'q7Xk2Lm9Pz4Rt8Vw3Ny6Bc1Hd5Jf0Gs'.repeat(4).slice(0, n);
const jwt = [
  Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url'),
  Buffer.from('{"sub":"42","tenant_id":"t1"}').toString('base64url'),
  'c2lnbmF0dXJlLWJ5dGVzLWhlcmU',
].join('.');
const pemBody = 'MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\nZXhhbXBsZS1rZXktYnl0ZXM=';

describe('detectSecrets', () => {
  it.each([
    ['AWS access key', `AKIA${tail(16).toUpperCase()}`],
    ['AWS STS key', `ASIA${tail(16).toUpperCase()}`],
    ['OpenAI key', `sk-${tail(48)}`],
    ['OpenAI project key', `sk-proj-${tail(64)}_${tail(20)}`],
    ['Anthropic key', `sk-ant-api03-${tail(90)}`],
    ['GitHub classic token', `ghp_${tail(36)}`],
    ['GitHub fine-grained PAT', `github_pat_${tail(22)}_${tail(59)}`],
    ['Slack bot token', `xoxb-123456789012-1234567890123-${tail(24)}`],
    ['Google API key', `AIza${tail(35)}`],
    ['Stripe secret key', `sk_live_${tail(24)}`],
    ['Stripe restricted key', `rk_test_${tail(24)}`],
    ['GitLab token', `glpat-${tail(20)}`],
    ['npm token', `npm_${tail(36)}`],
    ['ATP key', `atp_${tail(43)}`],
    ['JWT', jwt],
  ])('finds a %s', (_name, secret) =>
    expect(found(detectSecrets, `token: ${secret} (rotate it)`)).toEqual([secret]),
  );

  it('finds a PEM private key block, a truncated one and a JSON-escaped one', () => {
    const block = `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----`;
    expect(found(detectSecrets, `key:\n${block}\nthanks`)).toEqual([block]);
    const truncated = `-----BEGIN PRIVATE KEY-----\n${pemBody}`;
    expect(found(detectSecrets, `${truncated}\n`)).toEqual([truncated]);
    const escaped = `-----BEGIN PRIVATE KEY-----\\n${pemBody.replace('\n', '\\n')}\\n-----END PRIVATE KEY-----`;
    expect(found(detectSecrets, `{"private_key":"${escaped}"}`)).toEqual([escaped]);
  });

  it('reports only the value of an aws_secret_access_key assignment', () => {
    const value = `${tail(30)}/+${tail(8)}`;
    expect(found(detectSecrets, `AWS_SECRET_ACCESS_KEY = "${value}"`)).toEqual([value]);
  });

  it('scans many BEGIN lines without END in linear time', () => {
    const text = '-----BEGIN PRIVATE KEY----- '.repeat(8_000);
    const started = Date.now();
    expect(found(detectSecrets, text)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_500); // was quadratic (~8 s) before the body stopped at "-----"
  });

  it.each([
    'pip install scikit-learn, not sk-learn',
    'Replace sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX with your key',
    'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'SLACK_BOT_TOKEN=xoxb-your-bot-token-here',
    'atp_http_requests_total and atp_request_duration_seconds',
    'A JWT starts with eyJhbGciOi... (truncated)',
    `a token-like eyJub3QganNvbg.eyJub3QganNvbg.abcdefghijk`,
    '-----BEGIN PUBLIC KEY----- is public',
    'the commit 3f9a1c2b7d4e5f60718293a4b5c6d7e8f9012345',
    'pk_live_ prefixes a publishable key',
  ])('ignores %p', (text) => expect(found(detectSecrets, text)).toEqual([]));
});
