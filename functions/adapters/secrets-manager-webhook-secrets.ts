/**
 * Webhook signing secrets in AWS Secrets Manager: one secret per endpoint, `<prefix><endpoint id>`,
 * encrypted with the stack's KMS key, its SecretString `{current, previous?, previousExpiresAt?}`. Nothing
 * else stores a secret: the table holds only the rotation dates. Reads are cached for a minute per
 * container (a rotation's new secret therefore signs within a minute; the previous one signs for a day).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { StoredSecrets, WebhookSecrets } from '../core/webhooks/endpoints.js';

const CACHE_MS = 60_000;

export class SecretsManagerWebhookSecrets implements WebhookSecrets {
  private readonly cache = new Map<string, { secrets: StoredSecrets; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    /** e.g. `payments/prod/webhooks/`: the IAM policies name this prefix. */
    private readonly prefix: string,
    private readonly kmsKeyId: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private name(endpointId: string): string {
    return `${this.prefix}${endpointId}`;
  }

  async put(endpointId: string, secrets: StoredSecrets): Promise<void> {
    const value = JSON.stringify(secrets);
    this.cache.delete(endpointId);
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: this.name(endpointId),
          SecretString: value,
          Description: 'Webhook endpoint signing secrets (current, and the previous during a rotation)',
          ...(this.kmsKeyId ? { KmsKeyId: this.kmsKeyId } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      await this.client.send(
        new PutSecretValueCommand({ SecretId: this.name(endpointId), SecretString: value }),
      );
    }
  }

  async get(endpointId: string): Promise<StoredSecrets | null> {
    const cached = this.cache.get(endpointId);
    if (cached && cached.until > this.now()) return cached.secrets;
    try {
      const { SecretString } = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.name(endpointId) }),
      );
      if (!SecretString) return null;
      const secrets = JSON.parse(SecretString) as StoredSecrets;
      this.cache.set(endpointId, { secrets, until: this.now() + CACHE_MS });
      return secrets;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return null;
      throw error;
    }
  }

  async delete(endpointId: string): Promise<void> {
    this.cache.delete(endpointId);
    try {
      await this.client.send(
        new DeleteSecretCommand({ SecretId: this.name(endpointId), ForceDeleteWithoutRecovery: true }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
