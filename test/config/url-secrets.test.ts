import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { maskUrl, redact, withMaskedSecrets, withoutSecrets } from '../../src/config/index.ts';
import { bench } from '../helpers/cli.ts';
import { startOracleModel } from '../helpers/oracle-model.ts';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-url-secrets-'));
  made.push(dir);
  return dir;
}

function configFile(toml: string): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'config.toml');
  writeFileSync(path, toml);
  return { dir, path };
}

describe('credentials inside a URL are masked', () => {
  test('user info and credential-looking query values are replaced, everything else kept as written', () => {
    expect(maskUrl('https://bob:hunter2hunter2@gw.example.com:8443/v1')).toBe('https://***:***@gw.example.com:8443/v1');
    expect(maskUrl('https://tok3n-only@gw.example.com/v1')).toBe('https://***@gw.example.com/v1');
    expect(maskUrl('https://gw.example.com/v1?api-key=abc123secret&deployment=gpt4')).toBe('https://gw.example.com/v1?api-key=***&deployment=gpt4');
    expect(maskUrl('https://x.googleapis.com/v1beta?key=AIzaSyD-secret')).toBe('https://x.googleapis.com/v1beta?key=***');
    expect(maskUrl('https://s3.example.com/o?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA%2F1&region=eu')).toBe('https://s3.example.com/o?X-Amz-Signature=***&X-Amz-Credential=***&region=eu');
    expect(maskUrl('http://h/v1?access_token=t0k&apiKey=k3y&clientSecret=s3c&sig=abc&page=2')).toBe('http://h/v1?access_token=***&apiKey=***&clientSecret=***&sig=***&page=2');
    expect(maskUrl('http://localhost:11434/v1')).toBe('http://localhost:11434/v1');
    // Without a scheme, and with a `/` inside the password, the user info is still hidden.
    expect(maskUrl('alice:pa55word@localhost:8000/v1')).toBe('***:***@localhost:8000/v1');
    expect(maskUrl('https://alice:pa/ss@host/v1')).toBe('https://***:***@host/v1');
  });

  test('free text quoting a URL (as fetch does in its errors) is masked, and known secrets are too', () => {
    const message = 'Request cannot be constructed from a URL that includes credentials: http://u5er:pa55w0rd@127.0.0.1:9/v1/chat/completions';
    const masked = redact(message, []);
    expect(masked).not.toMatch(/u5er|pa55w0rd/);
    expect(masked).toContain('http://***:***@127.0.0.1:9/v1/chat/completions');
    expect(redact('failed at https://gw.example.com/v1?key=sekrit-value-1 (key sk-abcdefghijklmnop)', ['sk-abcdefghijklmnop'])).toBe('failed at https://gw.example.com/v1?key=*** (key sk-...mnop)');
  });

  test('settings stored or printed keep no credential of any URL value', () => {
    const settings = { model: 'm', api_key: 'sk-abcdefghijklmnop', base_url: 'https://gw.example.com/v1?api_key=q-secret', embedding_base_url: 'https://a:b@e.example.com' };
    expect(withoutSecrets(settings)).toEqual({ model: 'm', base_url: 'https://gw.example.com/v1?api_key=***', embedding_base_url: 'https://***:***@e.example.com' });
    expect(withMaskedSecrets(settings)).toMatchObject({ api_key: 'sk-...mnop', base_url: 'https://gw.example.com/v1?api_key=***' });
  });
});

describe('base_url is validated when the config loads', () => {
  const cases: [string, string, RegExp][] = [
    ['no scheme', 'localhost:8000/v1', /must start with http:\/\/ or https:\/\//],
    ['an unknown scheme', 'ftp://models.example.com/v1', /has the scheme `ftp:`/],
    ['a URL that cannot be built', 'http://exa mple.com:99999/v1', /is not a URL that can be built/],
    ['user info', 'https://alice:s3cr3t-pass@gw.example.com/v1', /carries a user name or password/],
    ['user info and no scheme', 'alice:s3cr3t-pass@gw.example.com/v1', /must start with http:\/\/ or https:\/\//],
  ];
  test.each(cases)('%s is one clear error naming file:line, exit 2, without the credential', async (_name, url, reason) => {
    const { dir, path } = configFile(`[llm]\nmodel = "gpt-4o"\napi_key = "sk-test-0000000000000000"\n\n[llm.proxy]\nbase_url = ${JSON.stringify(url)}\n`);
    const result = await bench(['configs', '--config', path], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/config\.toml has 1 error; nothing was run/);
    expect(result.stderr).toMatch(/config\.toml:6 \[llm\.proxy\] `base_url`/);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).not.toContain('s3cr3t-pass');
  });

  test('a bad LLM_BASE_URL says why, without its credential', async () => {
    const { dir, path } = configFile('[llm]\nmodel = "gpt-4o"\n');
    const result = await bench(['configs', '--config', path], { cwd: dir, env: { LLM_BASE_URL: 'gopher://bob:s3cr3t-pass@h/v1' } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/LLM_BASE_URL.*has the scheme `gopher:`/);
    expect(result.stderr).not.toContain('s3cr3t-pass');
  });
});

describe('a base_url key never reaches the screen, the store or an export', () => {
  test('bench configs masks it in text and JSON', async () => {
    const { dir, path } = configFile('[llm]\nmodel = "gpt-4o"\napi_key = "sk-test-0000000000000000"\nbase_url = "https://gw.example.com/v1?api-key=Qm9iLXNlY3JldC1xdWVyeQ"\n');
    for (const extra of [[], ['--json']]) {
      const result = await bench(['configs', '--config', path, ...extra], { cwd: dir });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain('https://gw.example.com/v1?api-key=***');
      expect(result.stdout).not.toContain('Qm9iLXNlY3JldC1xdWVyeQ');
    }
  });

  test('a run against a server reached with ?key= stores and exports the URL masked', async () => {
    const server = await startOracleModel();
    onTestFinished(() => server.close());
    const secret = 'Qm9iLXNlY3JldC1xdWVyeQ';
    const { dir, path } = configFile(
      `[llm.oracle]\nmodel = "openai/gpt-4o-mini"\napi_key = "sk-test-0000000000000000"\nbase_url = "${server.openaiUrl}?key=${secret}"\nnum_retries = 0\n`,
    );
    const db = join(dir, 'bench.db');
    const env = { BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache') };
    const run = await bench(['run', '--config', path, '--configs', 'oracle', '--agent', 'patch', '--instances', 'benchlab__csvkit-1', '--sandbox', 'local', '--run-id', 'urls', '--db', db], { cwd: dir, env });
    expect(run.exitCode, run.stderr).toBe(0);
    const exported = await bench(['export', 'urls', '--config', 'oracle', '--out', join(dir, 'verified'), '--db', db], { cwd: dir, env });
    expect(exported.exitCode, exported.stderr).toBe(0);
    const files = [db, `${db}-wal`, ...readdirSync(join(dir, 'verified')).map((n) => join(dir, 'verified', n))];
    for (const file of files) {
      let bytes = '';
      try {
        bytes = readFileSync(file, 'latin1');
      } catch {
        continue;
      }
      expect(bytes, file).not.toContain(secret);
    }
    const results = JSON.parse(readFileSync(join(dir, 'verified', readdirSync(join(dir, 'verified')).find((n) => n.endsWith('.json'))!), 'utf8'));
    expect(results.config.settings.base_url).toBe(`${server.openaiUrl}?key=***`);
    expect(`${run.stdout}${run.stderr}${exported.stdout}`).not.toContain(secret);
  });
});
