import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The text of a secret file (mode 0600), made with `make` on first use. An existing file is never
 * overwritten; when two processes start together, the second reads what the first one wrote.
 */
export async function readOrCreateSecretFile(file: string, make: () => string): Promise<string> {
    try {
        return await readFile(file, 'utf8');
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
            throw error;
        }
    }
    await mkdir(dirname(file), { recursive: true });
    const made = make();
    try {
        await writeFile(file, made, { mode: 0o600, flag: 'wx' });
        return made;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw error;
        }
        return readFile(file, 'utf8');
    }
}
