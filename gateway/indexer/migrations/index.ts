import { gatewaySchema } from './001_gateway';
import { unconfirmedIndex } from './002_unconfirmed';

/** The gateway's query tables, migration by migration. */
export const GATEWAY_MIGRATIONS = [gatewaySchema, unconfirmedIndex] as const;
