import { createServer, type Server, type Socket } from 'node:net';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';

/** Answers one ABCI request; whatever it returns or throws is answered in order on its connection. */
export type AbciHandler = (request: Request) => Promise<Response> | Response;

/** Longest frame accepted from CometBFT: a block's transactions travel in one FinalizeBlock. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/**
 * The application side of CometBFT's socket protocol (ABCI over TCP or a Unix socket). Every
 * message is a protobuf `Request` or `Response` preceded by its length as an unsigned varint;
 * one read may carry several frames, or part of one. CometBFT opens four connections
 * (consensus, mempool, query, snapshot) and expects the answers on each in the order of its
 * requests, so each connection has its own queue of answers; the connections themselves
 * proceed independently.
 */
export class AbciServer {
    private readonly sockets = new Set<Socket>();

    private constructor(private readonly server: Server) {}

    static async listen(address: string, handler: AbciHandler, onError: (error: Error) => void): Promise<AbciServer> {
        const server = createServer((socket) => serve(socket, handler, onError));
        const abci = new AbciServer(server);
        server.on('connection', (socket) => {
            abci.sockets.add(socket);
            socket.on('close', () => abci.sockets.delete(socket));
        });
        await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
            if (tcp) {
                server.listen(Number(tcp[2]), tcp[1], () => resolve());
            } else {
                server.listen(address.replace(/^unix:\/\//, ''), () => resolve());
            }
        });
        return abci;
    }

    async close(): Promise<void> {
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        for (const socket of this.sockets) {
            socket.destroy();
        }
        await closed;
    }
}

function serve(socket: Socket, handler: AbciHandler, onError: (error: Error) => void): void {
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    /** Every request's answer, in the order of the requests. */
    const answers: { readonly request: Request; readonly response: Promise<Response> }[] = [];
    /** Settles once every request before the latest one that runs alone has been answered. */
    let barrier: Promise<unknown> = Promise.resolve();
    /** CheckTx requests started since then, which run side by side. */
    let checking: Promise<unknown>[] = [];
    let writing = false;

    const answer = async (request: Request): Promise<Response> => {
        try {
            return await handler(request);
        } catch (error) {
            // CometBFT stops on an exception: a node that cannot execute must not guess.
            onError(error as Error);
            return Response.fromPartial({ exception: { error: (error as Error).message } });
        }
    };

    /**
     * Checking a transaction for the mempool reads and changes nothing that another check
     * depends on, so consecutive CheckTx requests run side by side (each waits on its signature
     * and its database read, not on the others); every other request runs alone, after all
     * before it. The answers go out in the order of the requests, as CometBFT expects.
     */
    const start = (request: Request): void => {
        let response: Promise<Response>;
        if (request.checkTx) {
            response = barrier.then(() => answer(request));
            checking.push(response);
        } else {
            const before = [barrier, ...checking];
            response = Promise.all(before).then(() => answer(request));
            barrier = response;
            checking = [];
        }
        answers.push({ request, response });
        void write();
    };

    const write = async (): Promise<void> => {
        if (writing) {
            return;
        }
        writing = true;
        try {
            const out: Uint8Array[] = [];
            while (answers.length > 0) {
                const { request, response } = answers.shift() as (typeof answers)[number];
                out.push(frame(Response.encode(await response).finish()));
                // Answers go out together when CometBFT asks for a flush, or when nothing else waits.
                if (request.flush || answers.length === 0) {
                    socket.write(Buffer.concat(out.splice(0)));
                }
            }
        } finally {
            writing = false;
        }
    };

    socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        for (;;) {
            const header = readUvarint(buffered);
            if (!header) {
                break;
            }
            if (header.value > MAX_FRAME_BYTES) {
                onError(new Error(`an ABCI frame of ${header.value} bytes is over the limit of ${MAX_FRAME_BYTES}`));
                socket.destroy();
                return;
            }
            const end = header.length + header.value;
            if (buffered.length < end) {
                break;
            }
            let request: Request;
            try {
                request = Request.decode(buffered.subarray(header.length, end));
            } catch (error) {
                onError(new Error(`an ABCI frame could not be decoded: ${(error as Error).message}`));
                socket.destroy();
                return;
            }
            buffered = buffered.subarray(end);
            start(request);
        }
    });
    socket.on('error', (error) => onError(error));
}

/** An unsigned LEB128 varint at the start of `bytes`, or undefined when it is not all there yet. */
export function readUvarint(bytes: Uint8Array): { value: number; length: number } | undefined {
    let value = 0;
    let multiplier = 1;
    for (let index = 0; index < bytes.length && index < 8; index++) {
        const byte = bytes[index] as number;
        value += (byte & 0x7f) * multiplier;
        if ((byte & 0x80) === 0) {
            return { value, length: index + 1 };
        }
        multiplier *= 128;
    }
    return undefined;
}

export function frame(message: Uint8Array): Buffer {
    const prefix: number[] = [];
    let length = message.length;
    while (length >= 0x80) {
        prefix.push((length % 128) | 0x80);
        length = Math.floor(length / 128);
    }
    prefix.push(length);
    return Buffer.concat([Buffer.from(prefix), message]);
}
