import { readFile } from 'node:fs/promises';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import cron from 'node-cron';
import { AGENCIES, DOCUMENT_TYPES } from '@counterfoil/chaincode';
import { describeError } from '../gateway/openapi/api';

export interface AdapterConfig {
    /** Unique among the hub's adapters: names its cursors, health and quarantine. */
    readonly name: string;
    /** The agency whose system this adapter serves (it acts as that agency on the ledger). */
    readonly organisation: string;
    readonly transport: 'http-feed' | 'file-drop';
    /** http-feed: base URL of the agency system's feeds and inbox. */
    readonly system?: string;
    /** file-drop: the folder the agency system drops files into and picks deliveries up from. */
    readonly folder?: string;
    /** file-drop: files larger than this many bytes go to failed/ unread (default 8 MiB). */
    readonly maxFileBytes?: number;
    /** node-cron expression (six fields: the first is seconds). */
    readonly schedule: string;
    /** relay: the hub carries the payloads; observe: the agencies exchange them themselves. */
    readonly mode: 'relay' | 'observe';
    readonly sends: readonly string[];
    readonly receives: readonly string[];
    /** Deliveries tried per attempt before waiting for a retransmission (relay mode). */
    readonly maxDeliveryAttempts: number;
    /** Retransmissions of a handoff that arrived different or late (relay mode). */
    readonly maxRetransmissions: number;
    /** Ledger writes in flight at once; records of one message or document stay in feed order. */
    readonly concurrency: number;
}

const SCHEMA = {
    type: 'object', additionalProperties: false, required: ['adapters'],
    properties: {
        adapters: {
            type: 'array', minItems: 1,
            items: {
                type: 'object', additionalProperties: false,
                required: ['name', 'organisation', 'transport', 'schedule', 'mode', 'sends', 'receives'],
                if: { properties: { transport: { const: 'file-drop' } } },
                then: { required: ['folder'], not: { required: ['system'] } },
                else: { required: ['system'], not: { anyOf: [{ required: ['folder'] }, { required: ['maxFileBytes'] }] } },
                properties: {
                    name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$' },
                    organisation: { type: 'string', enum: [...AGENCIES] },
                    transport: { type: 'string', enum: ['http-feed', 'file-drop'] },
                    system: { type: 'string', format: 'uri', pattern: '^https?://' },
                    folder: { type: 'string', minLength: 1, maxLength: 1000 },
                    maxFileBytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
                    schedule: { type: 'string', minLength: 9 },
                    mode: { type: 'string', enum: ['relay', 'observe'] },
                    sends: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...DOCUMENT_TYPES] } },
                    receives: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...DOCUMENT_TYPES] } },
                    maxDeliveryAttempts: { type: 'integer', minimum: 1, maximum: 100 },
                    maxRetransmissions: { type: 'integer', minimum: 0, maximum: 20 },
                    concurrency: { type: 'integer', minimum: 1, maximum: 64 },
                },
            },
        },
    },
};

export class AdapterConfigError extends Error {
    constructor(readonly field: string, readonly rule: string) {
        super(`adapter configuration: ${field} ${rule}`);
        this.name = 'AdapterConfigError';
    }
}

/** Validates an adapter configuration document; an error names the field (`adapters[1].schedule`). */
export function parseAdapterConfig(document: unknown): AdapterConfig[] {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(SCHEMA);
    if (!validate(document)) {
        const { field, rule } = describeError((validate.errors as ErrorObject[])[0] as ErrorObject, 'configuration');
        throw new AdapterConfigError(field, rule);
    }
    const adapters = (document as { adapters: (Omit<AdapterConfig, 'maxDeliveryAttempts' | 'maxRetransmissions' | 'concurrency'> & Partial<AdapterConfig>)[] }).adapters;
    const names = new Set<string>();
    return adapters.map((adapter, index) => {
        if (names.has(adapter.name)) {
            throw new AdapterConfigError(`adapters[${index}].name`, `repeats ${adapter.name}`);
        }
        names.add(adapter.name);
        if (!cron.validate(adapter.schedule)) {
            throw new AdapterConfigError(`adapters[${index}].schedule`, 'must be a cron expression');
        }
        return { ...adapter, maxDeliveryAttempts: adapter.maxDeliveryAttempts ?? 5, maxRetransmissions: adapter.maxRetransmissions ?? 3, concurrency: adapter.concurrency ?? 8 };
    });
}

export async function readAdapterConfig(file: string): Promise<AdapterConfig[]> {
    let document: unknown;
    try {
        document = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
        throw new AdapterConfigError('file', `${file} is not readable JSON: ${(error as Error).message}`);
    }
    return parseAdapterConfig(document);
}
