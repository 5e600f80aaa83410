import type { Logger } from 'pino';
import type { Api } from '../openapi/api';
import type { Services } from '../services';
import { serverSentEventRoutes } from './server-sent-events';
import { type DispatcherOptions, WebhookDispatcher } from './webhook-dispatcher';
import { DEFAULT_WEBHOOK_SETTINGS, webhookRoutes, type WebhookSettings } from './webhooks';

export function pushRoutes(api: Api, services: Services, settings: WebhookSettings = DEFAULT_WEBHOOK_SETTINGS): void {
    api.add(...serverSentEventRoutes(services), ...webhookRoutes(services, settings));
}

export function pushWorkers(services: Services, logger: Logger, options: DispatcherOptions = {}): { stop(): Promise<void> }[] {
    const dispatcher = new WebhookDispatcher(services.pool, logger, options);
    const unsubscribe = services.indexer.onIndexed(() => dispatcher.nudge());
    return [{ stop: async () => { unsubscribe(); await dispatcher.stop(); } }];
}

export { signature, WebhookDispatcher, type DispatcherOptions } from './webhook-dispatcher';
export { parseRange, WebhookAddressPolicy } from './webhook-addresses';
export { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhooks';
