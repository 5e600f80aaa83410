import './chaincode-log-level';
import { readGatewayConfig } from '../gateway/config';
import { binaryVersion, cometbftBinary } from '../network/cometbft/binary';
import { logFile, networkClean, networkDown, networkStatus, networkUp, readLayout, rebuildNode, tail, untilCommitting } from '../network/cometbft/network';

/**
 * npm run network -- build | up [--validators N] | down | status | logs [NODE] | clean
 * The network's folder is COUNTERFOIL_NETWORK_DIR (default .network); its nodes' databases are on a
 * PostgreSQL server of its own, or on COUNTERFOIL_NETWORK_POSTGRES_URL's.
 */
const USAGE = 'usage: npm run network -- build | up [--validators N] [--timeout-commit 100ms] | down | status | logs [NODE] | rebuild NODE | clean';

function option(name: string): string | undefined {
    const at = process.argv.indexOf(`--${name}`);
    return at >= 0 ? process.argv[at + 1] : undefined;
}

async function main(): Promise<void> {
    const config = readGatewayConfig(process.env).network;
    const dir = config.dir;
    const command = process.argv[2];
    const log = (message: string): void => console.log(message);
    switch (command) {
        case 'up': {
            const validators = option('validators');
            const started = Date.now();
            const layout = await networkUp({
                dir, log,
                validators: validators === undefined ? undefined : Number(validators),
                timeoutCommit: option('timeout-commit') ?? config.timeoutCommit,
                timestampToleranceMs: config.timestampToleranceMs,
                postgresUrl: process.env.COUNTERFOIL_NETWORK_POSTGRES_URL,
            });
            log(`network ${layout.chainId} is up with ${layout.nodes.length} validators in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})`);
            for (const node of layout.nodes) {
                log(`  ${node.name.padEnd(10)} ${node.mspId.padEnd(14)} RPC http://127.0.0.1:${node.ports.rpc}  ABCI 127.0.0.1:${node.ports.abci}  P2P 127.0.0.1:${node.ports.p2p}`);
            }
            return;
        }
        case 'build': {
            const binary = await cometbftBinary(log);
            log(`cometbft ${await binaryVersion(binary)}: ${binary}`);
            return;
        }
        case 'down':
            await networkDown(dir);
            log(`network in ${dir} stopped (data kept)`);
            return;
        case 'status': {
            for (const node of await networkStatus(dir)) {
                const processes = `node ${node.processes.node ?? '-'} cometbft ${node.processes.cometbft ?? '-'}`;
                log(node.problem
                    ? `${node.name.padEnd(10)} ${processes.padEnd(28)} not answering: ${node.problem}`
                    : `${node.name.padEnd(10)} ${processes.padEnd(28)} height ${node.height} app hash ${node.appHash?.slice(0, 16)} last block ${node.lastBlockTime} peers ${node.peers}${node.catchingUp ? ' (catching up)' : ''}`
                        + (node.missingPrivateData === undefined ? '' : `, private data missing ${node.missingPrivateData}`));
            }
            return;
        }
        case 'logs': {
            const layout = await readLayout(dir);
            if (!layout) {
                throw new Error(`there is no network in ${dir}`);
            }
            const wanted = process.argv[3];
            for (const node of layout.nodes.filter((candidate) => !wanted || candidate.name === wanted)) {
                for (const part of ['node', 'cometbft'] as const) {
                    log(`==> ${node.name} ${part} (${logFile(dir, node.name, part)})\n${await tail(logFile(dir, node.name, part), 30)}`);
                }
            }
            return;
        }
        case 'rebuild': {
            const layout = await readLayout(dir);
            const name = process.argv[3];
            if (!layout || !name) {
                throw new Error('usage: npm run network -- rebuild NODE (a node of a network that exists)');
            }
            await rebuildNode(dir, layout, name, log);
            await untilCommitting(dir, layout, [name]);
            log(`${name} rebuilt from the chain`);
            return;
        }
        case 'clean':
            await networkClean(dir);
            log(`network in ${dir} removed`);
            return;
        default:
            throw new Error(USAGE);
    }
}

main().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
});
