/** Task tokens: signed, so a spent token (TaskTimedOut) is told from a made-up one (InvalidToken) with no bookkeeping. */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/** $$.Task.Token resolves to this; each task entry swaps in a fresh token. */
export const TOKEN_PLACEHOLDER = '__asl_runner_task_token__';

export interface TokenIssuer {
  issue(executionName: string): string;
  isOurs(token: string): boolean;
}

export function createTokenIssuer(): TokenIssuer {
  const key = randomBytes(32);
  let counter = 0;
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    issue(executionName) {
      counter += 1;
      const payload = Buffer.from(JSON.stringify({ e: executionName, n: counter, r: randomUUID() })).toString(
        'base64url',
      );
      return `${payload}.${sign(payload)}`;
    },
    isOurs(token) {
      const [payload, signature, ...rest] = token.split('.');
      return (
        rest.length === 0 && payload !== undefined && signature !== undefined && sign(payload) === signature
      );
    },
  };
}
