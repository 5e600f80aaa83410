import { request } from 'node:http';
import { expect } from 'chai';
import pino from 'pino';
import { type RunningGateway, startGateway } from '../../gateway';
import { GatewayHarness } from './harness';
import { PERSONAS } from './personas';

/** A GET with the headers given as they are (fetch would set Host itself). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const sent = request(url, { headers }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
        sent.on('error', reject);
        sent.end();
    });
}

describe('who the hub answers as whom', function () {
    this.timeout(60_000);
    let harness: GatewayHarness;
    let gateway: RunningGateway;

    before(async () => {
        harness = await GatewayHarness.start();
        await harness.gateway.stop();
        gateway = await startGateway({
            pool: harness.database.pool, ledger: harness.ledger, logger: pino({ level: 'silent' }), port: 0, host: '127.0.0.1',
            tokenKeyFile: `${harness.keyDir}/token.pem`, proofKeyFile: `${harness.keyDir}/proof.pem`,
            consolePersonas: async (tokens) => [{ label: 'Auditor', token: await tokens.issue(PERSONAS.auditor) }],
        });
    });

    after(async () => {
        await gateway?.stop();
        await harness?.stop();
    });

    it('hands the console\'s persona tokens only to a page of this machine under this machine\'s name', async () => {
        const url = `${gateway.url}/console/personas.json`;
        const port = new URL(gateway.url).port;
        expect((await get(url, { Host: `127.0.0.1:${port}` })).status).to.equal(200);
        expect((await get(url, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).status).to.equal(200);
        // A page of another site whose name was rebound to 127.0.0.1 (DNS rebinding), or that calls across origins.
        for (const headers of [{ Host: `attacker.example:${port}` } as Record<string, string>, { Host: `127.0.0.1:${port}`, Origin: 'http://attacker.example' }, { Host: '127.0.0.1:1' }]) {
            const answer = await get(url, headers);
            expect(answer.status, JSON.stringify(headers)).to.equal(404);
            expect(answer.body).not.to.contain('eyJ');
        }
    });

    it('reads the bearer scheme in any case', async () => {
        const token = await harness.token(PERSONAS.customs);
        for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
            expect((await fetch(`${gateway.url}/v1/handoffs`, { headers: { Authorization: `${scheme} ${token}` } })).status, scheme).to.equal(200);
        }
    });
});
