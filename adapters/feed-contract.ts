/**
 * What an agency system offers its adapter over HTTP (the `http-feed` transport):
 *
 *   GET  {system}/feed/outbox?after=<cursor>&limit=<n>  → { items: OutboxItem[], next: string }
 *        what the agency did: documents it issued, handoffs it sent, permits it verified (customs),
 *        foreign certificates it received (customs, inspection)
 *   GET  {system}/feed/inbox?after=<cursor>&limit=<n>   → { items: InboxEvent[], next: string }
 *        what the agency received and what it decided about it, oldest first
 *   POST {system}/inbox  (a Delivery)                    → { stored: boolean, payloadHash?: string }
 *        a relayed payload; the answer is the SHA-256 of what the agency actually stored
 *
 * Cursors are the agency's own, opaque to the adapter; `next` is where the following call starts.
 */

export interface DocumentItem {
    readonly kind: 'document';
    readonly type: string;
    readonly number: string;
    readonly holder: string;
    readonly validFrom: string;
    readonly validTo: string;
    readonly summary?: Readonly<Record<string, string>>;
    readonly permit?: unknown;
    /** The document's content, base64: it goes to the ledger's private data collection. */
    readonly content: string;
}

export interface HandoffItem {
    readonly kind: 'handoff';
    readonly messageId: string;
    readonly recipient: string;
    readonly subject: string;
    readonly document: { readonly type: string; readonly number: string };
    /** Relay mode: the payload itself, base64. Observe mode: only its hash and size. */
    readonly payload?: string;
    readonly payloadHash?: string;
    readonly size?: number;
}

/** Customs only: a permit quoted on a declaration, to verify (and draw down) on the ledger. */
export interface VerificationItem {
    readonly kind: 'verification';
    readonly declarationNumber: string;
    readonly permit: { readonly type: string; readonly number: string };
    readonly holder: string;
    readonly direction: 'IMPORT' | 'EXPORT';
    readonly goods: readonly { readonly hsCode: string; readonly quantity: number; readonly unit: string }[];
    readonly declaredAt: string;
    readonly port: string;
}

/** Customs and inspection only: a certificate a foreign authority signed, as received (its signature is checked on the way to the ledger). */
export interface ForeignCertificateItem {
    readonly kind: 'foreign-certificate';
    /** The signed XML, base64, byte for byte as the authority sent it. */
    readonly xml: string;
}

export type OutboxItem = DocumentItem | HandoffItem | VerificationItem | ForeignCertificateItem;

export interface InboxEvent {
    readonly kind: 'RECEIVED' | 'DECIDED';
    readonly sender: string;
    readonly messageId: string;
    /** RECEIVED: the SHA-256 of what the agency holds. */
    readonly payloadHash?: string;
    /** DECIDED: the agency's business decision. */
    readonly decision?: 'ACCEPTED' | 'REJECTED';
    readonly reasonCode?: string;
    readonly text?: string;
}

export interface Delivery {
    readonly sender: string;
    readonly messageId: string;
    readonly subject: string;
    readonly document: { readonly type: string; readonly number: string };
    readonly payload: string;
}

export interface FeedPage<T> {
    readonly items: readonly T[];
    readonly next: string;
}

/** How an adapter reaches its agency system, whatever the medium. */
export interface Transport {
    outbox(after: string, limit: number): Promise<FeedPage<unknown>>;
    inbox(after: string, limit: number): Promise<FeedPage<unknown>>;
    deliver(delivery: Delivery): Promise<{ stored: boolean; payloadHash?: string }>;
    /** Told once the ledger took everything up to `cursor` in a feed (e.g. to file away what was read). */
    committed(feed: 'outbox' | 'inbox', cursor: string): Promise<void>;
    /** What the agency has dropped and the adapter not yet read, where the transport can tell. */
    waiting?(): Promise<number>;
}
