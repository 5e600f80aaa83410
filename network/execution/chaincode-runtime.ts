import { contracts, serializers } from '@counterfoil/chaincode';
import type { ChaincodeInterface, ChaincodeResponse, ChaincodeStub } from 'fabric-shim-api';

interface ShimLogger {
    setLevel(level: string): void;
}

/**
 * The chaincode as fabric-chaincode-node would run it: fabric-shim's own contract dispatcher
 * (ChaincodeFromContract), so that contract routing, metadata and argument marshalling behave
 * exactly as on a peer. It is internal to fabric-shim, hence the require by path.
 */
export function loadChaincode(options: Readonly<{ logLevel?: string }> = {}): { invoke(stub: ChaincodeStub): Promise<ChaincodeResponse> } {
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
