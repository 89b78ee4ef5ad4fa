/**
 * The AWS SDK's credential chain as a Lambda function needs it: Lambda puts the function role's credentials
 * in the environment, so the environment is the only provider that can ever apply there. The Lambda bundles
 * alias `@aws-sdk/credential-provider-node` to this module (lib/constructs/payment-function.ts), which drops
 * the SSO, STS web-identity, INI, process and HTTP providers and their nested clients (about 140 KB of each
 * function). Code run outside a bundle (the local stack, tests, the CLI) keeps the SDK's full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { defaultProvider as fullChain } from '@aws-sdk/credential-provider-node';

/** Reads the environment on each call (cheap), so nothing here can go stale. */
export const defaultProvider: typeof fullChain = (init = {}) => fromEnv(init);
