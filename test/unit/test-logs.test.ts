/** The test run's log level: below WARN off unless asked for, WARN and ERROR always shown. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { quietTestLogs } from '../support/test-logs.js';

const LOGGER = pathToFileURL(path.resolve('functions/handlers/logger.ts')).href;

/** The levels the handlers' own logger prints in a fresh process with this environment. */
function printedLevels(env: NodeJS.ProcessEnv): string[] {
  const script = `const { logger } = await import(${JSON.stringify(LOGGER)});
for (const level of ['debug', 'info', 'warn', 'error']) logger[level]('probe');`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env,
  });
  if (child.status !== 0) throw new Error(child.stderr);
  return `${child.stdout}${child.stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { level: string }).level);
}

function runEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...extra };
  quietTestLogs(env);
  return env;
}

describe('test run logs', () => {
  it('are WARN and above unless asked for', () => {
    expect(printedLevels(runEnv())).toEqual(['WARN', 'ERROR']);
  });

  it('keep the functions’ own level (INFO) with TEST_LOGS=1', () => {
    expect(printedLevels(runEnv({ TEST_LOGS: '1' }))).toEqual(['INFO', 'WARN', 'ERROR']);
  });

  it('use a level asked for by name', () => {
    expect(printedLevels(runEnv({ LOG_LEVEL: 'DEBUG' }))).toEqual(['DEBUG', 'INFO', 'WARN', 'ERROR']);
    expect(printedLevels(runEnv({ POWERTOOLS_LOG_LEVEL: 'ERROR' }))).toEqual(['ERROR']);
  });

  it('leave an environment alone that already asks for something', () => {
    const env: NodeJS.ProcessEnv = { TEST_LOGS: '1' };
    quietTestLogs(env);
    expect(env).toEqual({ TEST_LOGS: '1' });
  });
});
