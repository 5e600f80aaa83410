import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readOrCreateSecretFile } from '../../network/membership/secret-file';

/** The ECDSA P-256 private key in a PKCS #8 PEM file, created (mode 0600) on first use. */
export async function loadOrCreateKey(keyFile: string): Promise<KeyObject> {
    return createPrivateKey(await readOrCreateSecretFile(keyFile,
        () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
}
