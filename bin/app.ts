/** CDK app entry: one stage of the payment system (context `stage`, default dev), checked by cdk-nag. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks } from 'cdk-nag';
import { createPaymentStacks, stageConfigFromContext } from '../lib/payments-app.js';

const app = new App();
createPaymentStacks(app, {
  ...stageConfigFromContext(app.node),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// cdk-nag 3 runs as a CDK validation plugin: any unacknowledged finding (error or warning) fails the synth.
// Acknowledgments (with their reasons) are also written into the templates' Metadata for auditors.
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
  new PCIDSS321Checks(app, { verbose: true, writeSuppressionsToCloudFormation: true }),
);
app.synth();
