export { Adapter, type AdapterHealth, type TickReport, MalformedRecord } from './adapter';
export { type AdapterConfig, AdapterConfigError, parseAdapterConfig, readAdapterConfig } from './config';
export type { Delivery, DocumentItem, FeedPage, HandoffItem, InboxEvent, OutboxItem, Transport } from './feed-contract';
export { HttpFeedTransport, TransportError } from './transports/http-feed';
export { FileDropTransport, parseCsv } from './transports/file-drop';
export { type Faults, SimulatedAgencySystem } from './simulators/agency-system';
export { adapterSchema } from './migrations';
export { AdapterHost, adapterPrincipal } from './host';
