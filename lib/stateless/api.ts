/**
 * The REST API: stage, access logs and throttling, the TOKEN authorizer, one Lambda proxy route per API
 * function of the catalog, gateway errors as RFC 9457 problems, and the WAF in front.
 */
import { ArnFormat, Duration, type RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { CATALOG, type FunctionName, functionsOf, type Route } from '../../functions/catalog.js';
import { API_KEY_PATTERN } from '../../functions/core/api-keys.js';
import { ERROR_CODES, type ErrorCode, STATUS_TITLES } from '../../functions/core/errors.js';
import { PLAN_NAMES, PLANS } from '../../functions/core/plans.js';
import { PAYMENT_FUNCTION_DEFAULTS } from '../constructs/payment-function.js';

/** Base of the RFC 9457 `type` of every problem, as the handlers write it (functions/handlers/http.ts). */
export const PROBLEM_TYPE_BASE = '/problems/';

/** The 3-D Secure return route (`POST`, no authorizer); the KBank notify is its parent, `/v1/webhooks/kbank`. */
export const BROWSER_RETURN_PATH = CATALOG['api-kbank-return'].route.path;

/** Where KBank's two unauthenticated callbacks live (the notify and the 3-D Secure return). */
export const KBANK_CALLBACKS_PATH = CATALOG['api-kbank-webhook'].route.path;

/**
 * The WAF's per-source limits, requests a minute: everything (the stage's 200/s), and KBank's callbacks
 * (100/s: KBank's notifies at the 100 TPS peak come from few addresses).
 */
export const DEFAULT_WAF_RATE_LIMITS = { perIp: 12_000, kbankCallbacksPerIp: 6_000 };

export interface PaymentApiProps {
  stage: string;
  functions: Record<FunctionName, lambda.IFunction>;
  logEncryptionKey: kms.IKey;
  logRemovalPolicy: RemovalPolicy;
  logRetention: logs.RetentionDays;
  /** Stage-wide throttling. Default 200 requests/s, burst 400. */
  throttling?: { rateLimit: number; burstLimit: number };
  /** Per-route throttling of the unauthenticated 3-D Secure return. Default 50 requests/s, burst 100. */
  browserReturnThrottling?: { rateLimit: number; burstLimit: number };
  /** TOKEN authorizer result cache (StatelessStackProps.authorizerCacheTtl). Default 60 s. */
  authorizerCacheTtl?: Duration;
  /** AWS WAF with AWS managed rule groups in front of the API. Default true. */
  waf?: boolean;
  /** The WAF's rate-based rules per source IP (requests a minute). Default DEFAULT_WAF_RATE_LIMITS. */
  wafRateLimits?: Partial<typeof DEFAULT_WAF_RATE_LIMITS>;
}

export function paymentApi(stack: Stack, props: PaymentApiProps): apigw.RestApi {
  const accessLogs = new logs.LogGroup(stack, 'ApiAccessLogs', {
    retention: props.logRetention,
    encryptionKey: props.logEncryptionKey,
    removalPolicy: props.logRemovalPolicy,
  });
  const throttling = props.throttling ?? { rateLimit: 200, burstLimit: 400 };
  const browserReturnThrottling = props.browserReturnThrottling ?? { rateLimit: 50, burstLimit: 100 };

  const api = new apigw.RestApi(stack, 'Api', {
    restApiName: `payments-${props.stage}`,
    description: 'Payments REST API, versioned under /v1',
    endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
    // Usage plans count merchants by the usage key the authorizer returns (functions/core/plans.ts).
    apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER,
    // The account-level role API Gateway needs to write execution logs.
    cloudWatchRole: true,
    deployOptions: {
      stageName: props.stage,
      tracingEnabled: true,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigw.AccessLogFormat.custom(
        JSON.stringify({
          requestId: apigw.AccessLogField.contextRequestId(),
          requestTime: apigw.AccessLogField.contextRequestTime(),
          ip: apigw.AccessLogField.contextIdentitySourceIp(),
          httpMethod: apigw.AccessLogField.contextHttpMethod(),
          resourcePath: apigw.AccessLogField.contextResourcePath(),
          status: apigw.AccessLogField.contextStatus(),
          responseLength: apigw.AccessLogField.contextResponseLength(),
          responseLatency: apigw.AccessLogField.contextResponseLatency(),
          integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
          // The merchant id (never the API key): who called, for support and abuse tracing.
          merchantId: apigw.AccessLogField.contextAuthorizerPrincipalId(),
          error: apigw.AccessLogField.contextErrorMessage(),
          xrayTraceId: apigw.AccessLogField.contextXrayTraceId(),
        }),
      ),
      // Above every merchant's plan (usagePlans below): this protects the account-wide Lambda concurrency.
      throttlingRateLimit: throttling.rateLimit,
      throttlingBurstLimit: throttling.burstLimit,
      methodOptions: {
        // Unauthenticated, and every accepted post costs the processor a KBank inquiry: a flood of
        // made-up charge ids must not use up our KBank rate or the stage's whole budget.
        [`${BROWSER_RETURN_PATH}/POST`]: {
          throttlingRateLimit: browserReturnThrottling.rateLimit,
          throttlingBurstLimit: browserReturnThrottling.burstLimit,
        },
      },
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      // Never log request/response bodies: they carry card tokens and customer data.
      dataTraceEnabled: false,
      metricsEnabled: true,
    },
  });
  addProblemResponses(api);
  addRoutes(stack, api, props);
  addUsagePlans(api, props.stage);

  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-COG4',
      reason:
        'Merchants are server-to-server clients authenticated by API key through the Lambda TOKEN authorizer; there are no Cognito users.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The AWS-documented policy of the account-level role API Gateway uses to write execution logs.',
    },
    {
      id: 'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
      reason:
        'Response caching is off on purpose: payment reads must be fresh and writes are never cacheable, so no payment data rests in an API cache.',
    },
    {
      id: 'PCI.DSS.321-APIGWSSLEnabled',
      reason:
        'Client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda proxy invoked through IAM.',
    },
  );

  if (props.waf ?? true) attachWaf(stack, api, props);
  return api;
}

/**
 * One method per API function of the catalog, in catalog order. `merchant` routes run the authorizer and
 * the request validator; public ones run neither, and record why they may be public.
 */
function addRoutes(stack: Stack, api: apigw.RestApi, props: PaymentApiProps): void {
  const validator = api.addRequestValidator('RequestValidator', {
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  // Cheap shape check only (a JSON object); the handler's zod schema is the real validation.
  const jsonObject = api.addModel('JsonObject', {
    contentType: 'application/json',
    modelName: 'JsonObject',
    schema: { schema: apigw.JsonSchemaVersion.DRAFT4, type: apigw.JsonSchemaType.OBJECT },
  });
  const authorizer = new apigw.TokenAuthorizer(stack, 'Authorizer', {
    handler: props.functions['api-authorizer'],
    identitySource: apigw.IdentitySource.header('Authorization'),
    // Malformed credentials are refused by API Gateway itself, without invoking the authorizer.
    validationRegex: `^Bearer ${API_KEY_PATTERN.source.replace(/^\^/, '')}`,
    resultsCacheTtl: props.authorizerCacheTtl ?? Duration.seconds(60),
  });

  for (const { name, route } of functionsOf('api')) {
    const integration = new apigw.LambdaIntegration(props.functions[name], {
      proxy: true,
      allowTestInvoke: false,
    });
    const resource = api.root.resourceForPath(route.path);
    if (route.auth === 'merchant') {
      const requestParameters = requestParametersOf(route);
      resource.addMethod(route.method, integration, {
        authorizer,
        authorizationType: apigw.AuthorizationType.CUSTOM,
        // Held to the merchant's usage plan: the authorizer names its usage key.
        apiKeyRequired: true,
        requestValidator: validator,
        ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
        ...(route.jsonObjectBody ? { requestModels: { 'application/json': jsonObject } } : {}),
      });
      continue;
    }
    const method = resource.addMethod(route.method, integration, {
      authorizationType: apigw.AuthorizationType.NONE,
    });
    const reason = route.publicBecause ?? '';
    if (!reason) throw new Error(`${name}: a public route needs publicBecause in functions/catalog.ts`);
    Validations.of(method).acknowledge(
      { id: 'AwsSolutions-APIG4', reason },
      { id: 'AwsSolutions-COG4', reason },
    );
  }
}

/**
 * One usage plan per merchant plan (functions/core/plans.ts), named `payments-<stage>-<plan>`: `npm run
 * merchant` puts each merchant's usage key in its plan's (functions/adapters/api-gateway-usage-plans.ts).
 */
function addUsagePlans(api: apigw.RestApi, stage: string): void {
  for (const name of PLAN_NAMES) {
    const plan = PLANS[name];
    api.addUsagePlan(`UsagePlan-${name}`, {
      name: `payments-${stage}-${name}`,
      description: `Merchant plan ${name} (functions/core/plans.ts)`,
      throttle: { rateLimit: plan.rateLimit, burstLimit: plan.burstLimit },
      ...(plan.dailyQuota === undefined
        ? {}
        : { quota: { limit: plan.dailyQuota, period: apigw.Period.DAY } }),
      apiStages: [{ api, stage: api.deploymentStage }],
    });
  }
}

/** Path parameters are required, query parameters optional; the handler's zod schema validates both. */
function requestParametersOf(route: Route): Record<string, boolean> {
  const parameters: Record<string, boolean> = {};
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) parameters[`method.request.path.${name}`] = true;
  for (const name of route.query ?? []) parameters[`method.request.querystring.${name}`] = false;
  return parameters;
}

/** Gateway-generated errors in the same RFC 9457 shape as the handlers' (schemas/api.ts ProblemSchema). */
function addProblemResponses(api: apigw.RestApi): void {
  // Codes, statuses and titles of the taxonomy (functions/core/errors.ts), so clients see one vocabulary
  // whoever answered, and every `type` has its page.
  const responses: [apigw.ResponseType, ErrorCode][] = [
    [apigw.ResponseType.UNAUTHORIZED, 'unauthorized'],
    [apigw.ResponseType.ACCESS_DENIED, 'forbidden'],
    // API Gateway's answer to an unknown route: a 404 to clients.
    [apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'resource_not_found'],
    [apigw.ResponseType.RESOURCE_NOT_FOUND, 'resource_not_found'],
    [apigw.ResponseType.BAD_REQUEST_BODY, 'validation_failed'],
    [apigw.ResponseType.BAD_REQUEST_PARAMETERS, 'validation_failed'],
    [apigw.ResponseType.REQUEST_TOO_LARGE, 'payload_too_large'],
    [apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type'],
    [apigw.ResponseType.THROTTLED, 'rate_limited'],
    [apigw.ResponseType.QUOTA_EXCEEDED, 'quota_exceeded'],
    [apigw.ResponseType.WAF_FILTERED, 'forbidden'],
    [apigw.ResponseType.INTEGRATION_TIMEOUT, 'upstream_timeout'],
    [apigw.ResponseType.DEFAULT_4XX, 'bad_request'],
    [apigw.ResponseType.DEFAULT_5XX, 'internal_error'],
  ];
  // API Gateway cannot compute when a bucket refills: a second for the rate, an hour for the day's quota
  // (the local stack answers the exact figure; docs/api.md "Rate limits").
  const retryAfter: Partial<Record<ErrorCode, string>> = { rate_limited: "'1'", quota_exceeded: "'3600'" };
  for (const [type, code] of responses) {
    const { status } = ERROR_CODES[code];
    // Hand-written JSON: $context.error.messageString is already a quoted JSON string.
    const body = `{"type":"${PROBLEM_TYPE_BASE}${code}","title":"${STATUS_TITLES[status]}","status":${status},"code":"${code}","detail":$context.error.messageString}`;
    const wait = retryAfter[code];
    api.addGatewayResponse(`Problem${type.responseType}`, {
      type,
      statusCode: String(status),
      responseHeaders: {
        'Content-Type': "'application/problem+json'",
        ...(wait === undefined ? {} : { 'Retry-After': wait }),
      },
      templates: { 'application/json': body, 'application/problem+json': body },
    });
  }
}

function attachWaf(stack: Stack, api: apigw.RestApi, props: PaymentApiProps): void {
  const stage = props.stage;
  const visibility = (metricName: string) => ({
    cloudWatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: false,
  });
  const managedRule = (
    name: string,
    priority: number,
    ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[],
  ): wafv2.CfnWebACL.RuleProperty => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(ruleActionOverrides ? { ruleActionOverrides } : {}),
      },
    },
    visibilityConfig: visibility(name),
  });
  const limits = { ...DEFAULT_WAF_RATE_LIMITS, ...props.wafRateLimits };
  /** Blocks a source IP above `limit` requests a minute (of those `scopeDown` selects, if given). */
  const rateRule = (
    name: string,
    priority: number,
    limit: number,
    scopeDownStatement?: wafv2.CfnWebACL.StatementProperty,
  ): wafv2.CfnWebACL.RuleProperty => ({
    name,
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit,
        evaluationWindowSec: 60,
        aggregateKeyType: 'IP',
        ...(scopeDownStatement ? { scopeDownStatement } : {}),
      },
    },
    visibilityConfig: visibility(name),
  });
  const webAcl = new wafv2.CfnWebACL(stack, 'ApiWaf', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    // Sampled requests would show Authorization headers (API keys) in the console: off.
    visibilityConfig: {
      cloudWatchMetricsEnabled: true,
      metricName: `payments-${stage}-api`,
      sampledRequestsEnabled: false,
    },
    rules: [
      managedRule('AWSManagedRulesAmazonIpReputationList', 0),
      managedRule('AWSManagedRulesKnownBadInputsRuleSet', 1),
      // Its body-size rule blocks bodies over 8 KB, while the API takes up to 64 KiB (the handlers refuse
      // larger ones with 413 payload_too_large): counted, not blocked.
      managedRule('AWSManagedRulesCommonRuleSet', 2, [
        { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
      ]),
      // KBank's callbacks need no credentials: one source may send them at KBank's own peak, no faster.
      rateRule('RateLimitKbankCallbacksPerIp', 3, limits.kbankCallbacksPerIp, {
        byteMatchStatement: {
          fieldToMatch: { uriPath: {} },
          positionalConstraint: 'CONTAINS',
          searchString: KBANK_CALLBACKS_PATH,
          textTransformations: [{ priority: 0, type: 'NONE' }],
        },
      }),
      // Above every merchant's plan: a source this fast is a flood, whatever its key.
      rateRule('RateLimitPerIp', 4, limits.perIp),
    ],
  });
  new wafv2.CfnWebACLAssociation(stack, 'ApiWafAssociation', {
    resourceArn: api.deploymentStage.stageArn,
    webAclArn: webAcl.attrArn,
  });

  // WAF only delivers to log groups with this prefix.
  const wafLogGroupName = `aws-waf-logs-payments-${stage}`;
  const wafLogs = new logs.LogGroup(stack, 'ApiWafLogs', {
    logGroupName: wafLogGroupName,
    retention: PAYMENT_FUNCTION_DEFAULTS.logRetention,
    encryptionKey: props.logEncryptionKey,
    removalPolicy: props.logRemovalPolicy,
  });
  const wafLogging = new wafv2.CfnLoggingConfiguration(stack, 'ApiWafLogging', {
    resourceArn: webAcl.attrArn,
    // The log group ARN without the `:*` suffix that its Arn attribute carries.
    logDestinationConfigs: [
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: wafLogGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
    // API keys must never reach a log.
    redactedFields: [{ singleHeader: { Name: 'authorization' } }],
    // Blocked and counted requests only: logging every allowed request would cost more than it tells.
    loggingFilter: {
      DefaultBehavior: 'DROP',
      Filters: [
        {
          Behavior: 'KEEP',
          Requirement: 'MEETS_ANY',
          Conditions: [{ ActionCondition: { Action: 'BLOCK' } }, { ActionCondition: { Action: 'COUNT' } }],
        },
      ],
    },
  });
  wafLogging.node.addDependency(wafLogs);
}
