import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The ECDSA P-256 private key in a PKCS #8 PEM file, created (mode 0600) on first use. An
 * existing file is never overwritten; when two processes start together, the second reads the
 * first one's key.
 */
export async function loadOrCreateKey(keyFile: string): Promise<KeyObject> {
    try {
        return createPrivateKey(await readFile(keyFile, 'utf8'));
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw error;
        }
    }
    await mkdir(dirname(keyFile), { recursive: true });
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
        await writeFile(keyFile, pem, { mode: 0o600, flag: 'wx' });
        return createPrivateKey(pem);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw error;
        }
        return createPrivateKey(await readFile(keyFile, 'utf8'));
    }
}
