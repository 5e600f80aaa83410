import { isUtf8 } from 'node:buffer';
import { type Context, Contract } from 'fabric-contract-api';
import { invalidArgument } from './errors';

/**
 * What every Counterfoil contract checks before its transaction runs: the arguments arrive as
 * bytes, and bytes that are not UTF-8 would otherwise be decoded into U+FFFD and committed as if
 * the caller had sent them.
 */
export class CounterfoilContract extends Contract {
    override async beforeTransaction(ctx: Context): Promise<void> {
        // fabric-shim's stub has getBufferArgs (its dispatcher reads the arguments with it); the
        // published API types leave it out.
        const stub = ctx.stub as unknown as { getBufferArgs(): Buffer[] };
        for (const [index, argument] of stub.getBufferArgs().entries()) {
            if (!isUtf8(argument)) {
                throw invalidArgument(index === 0 ? 'function' : 'request', 'must be UTF-8 text');
            }
        }
    }
}
