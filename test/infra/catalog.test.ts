/** Infra: the REST API the stateless stack builds has exactly the catalog's routes, each on its function. */
import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { functionsOf } from '../../functions/catalog.js';
import { createPaymentStacks } from '../../lib/payments-app.js';

const { stateless } = createPaymentStacks(new App(), {
  stage: 'test',
  costServiceUrl: 'https://cost.merchant.test',
  kbankBaseUrl: 'https://dev-kpaymentgateway-services.kasikornbank.com',
  codeFor: () => lambda.Code.fromInline('export const handler = async () => ({});'),
});
const methods = stateless.api.methods;
const key = (method: apigw.Method) => `${method.httpMethod} ${method.resource.path}`;

describe('the REST API and the catalog', () => {
  it('has a method for every API function of the catalog, and no other', () => {
    const routes = functionsOf('api').map(({ route }) => `${route.method} ${route.path}`);
    expect(methods.map(key).sort()).toEqual([...routes].sort());
  });

  it('integrates each route with its own function, behind the authorizer only when the catalog says so', () => {
    for (const { name, route } of functionsOf('api')) {
      const method = methods.find((candidate) => key(candidate) === `${route.method} ${route.path}`);
      const properties = method?.node.defaultChild as apigw.CfnMethod;
      const uri = stateless.resolve((properties.integration as apigw.CfnMethod.IntegrationProperty).uri);
      const functionId = stateless.getLogicalId(
        stateless.functions[name].node.defaultChild as lambda.CfnFunction,
      );
      expect({ name, uri: JSON.stringify(uri).includes(functionId) }).toEqual({ name, uri: true });
      expect({ name, authorization: properties.authorizationType }).toEqual({
        name,
        authorization: route.auth === 'merchant' ? 'CUSTOM' : 'NONE',
      });
    }
  });
});
