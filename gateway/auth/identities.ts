import type { Pool } from 'pg';
import type { Enrolment, SigningIdentity } from '../../network/ledger';
import { signingIdentity } from '../../network/membership';
import type { Principal } from './principal';

/** What a principal's sealed key is bound to: its row. */
function identityContext(principalKey: string): string {
    return `gateway_identities:${principalKey}`;
}

/** Gives each principal its own ledger identity, so the chaincode judges the principal itself. */
export interface IdentityProvider {
    identityFor(principal: Principal): Promise<SigningIdentity>;
}

/**
 * The gateway enrols each principal with its organisation's certificate
 * authority the first time it is seen, with its role (and USCC) as certificate attributes, and
 * keeps the enrolment in PostgreSQL so that a restart reuses it.
 */
export class EnrolledIdentityProvider implements IdentityProvider {
    private readonly cache = new Map<string, Promise<SigningIdentity>>();

    constructor(private readonly enrolment: Enrolment, private readonly pool: Pool) {}

    identityFor(principal: Principal): Promise<SigningIdentity> {
        // None of these may contain '|' (see principalProblem), so the key is unambiguous.
        const key = `${principal.org}|${principal.subject}|${principal.role}|${principal.uscc ?? ''}`;
        let identity = this.cache.get(key);
        if (!identity) {
            identity = this.load(key, principal);
            identity.catch(() => this.cache.delete(key));
            this.cache.set(key, identity);
        }
        return identity;
    }

    /**
     * Seals every principal's private key still stored as it was before keys were sealed, so that
     * a dump of the database holds none in the clear.
     */
    async sealStored(): Promise<number> {
        const plain = await this.pool.query<{ principal_key: string; private_key: string }>(
            "SELECT principal_key, private_key FROM gateway_identities WHERE private_key NOT LIKE 'sealed-v1:%'");
        for (const row of plain.rows) {
            await this.pool.query('UPDATE gateway_identities SET private_key = $3::text WHERE principal_key = $1::text AND private_key = $2::text',
                [row.principal_key, row.private_key, this.enrolment.keys.seal(row.private_key, identityContext(row.principal_key))]);
        }
        return plain.rows.length;
    }

    private async load(key: string, principal: Principal): Promise<SigningIdentity> {
        const stored = await this.pool.query<{ certificate: string; private_key: string }>(
            'SELECT certificate, private_key FROM gateway_identities WHERE principal_key = $1::text', [key]);
        const row = stored.rows[0];
        if (row && this.enrolment.problemWith(principal.org, row.certificate, new Date()) === undefined) {
            return signingIdentity(principal.org, row.certificate, this.enrolment.keys.unseal(row.private_key, identityContext(key)));
        }
        const issued = await this.enrolment.enrol(principal.org, {
            name: principal.subject,
            attributes: { role: principal.role, ...(principal.uscc ? { uscc: principal.uscc } : {}) },
        });
        await this.pool.query(
            `INSERT INTO gateway_identities (principal_key, msp_id, certificate, private_key) VALUES ($1::text, $2::text, $3::text, $4::text)
             ON CONFLICT (principal_key) DO UPDATE SET certificate = EXCLUDED.certificate, private_key = EXCLUDED.private_key`,
            [key, principal.org, issued.certificate, this.enrolment.keys.seal(issued.privateKey, identityContext(key))]);
        return issued;
    }
}
