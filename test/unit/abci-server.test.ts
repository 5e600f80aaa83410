import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { AbciServer, frame, readUvarint } from '../../network/cometbft/abci-server';
import { freePort } from '../../network/postgres';
import { until } from '../support/until';

/** A promise with its resolve function, to finish a handler when the test says so. */
function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
    let open = (): void => undefined;
    const opened = new Promise<void>((resolve) => { open = resolve; });
    return { opened, open };
}

/** A connection to the server that sends requests and collects the answers as they come. */
async function client(port: number): Promise<{ send: (request: Request) => void; answers: Response[]; next: (count: number) => Promise<Response[]>; socket: Socket }> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const answers: Response[] = [];
    let buffered = Buffer.alloc(0);
    let waiting: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (let header = readUvarint(buffered); header && buffered.length >= header.length + header.value; header = readUvarint(buffered)) {
            answers.push(Response.decode(buffered.subarray(header.length, header.length + header.value)));
            buffered = buffered.subarray(header.length + header.value);
        }
        waiting?.();
    });
    const next = async (count: number): Promise<Response[]> => {
        while (answers.length < count) {
            await new Promise<void>((resolve) => { waiting = resolve; });
        }
        return answers.slice(0, count);
    };
    return { send: (request) => socket.write(frame(Request.encode(request).finish())), answers, next, socket };
}

describe('the ABCI server', () => {
    let server: AbciServer | undefined;
    afterEach(async () => {
        await server?.close();
        server = undefined;
    });

    it('checks transactions side by side, answers in the order asked, and runs any other request only after those before it', async () => {
        const gates = [gate(), gate(), gate()];
        const started: string[] = [];
        const finished: string[] = [];
        const port = await freePort();
        const errors: Error[] = [];
        server = await AbciServer.listen(`tcp://127.0.0.1:${port}`, async (request) => {
            if (request.checkTx) {
                const index = request.checkTx.tx[0] as number;
                started.push(`check ${index}`);
                await gates[index]?.opened;
                finished.push(`check ${index}`);
                return Response.fromPartial({ checkTx: { code: 0, log: `checked ${index}` } });
            }
            started.push('flush');
            finished.push('flush');
            return Response.fromPartial({ flush: {} });
        }, (error) => errors.push(error));
        const connection = await client(port);
        try {
            for (const index of [0, 1, 2]) {
                connection.send(Request.fromPartial({ checkTx: { tx: Uint8Array.from([index]) } }));
            }
            connection.send(Request.fromPartial({ flush: {} }));
            // All three checks run at once; the flush waits for them.
            await until(() => started.length >= 3, 'three checks started together', { timeoutMs: 10_000, intervalMs: 5 });
            expect(started).to.deep.equal(['check 0', 'check 1', 'check 2']);
            gates[2]?.open();
            gates[1]?.open();
            await until(() => finished.length >= 2, 'the second and third checks finished', { timeoutMs: 10_000, intervalMs: 5 });
            expect(connection.answers, 'no answer before the first request\'s').to.have.length(0);
            expect(started).to.not.include('flush');
            gates[0]?.open();
            const answers = await connection.next(4);
            expect(answers.map((answer) => answer.checkTx?.log ?? (answer.flush ? 'flush' : '?'))).to.deep.equal(['checked 0', 'checked 1', 'checked 2', 'flush']);
            expect(finished).to.deep.equal(['check 2', 'check 1', 'check 0', 'flush']);
            expect(errors).to.deep.equal([]);
        } finally {
            for (const each of gates) {
                each.open();
            }
            connection.socket.destroy();
        }
    });
});
