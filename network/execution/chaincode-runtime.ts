import { contracts, serializers } from '@counterfoil/chaincode';
import type { ChaincodeInterface, ChaincodeResponse, ChaincodeStub } from 'fabric-shim-api';

interface ShimLogger {
    setLevel(level: string): void;
}

/** Certificates parsed by fabric-shim's ClientIdentity, kept (the cache starts over when full). */
const PARSED_CERTIFICATES = 10_000;
let shimTrimmed = false;

/**
 * Takes out of fabric-shim what every transaction paid for and nobody used. Winston, under the
 * shim's and fabric-contract-api's loggers, formats each log line (time stamp, metadata, colours,
 * padding) before its transport drops it by level: lines of a level the logger does not write
 * are now dropped before they are formatted. And ClientIdentity parses the creator's certificate
 * with every transaction; one caller signs many, so each certificate is parsed once (the parsed
 * certificate is only read).
 */
function trimShim(): void {
    if (shimTrimmed) {
        return;
    }
    shimTrimmed = true;
    const shim = require.resolve('fabric-shim');
    for (const from of [shim, require.resolve('fabric-contract-api')]) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Logger } = require(require.resolve('winston', { paths: [from] })) as { Logger: { prototype: Record<string, unknown> } };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { LEVEL } = require(require.resolve('triple-beam', { paths: [require.resolve('winston', { paths: [from] })] })) as { LEVEL: symbol };
        const write = Logger.prototype.write as (this: { isLevelEnabled(level: string): boolean }, info: Record<symbol, string>, ...rest: unknown[]) => boolean;
        Logger.prototype.write = function quietWrite(this: { isLevelEnabled(level: string): boolean }, info: Record<symbol, string>, ...rest: unknown[]): boolean {
            const level = info?.[LEVEL];
            return level !== undefined && !this.isLevelEnabled(level) ? true : write.call(this, info, ...rest);
        };
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Certificate } = require(require.resolve('@fidm/x509', { paths: [shim] })) as { Certificate: { fromPEM(pem: string | Buffer): unknown } };
    const fromPEM = Certificate.fromPEM.bind(Certificate);
    const parsed = new Map<string, unknown>();
    Certificate.fromPEM = (pem: string | Buffer): unknown => {
        const key = typeof pem === 'string' ? pem : pem.toString('latin1');
        let certificate = parsed.get(key);
        if (certificate === undefined) {
            certificate = fromPEM(pem);
            if (parsed.size >= PARSED_CERTIFICATES) {
                parsed.clear();
            }
            parsed.set(key, certificate);
        }
        return certificate;
    };
}

/**
 * The chaincode as fabric-chaincode-node would run it: fabric-shim's own contract dispatcher
 * (ChaincodeFromContract), so that contract routing, metadata and argument marshalling behave
 * exactly as on a peer. It is internal to fabric-shim, hence the require by path.
 */
export function loadChaincode(options: Readonly<{ logLevel?: string }> = {}): { invoke(stub: ChaincodeStub): Promise<ChaincodeResponse> } {
    trimShim();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as new (
        contracts: unknown[], serializers: unknown, metadata: unknown, title: string, version: string,
    ) => ChaincodeInterface;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const logger = require('fabric-shim/lib/logger') as ShimLogger;
    // The shim logs every refused transaction as an error; refusals are results here, not faults.
    logger.setLevel(options.logLevel ?? 'CRITICAL');
    const chaincode = new ChaincodeFromContract([...contracts], serializers, {}, 'counterfoil', '0.1.0');
    return { invoke: (stub) => chaincode.Invoke(stub) };
}
