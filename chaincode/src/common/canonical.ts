import { JSONSerializer } from 'fabric-contract-api';

import { canonicalBytes } from './canonical-json';

export { canonicalBytes, canonicalJson } from './canonical-json';

export function parseJson<T>(bytes: Uint8Array): T {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

/**
 * The transaction serializer named in the chaincode's `serializers` export: results are written
 * as canonical JSON; arguments are read exactly as the default JSON serializer reads them.
 */
export class CanonicalJsonSerializer extends JSONSerializer {
    override toBuffer(result: unknown, schema: { type?: string } = {}, loggerPrefix?: string): Buffer {
        if (result !== null && typeof result === 'object' && !Buffer.isBuffer(result)) {
            return canonicalBytes(result);
        }
        return super.toBuffer(result, schema, loggerPrefix);
    }
}
