/**
 * Unified Social Credit Code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-character
 * alphabet (digits and capitals without I, O, S, V, Z); the last one is a check character.
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** The check character for the first 17 characters of a USCC. */
export function usccCheckCharacter(first17: string): string {
    let sum = 0;
    for (let index = 0; index < 17; index++) {
        const value = ALPHABET.indexOf(first17.charAt(index));
        if (value < 0) {
            throw new RangeError(`character ${index + 1} of a USCC must be one of ${ALPHABET}`);
        }
        sum += value * (WEIGHTS[index] as number);
    }
    const check = (31 - (sum % 31)) % 31;
    return ALPHABET.charAt(check);
}

/** Why a string is not a valid USCC, or undefined when it is one. */
export function usccProblem(value: string): string | undefined {
    if (value.length !== 18) {
        return 'must be 18 characters (GB 32100)';
    }
    if (!SHAPE.test(value)) {
        return 'must be digits and capitals without I, O, S, V, Z, with characters 3-8 an administrative division code (GB 32100)';
    }
    if (usccCheckCharacter(value.slice(0, 17)) !== value.charAt(17)) {
        return 'check character does not match (GB 32100)';
    }
    return undefined;
}

export function isUscc(value: string): boolean {
    return usccProblem(value) === undefined;
}
