import { withheldSha256 } from '@counterfoil/chaincode';
import type { ChaincodeProposal, ChaincodeResponse, ChaincodeStub, Iterators, SerializedIdentity, SplitCompositekey, StateQueryResponse, Timestamp } from 'fabric-shim-api';
import Long from 'long';
import type { KeyRead, KeyWrite, MetadataWrite, RangeRead, ReadWriteSet, Version } from '../storage/blocks';
import { sha256Hex, stateId } from '../storage/blocks';
import { compareKeys, createCompositeKey, EMPTY_KEY_SUBSTITUTE, MAX_UNICODE_RUNE, splitCompositeKey } from './composite-keys';
import type { HistoryEntry, PrivateWrite, StateEntry } from '../storage/store';

/**
 * The committed state a simulation reads: the ledger's store, or on a network node the store
 * with the writes of the block's earlier transactions laid over it.
 */
export interface StateView {
    /** The chaincode's namespace. */
    readonly namespace: string;
    getState(namespace: string, key: string): Promise<StateEntry | undefined>;
    getValidationParameter(namespace: string, key: string): Promise<Buffer | undefined>;
    /** Keys in [startKey, endKey) in bytewise order; an empty endKey means no upper bound. */
    range(namespace: string, startKey: string, endKey: string, limit: number): Promise<StateEntry[]>;
    /** A key's changes, newest first. */
    history(namespace: string, key: string): Promise<HistoryEntry[]>;
    getPrivate(collection: string, key: string): Promise<Buffer | undefined>;
}

export interface StubOptions {
    readonly store: StateView;
    readonly channel: string;
    readonly transactionId: string;
    readonly timestamp: Date;
    readonly creator: { readonly mspId: string; readonly certificate: string };
    readonly arguments: readonly string[];
    readonly transient: ReadonlyMap<string, Uint8Array>;
    readonly collections: ReadonlySet<string>;
    /**
     * Refuse reads of private data values (a transaction ordered on the network: only the
     * members of a collection hold its values, and every node must come to the same result).
     */
    readonly refusePrivateReads?: boolean;
}

export interface Simulation {
    readonly readWriteSet: ReadWriteSet;
    readonly privateWrites: PrivateWrite[];
    readonly event?: { readonly name: string; readonly payload: Uint8Array };
    readonly paginated: boolean;
}

/** Why Fabric would refuse to endorse a simulation, or undefined when it would not. */
export function endorsementProblem(simulation: Simulation): string | undefined {
    if (simulation.paginated && simulation.readWriteSet.writes.length > 0) {
        return 'paginated queries are not allowed in transactions that write';
    }
    return undefined;
}

/** The namespace that holds the hashes of one collection's private data, as Fabric names it. */
export function hashedNamespace(namespace: string, collection: string): string {
    return `${namespace}$$h${collection}`;
}

const RANGE_LIMIT = 100_000;

type KV = Iterators.KV;

/**
 * A ChaincodeStub over committed state with Fabric's simulation semantics: reads see committed
 * state only (never the transaction's own writes) and are recorded with their versions; range
 * reads are recorded for phantom detection; writes, key-level endorsement policies, private
 * data and the event are collected for the block.
 */
export class EmbeddedStub implements ChaincodeStub {
    private readonly reads = new Map<string, KeyRead>();
    private readonly rangeReads: RangeRead[] = [];
    private readonly writes = new Map<string, KeyWrite>();
    private readonly metadataWrites = new Map<string, MetadataWrite>();
    private readonly privateWrites = new Map<string, PrivateWrite>();
    private event?: { name: string; payload: Uint8Array };
    private failure?: Error;
    private paginated = false;

    constructor(private readonly options: StubOptions) {}

    results(): Simulation {
        return {
            readWriteSet: {
                reads: [...this.reads.values()],
                rangeReads: this.rangeReads,
                writes: [...this.writes.values()],
                metadataWrites: [...this.metadataWrites.values()],
            },
            privateWrites: [...this.privateWrites.values()],
            event: this.event,
            paginated: this.paginated,
        };
    }

    private get namespace(): string {
        return this.options.store.namespace;
    }

    getArgs(): string[] {
        return [...this.options.arguments];
    }

    getStringArgs(): string[] {
        return [...this.options.arguments];
    }

    getBufferArgs(): Buffer[] {
        return this.options.arguments.map((argument) => Buffer.from(argument, 'utf8'));
    }

    getFunctionAndParameters(): { params: string[]; fcn: string } {
        const [fcn = '', ...params] = this.options.arguments;
        return { fcn, params };
    }

    getTxID(): string {
        return this.options.transactionId;
    }

    getChannelID(): string {
        return this.options.channel;
    }

    getCreator(): SerializedIdentity {
        return { mspid: this.options.creator.mspId, idBytes: Buffer.from(this.options.creator.certificate, 'utf8') };
    }

    getMspID(): string {
        // The MSP of the peer that executes the chaincode; on the embedded ledger, the caller's.
        return this.options.creator.mspId;
    }

    getTransient(): Map<string, Uint8Array> {
        return new Map(this.options.transient);
    }

    getSignedProposal(): ChaincodeProposal.SignedProposal {
        throw new Error('getSignedProposal: the embedded ledger has no protobuf proposal; use getCreator and getTxTimestamp');
    }

    getTxTimestamp(): Timestamp {
        const millis = this.options.timestamp.getTime();
        return { seconds: Long.fromNumber(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 };
    }

    getDateTimestamp(): Date {
        return new Date(this.options.timestamp.getTime());
    }

    getBinding(): string {
        return sha256Hex(this.options.transactionId);
    }

    async getState(key: string): Promise<Uint8Array> {
        checkSimpleOrCompositeKey(key);
        const entry = await this.read(this.namespace, key);
        return entry ? Uint8Array.from(entry.value) : new Uint8Array(0);
    }

    async putState(key: string, value: Uint8Array): Promise<void> {
        checkSimpleOrCompositeKey(key);
        if (!value || value.length === 0) {
            // Fabric treats an empty value as a delete.
            return this.deleteState(key);
        }
        this.writes.set(stateId(this.namespace, key), { namespace: this.namespace, key, value: Buffer.from(value).toString('base64'), isDelete: false });
    }

    async deleteState(key: string): Promise<void> {
        checkSimpleOrCompositeKey(key);
        this.writes.set(stateId(this.namespace, key), { namespace: this.namespace, key, isDelete: true });
    }

    async setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
        checkSimpleOrCompositeKey(key);
        this.metadataWrites.set(key, { namespace: this.namespace, key, validationParameter: Buffer.from(ep).toString('base64') });
    }

    async getStateValidationParameter(key: string): Promise<Uint8Array> {
        checkSimpleOrCompositeKey(key);
        await this.read(this.namespace, key);
        return Uint8Array.from((await this.fromStore(this.options.store.getValidationParameter(this.namespace, key))) ?? Buffer.alloc(0));
    }

    getStateByRange(startKey: string, endKey: string): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        if (startKey.startsWith('\u0000') || endKey.startsWith('\u0000')) {
            return iterable(Promise.reject(new Error('getStateByRange takes simple keys; use getStateByPartialCompositeKey for composite keys')));
        }
        return iterable(this.scan(startKey || EMPTY_KEY_SUBSTITUTE, endKey, undefined).then(({ entries }) => entries));
    }

    getStateByRangeWithPagination(startKey: string, endKey: string, pageSize: number, bookmark?: string): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
        return paged(this.scan(bookmark || startKey || EMPTY_KEY_SUBSTITUTE, endKey, pageSize));
    }

    getStateByPartialCompositeKey(objectType: string, attributes: string[]): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        const startKey = createCompositeKey(objectType, attributes);
        return iterable(this.scan(startKey, startKey + MAX_UNICODE_RUNE, undefined).then(({ entries }) => entries));
    }

    getStateByPartialCompositeKeyWithPagination(objectType: string, attributes: string[], pageSize: number, bookmark?: string): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
        const startKey = createCompositeKey(objectType, attributes);
        const endKey = startKey + MAX_UNICODE_RUNE;
        if (bookmark && (compareKeys(bookmark, startKey) < 0 || compareKeys(bookmark, endKey) >= 0)) {
            return paged(Promise.reject(new Error('bookmark does not belong to this query')));
        }
        return paged(this.scan(bookmark || startKey, endKey, pageSize));
    }

    getQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        return iterable(Promise.reject(new Error('rich queries are not supported: the ledger uses a LevelDB-style key-value state')));
    }

    getQueryResultWithPagination(): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
        return paged(Promise.reject(new Error('rich queries are not supported: the ledger uses a LevelDB-style key-value state')));
    }

    getHistoryForKey(key: string): Promise<Iterators.HistoryQueryIterator> & AsyncIterable<Iterators.KeyModification> {
        const entries = this.fromStore(this.options.store.history(this.namespace, key)).then((history) => history.map((entry) => {
            const millis = Date.parse(entry.timestamp);
            return {
                isDelete: entry.isDelete, value: Uint8Array.from(entry.value), txId: entry.transactionId,
                timestamp: { seconds: Long.fromNumber(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 },
            };
        }));
        return iterable(entries);
    }

    async invokeChaincode(): Promise<ChaincodeResponse> {
        throw new Error('invokeChaincode is not supported: Counterfoil runs as a single chaincode');
    }

    setEvent(name: string, payload: Uint8Array): void {
        if (!name) {
            throw new Error('event name must be a non-empty string');
        }
        this.event = { name, payload: Uint8Array.from(payload) };
    }

    createCompositeKey(objectType: string, attributes: string[]): string {
        return createCompositeKey(objectType, attributes);
    }

    splitCompositeKey(compositeKey: string): SplitCompositekey {
        return splitCompositeKey(compositeKey);
    }

    async getPrivateData(collection: string, key: string): Promise<Uint8Array> {
        this.checkCollection(collection);
        if (this.options.refusePrivateReads) {
            throw new Error(`private data of ${collection} is read by queries at a member's node, never by an ordered transaction: not every node holds it`);
        }
        // Reading private data is recorded as a read of its hash, as on Fabric.
        await this.read(hashedNamespace(this.namespace, collection), sha256Hex(key));
        const value = await this.fromStore(this.options.store.getPrivate(collection, key));
        return value ? Uint8Array.from(value) : new Uint8Array(0);
    }

    async getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
        this.checkCollection(collection);
        const entry = await this.read(hashedNamespace(this.namespace, collection), sha256Hex(key));
        return entry ? Uint8Array.from(entry.value) : new Uint8Array(0);
    }

    async putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
        this.checkCollection(collection);
        if (!value || value.length === 0) {
            return this.deletePrivateData(collection, key);
        }
        const namespace = hashedNamespace(this.namespace, collection);
        const keyHash = sha256Hex(key);
        // Content the executing party does not hold: its hash, which the proposal signs, stands for it.
        const withheld = withheldSha256(value);
        const valueHash = Buffer.from(withheld ?? sha256Hex(value), 'hex');
        this.writes.set(stateId(namespace, keyHash), { namespace, key: keyHash, value: valueHash.toString('base64'), isDelete: false });
        this.privateWrites.set(stateId(collection, key), withheld ? { collection, key, withheld } : { collection, key, value: Buffer.from(value) });
    }

    async deletePrivateData(collection: string, key: string): Promise<void> {
        this.checkCollection(collection);
        const namespace = hashedNamespace(this.namespace, collection);
        const keyHash = sha256Hex(key);
        this.writes.set(stateId(namespace, keyHash), { namespace, key: keyHash, isDelete: true });
        this.privateWrites.set(stateId(collection, key), { collection, key });
    }

    async purgePrivateData(collection: string, key: string): Promise<void> {
        return this.deletePrivateData(collection, key);
    }

    async setPrivateDataValidationParameter(): Promise<void> {
        throw new Error('key-level endorsement on private data is not supported by the embedded ledger');
    }

    async getPrivateDataValidationParameter(): Promise<Uint8Array> {
        throw new Error('key-level endorsement on private data is not supported by the embedded ledger');
    }

    getPrivateDataByRange(): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        return iterable(Promise.reject(new Error('range queries over private data are not supported by the embedded ledger')));
    }

    getPrivateDataByPartialCompositeKey(): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        return iterable(Promise.reject(new Error('range queries over private data are not supported by the embedded ledger')));
    }

    getPrivateDataQueryResult(): Promise<Iterators.StateQueryIterator> & AsyncIterable<KV> {
        return iterable(Promise.reject(new Error('rich queries are not supported: the ledger uses a LevelDB-style key-value state')));
    }

    /**
     * The first failure of the state store during this simulation (the database gone, say): the
     * chaincode sees it as an error like any other, but it says nothing about the request, so the
     * ledger answers UNAVAILABLE rather than the refusal the chaincode makes of it.
     */
    get storeFailure(): Error | undefined {
        return this.failure;
    }

    private async fromStore<T>(read: Promise<T>): Promise<T> {
        try {
            return await read;
        } catch (error) {
            this.failure ??= error as Error;
            throw error;
        }
    }

    private checkCollection(collection: string): void {
        if (!this.options.collections.has(collection)) {
            throw new Error(`collection ${collection} is not defined for this chaincode`);
        }
    }

    private async read(namespace: string, key: string): Promise<StateEntry | undefined> {
        const id = stateId(namespace, key);
        const entry = await this.fromStore(this.options.store.getState(namespace, key));
        const version: Version | null = entry?.version ?? null;
        // If committed state moves during the simulation, the first version read stands in the
        // read set, and validation finds it stale.
        if (!this.reads.has(id)) {
            this.reads.set(id, { namespace, key, version });
        }
        return entry;
    }

    private async scan(startKey: string, endKey: string, pageSize: number | undefined): Promise<{ entries: KV[]; bookmark: string }> {
        if (pageSize !== undefined) {
            if (!Number.isInteger(pageSize) || pageSize < 1) {
                throw new Error('pageSize must be a positive whole number');
            }
            this.paginated = true;
        }
        const limit = pageSize === undefined ? RANGE_LIMIT : pageSize + 1;
        const rows = await this.fromStore(this.options.store.range(this.namespace, startKey, endKey, limit));
        if (pageSize === undefined && rows.length >= RANGE_LIMIT) {
            throw new Error(`range query returned more than ${RANGE_LIMIT} keys; use pagination`);
        }
        const page = pageSize === undefined ? rows : rows.slice(0, pageSize);
        const more = pageSize !== undefined && rows.length > pageSize;
        this.rangeReads.push({
            namespace: this.namespace, startKey, endKey, exhausted: !more,
            results: page.map((row) => ({ key: row.key, version: row.version })),
        });
        return {
            entries: page.map((row) => ({ namespace: this.namespace, key: row.key, value: Uint8Array.from(row.value) })),
            bookmark: more ? (rows[pageSize as number] as StateEntry).key : '',
        };
    }
}

function checkSimpleOrCompositeKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0) {
        throw new Error('key must be a non-empty string');
    }
}

class ArrayIterator<T> implements Iterators.CommonIterator<T> {
    private index = 0;

    constructor(private readonly items: readonly T[]) {}

    async next(): Promise<Iterators.NextResult<T>> {
        if (this.index < this.items.length) {
            return { value: this.items[this.index++] as T, done: false };
        }
        return { value: undefined as unknown as T, done: true };
    }

    async close(): Promise<void> {
        this.index = this.items.length;
    }
}

/** fabric-shim's query results are both a promise of an iterator and an async iterable. */
function iterable<T>(items: Promise<T[]>): Promise<Iterators.CommonIterator<T>> & AsyncIterable<T> {
    const promise = items.then((list) => new ArrayIterator(list) as Iterators.CommonIterator<T>);
    return Object.assign(promise, {
        async *[Symbol.asyncIterator](): AsyncIterator<T> {
            yield* await items;
        },
    });
}

function paged(result: Promise<{ entries: KV[]; bookmark: string }>): Promise<StateQueryResponse<Iterators.StateQueryIterator>> & AsyncIterable<KV> {
    const promise = result.then(({ entries, bookmark }) => ({
        iterator: new ArrayIterator(entries) as Iterators.StateQueryIterator,
        metadata: { fetchedRecordsCount: entries.length, bookmark },
    }));
    return Object.assign(promise, {
        async *[Symbol.asyncIterator](): AsyncIterator<KV> {
            yield* (await result).entries;
        },
    });
}
