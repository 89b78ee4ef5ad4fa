/** The structured (JSON) logger every handler uses, with the Lambda context injected per invocation. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'payments' });

/** Adds request id, function name and cold start to every log line; clears per-request keys afterwards. */
export const withLogContext = () => injectLambdaContext(logger, { resetKeys: true });
