import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The CometBFT release the network runs: the maintained 0.38 line, pinned. */
export const COMETBFT_VERSION = '0.38.26';
const MODULE = 'github.com/cometbft/cometbft/cmd/cometbft';

/** The project's folder (this file is dist/network/cometbft/binary.js once built). */
export const PROJECT_DIR = resolve(__dirname, '..', '..', '..');

/** The version a cometbft binary reports, or undefined when it does not run. */
export async function binaryVersion(path: string): Promise<string | undefined> {
    try {
        return (await run(path, ['version'], { timeout: 30_000 })).stdout.trim();
    } catch {
        return undefined;
    }
}

/**
 * The cometbft binary: `COMETBFT_BIN` when set (an official release, say), or else the pinned
 * version built from its Go module with the machine's Go into `.cometbft/v<version>/` in the
 * project (ignored by git), built once and again only when the pin changes.
 */
export async function cometbftBinary(log: (message: string) => void = () => undefined): Promise<string> {
    const given = process.env.COMETBFT_BIN;
    if (given) {
        const version = await binaryVersion(given);
        if (!version?.startsWith('0.38.')) {
            throw new Error(`COMETBFT_BIN (${given}) ${version ? `is CometBFT ${version}` : 'does not run'}; the network needs CometBFT 0.38.x`);
        }
        return given;
    }
    const folder = join(PROJECT_DIR, '.cometbft', `v${COMETBFT_VERSION}`);
    const binary = join(folder, 'cometbft');
    if (await binaryVersion(binary) === COMETBFT_VERSION) {
        return binary;
    }
    await mkdir(join(PROJECT_DIR, '.cometbft'), { recursive: true });
    // Built aside and moved into place: a build that is interrupted, or two at once, never leave half a binary.
    const scratch = await mkdtemp(join(PROJECT_DIR, '.cometbft', 'build-'));
    const started = Date.now();
    log(`building CometBFT ${COMETBFT_VERSION} with ${await goVersion()} (once; about a minute and a half)`);
    try {
        await run('go', ['install', `${MODULE}@v${COMETBFT_VERSION}`], {
            env: { ...process.env, GOBIN: scratch, CGO_ENABLED: '0', GOFLAGS: '-trimpath' },
            timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024,
        }).catch((error: { stderr?: string; message: string }) => {
            throw new Error(`go install ${MODULE}@v${COMETBFT_VERSION} failed: ${error.stderr?.slice(-4000) ?? error.message}`);
        });
        await mkdir(folder, { recursive: true });
        await rename(join(scratch, 'cometbft'), binary);
    } finally {
        await rm(scratch, { recursive: true, force: true });
    }
    const version = await binaryVersion(binary);
    if (version !== COMETBFT_VERSION) {
        throw new Error(`the cometbft built in ${folder} reports version ${version ?? '(none)'}, not ${COMETBFT_VERSION}`);
    }
    log(`built CometBFT ${COMETBFT_VERSION} in ${((Date.now() - started) / 1000).toFixed(0)} s: ${binary} (${((await stat(binary)).size / 1e6).toFixed(0)} MB)`);
    return binary;
}

async function goVersion(): Promise<string> {
    try {
        return (await run('go', ['version'])).stdout.trim();
    } catch (error) {
        throw new Error('Go is needed to build CometBFT (or set COMETBFT_BIN to a cometbft 0.38 binary)', { cause: error });
    }
}
