import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { ChaincodeError, HandoffContract } from '@counterfoil/chaincode';

/** A transaction context whose stub holds `args` as the bytes a peer would receive. */
function contextWith(args: readonly Buffer[]): Context {
    return { stub: { getBufferArgs: () => [...args] } } as unknown as Context;
}

describe('every contract, before its transaction', () => {
    it('refuses arguments that are not UTF-8 rather than reading them as U+FFFD', async () => {
        const invalid = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
        let refusal: unknown;
        await new HandoffContract().beforeTransaction(contextWith([Buffer.from('handoffs:Send'), invalid])).catch((error: unknown) => { refusal = error; });
        expect(refusal).to.be.instanceOf(ChaincodeError);
        expect(refusal).to.include({ code: 'INVALID_ARGUMENT', field: 'request' });
    });

    it('lets UTF-8 arguments through, Chinese text included', async () => {
        await new HandoffContract().beforeTransaction(contextWith([Buffer.from('handoffs:Send'), Buffer.from('{"text":"缺少发票号"}')]));
    });
});
