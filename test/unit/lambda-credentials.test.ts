/** The credential chain of the Lambda bundles: the function role's credentials, read from the environment. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { defaultProvider } from '../../functions/adapters/lambda-credentials.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('Lambda credentials', () => {
  it('signs with the credentials Lambda puts in the environment, session token included', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
    process.env.AWS_SESSION_TOKEN = 'session-example';
    const credentials = await defaultProvider()();
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-example',
      sessionToken: 'session-example',
    });
  });

  it('reads the environment again on each call, so rotated credentials are used at once', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'ASIAFIRST';
    process.env.AWS_SECRET_ACCESS_KEY = 'first';
    const provider = defaultProvider();
    expect((await provider()).accessKeyId).toBe('ASIAFIRST');
    process.env.AWS_ACCESS_KEY_ID = 'ASIASECOND';
    expect((await provider()).accessKeyId).toBe('ASIASECOND');
  });

  it('fails clearly when the environment holds no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await expect(defaultProvider()()).rejects.toThrow(/credentials/i);
  });
});
