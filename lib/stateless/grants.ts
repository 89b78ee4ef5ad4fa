/** IAM grants written out (instead of the CDK `grant*` helpers) so that each names exactly what a function may do. */
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { TABLE_DESIGN } from '../../functions/adapters/table-design.js';

/**
 * DynamoDB access written out instead of `table.grantReadData`/`grantReadWriteData`: the same actions, but
 * on the named GSIs of TABLE_DESIGN instead of `<table>/index/*`, and KMS actions spelled out instead of
 * `kms:GenerateDataKey*`/`kms:ReEncrypt*`. No wildcard is left to acknowledge.
 */
export function grantTableAccess(
  fn: lambda.IFunction,
  table: dynamodb.ITable,
  mode: 'read' | 'readwrite',
): void {
  const indexArns = TABLE_DESIGN.globalSecondaryIndexes.map(
    (index) => `${table.tableArn}/index/${index.indexName}`,
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
      ],
      resources: [table.tableArn, ...indexArns],
    }),
  );
  if (mode === 'readwrite') {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: [table.tableArn],
      }),
    );
  }
  const key = table.encryptionKey;
  if (!key) throw new Error('grantTableAccess: the table must be encrypted with a customer-managed key');
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions:
        mode === 'read'
          ? ['kms:Decrypt', 'kms:DescribeKey']
          : [
              'kms:Decrypt',
              'kms:DescribeKey',
              'kms:Encrypt',
              'kms:ReEncryptFrom',
              'kms:ReEncryptTo',
              'kms:GenerateDataKey',
              'kms:GenerateDataKeyWithoutPlaintext',
            ],
      resources: [key.keyArn],
    }),
  );
}

/** Query on one named GSI of the table and nothing else: no GetItem, no base table, no writes. */
export function grantIndexQuery(fn: lambda.IFunction, table: dynamodb.ITable, indexName: string): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${table.tableArn}/index/${indexName}`],
    }),
  );
  const key = table.encryptionKey;
  if (!key) throw new Error('grantIndexQuery: the table must be encrypted with a customer-managed key');
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [key.keyArn] }),
  );
}

/**
 * `queue.grantSendMessages` written out: SendMessage only (no GetQueueAttributes/GetQueueUrl, the URL comes
 * from the environment), and the two KMS actions SQS needs from a producer instead of
 * `kms:GenerateDataKey*`/`kms:ReEncrypt*`.
 */
export function grantQueueSend(fn: lambda.IFunction, queue: sqs.IQueue): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  if (!queue.encryptionMasterKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resources: [queue.encryptionMasterKey.keyArn],
    }),
  );
}

/**
 * `secret.grantRead` written out: the secret's own grant adds the function's role to the key policy, which
 * lives in the stateful stack and would make it depend on this one (a cycle). The identity policy alone
 * suffices because the key policy delegates to the account's IAM.
 */
export function grantSecretRead(fn: lambda.IFunction, secret: secretsmanager.ISecret): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: [secret.secretArn],
    }),
  );
  if (!secret.encryptionKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com` },
      },
    }),
  );
}
