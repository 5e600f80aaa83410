import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readOrCreateSecretFile } from './secret-file';

const PREFIX = 'sealed-v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals private keys (certificate authorities', principals') before they are stored in
 * PostgreSQL, with AES-256-GCM under a key kept in a file outside the database (mode 0600): a
 * dump of the database alone signs nothing. Each sealed key is bound to where it is kept (its
 * `context`, e.g. the organisation of a certificate authority), so that a stored key moved to
 * another row does not open there.
 */
export class KeySealer {
    private constructor(private readonly key: Buffer) {}

    /** The key from its file, made on first use (never overwriting one another process made first). */
    static async open(file: string): Promise<KeySealer> {
        const key = Buffer.from((await readOrCreateSecretFile(file, () => `${randomBytes(KEY_BYTES).toString('base64')}\n`)).trim(), 'base64');
        if (key.length !== KEY_BYTES) {
            throw new Error(`${file} does not hold a ${KEY_BYTES}-byte key in base64`);
        }
        return new KeySealer(key);
    }

    /** A key held only in memory, for a ledger that lives no longer than its process (a benchmark's). */
    static ephemeral(): KeySealer {
        return new KeySealer(randomBytes(KEY_BYTES));
    }

    static isSealed(stored: string): boolean {
        return stored.startsWith(PREFIX);
    }

    seal(secret: string, context: string): string {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(context, 'utf8'));
        const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
        return `${PREFIX}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
    }

    /** The secret a sealed value holds; a value stored before keys were sealed is returned as it is. */
    unseal(stored: string, context: string): string {
        if (!KeySealer.isSealed(stored)) {
            return stored;
        }
        const bytes = Buffer.from(stored.slice(PREFIX.length), 'base64');
        try {
            const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(context, 'utf8'));
            decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
            return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
        } catch (error) {
            throw new Error(`a stored private key (${context}) does not open with this hub's key-encryption key: the key file is not the one it was sealed with, or the row was changed`, { cause: error });
        }
    }
}
