import { gatewaySchema } from './001_gateway';
import { unconfirmedIndex } from './002_unconfirmed';
import { newestFirstIndexes } from './003_newest_first';
import { webhookDelivery } from './004_webhook_delivery';
import { overviewCounts } from './005_overview_counts';
import { threads } from './006_threads';
import { favourites } from './007_favourites';
import { foreign } from './008_foreign';

/** The gateway's query tables, migration by migration. */
export const GATEWAY_MIGRATIONS = [gatewaySchema, unconfirmedIndex, newestFirstIndexes, webhookDelivery, overviewCounts, threads, favourites, foreign] as const;
