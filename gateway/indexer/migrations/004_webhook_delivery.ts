import type { Migration } from '../../../network/postgres';

/**
 * Webhook deliveries are leased rather than held in a transaction while their endpoint answers,
 * and their log keeps how long each attempt took. A subscription belongs to its principal's
 * enterprise too: owners of enterprises' subscriptions gain the USCC (their party).
 */
export const webhookDelivery: Migration = {
    id: 4,
    name: 'webhook delivery leases',
    sql: `
ALTER TABLE webhook_deliveries ADD COLUMN lease_until timestamptz;
ALTER TABLE webhook_deliveries ADD COLUMN last_duration_ms integer;
UPDATE webhooks SET owner = 'EnterprisesMSP/' || party || '/' || substr(owner, length('EnterprisesMSP/') + 1)
 WHERE owner LIKE 'EnterprisesMSP/%' AND party <> 'EnterprisesMSP';
`,
};
