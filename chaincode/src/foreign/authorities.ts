import { Context, Info, Transaction } from 'fabric-contract-api';
import { callerOf, requireAgency, requireRole, requireWriter } from '../common/caller';
import { CounterfoilContract } from '../common/contract';
import { conflict, failedPrecondition, invalidArgument, notFound } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { type Page, pageOfIndex, readPageRequest, readRecord, sameContent, transactionTime, writeRecord } from '../common/state';
import { CODE_RULE } from '../common/vocabulary';
import { readCertificate, type SignerRecord } from './signers';

/**
 * A foreign issuing authority (a ministry of agriculture issuing phytosanitary certificates, a
 * chamber of commerce issuing certificates of origin), as customs keeps it on file: whom to
 * reach, and the certificates its signatures are checked against. Every change is a new version;
 * earlier versions stay readable, so a verdict can be traced to the registry as it then stood.
 */
export interface AuthorityRecord {
    /** The country's ISO 3166 code, a hyphen and the authority's short name: AU-DAFF. */
    readonly authorityId: string;
    readonly country: string;
    readonly name: string;
    /** The address cases about its certificates are sent to. */
    readonly contact: string;
    readonly signers: SignerRecord[];
    readonly version: number;
    /** What this version changed: REGISTERED, UPDATED, SIGNER_ADDED, SIGNER_RETIRED. */
    readonly change: string;
    readonly updatedAt: string;
    readonly updatedBy: string;
    readonly transactionId: string;
}

export const AUTHORITY = 'authority';
export const AUTHORITY_VERSION = 'authority-version';

/** Authority ids carry a hyphen, so they never read as an agency's MSP id or an enterprise's USCC. */
export const AUTHORITY_ID_RULE = {
    pattern: /^[A-Z]{2}-[A-Z0-9]{1,16}(?:-[A-Z0-9]{1,16}){0,2}$/, maxLength: 40,
    patternRule: 'must be the ISO 3166 country code, a hyphen and 1 to 16 capitals or digits (up to two more hyphenated parts), e.g. AU-DAFF',
};
/** An e-mail address as the hub sends to it: a plain local part, @, a domain name (no display name, no line breaks). */
export const EMAIL_ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const CONTACT_RULE = { pattern: EMAIL_ADDRESS, patternRule: 'must be an e-mail address', maxLength: 254 };
const NAME_RULE = { maxLength: 200 };

function authorityKey(ctx: Context, authorityId: string): string {
    return ctx.stub.createCompositeKey(AUTHORITY, [authorityId]);
}

function versionKey(ctx: Context, authorityId: string, version: number): string {
    return ctx.stub.createCompositeKey(AUTHORITY_VERSION, [authorityId, String(version).padStart(6, '0')]);
}

export async function getAuthority(ctx: Context, authorityId: string): Promise<AuthorityRecord> {
    const record = await readRecord<AuthorityRecord>(ctx, authorityKey(ctx, authorityId));
    if (!record) {
        throw notFound('authorityId', `no foreign authority ${authorityId} is on file: customs' administrators register it first`);
    }
    return record;
}

/** Customs' administrators keep the registry. */
function requireRegistrar(ctx: Context): string {
    const caller = callerOf(ctx);
    requireWriter(caller);
    const agency = requireAgency(caller, 'keep the registry of foreign authorities', ['CustomsMSP']);
    requireRole(caller, ['admin'], 'keep the registry of foreign authorities');
    return agency.mspId;
}

@Info({ title: 'Foreign authorities', description: 'The registry of foreign issuing authorities and their signing certificates' })
export class AuthorityContract extends CounterfoilContract {
    constructor() {
        super('authorities');
    }

    /** Puts an authority on file (customs' administrators); registering it again as it stands changes nothing. */
    @Transaction()
    async Register(ctx: Context, request: string): Promise<AuthorityRecord> {
        const by = requireRegistrar(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const country = fields.string('country', { pattern: /^[A-Z]{2}$/, patternRule: 'must be an ISO 3166 alpha-2 country code' });
        const name = fields.string('name', NAME_RULE);
        const contact = fields.string('contact', CONTACT_RULE);
        fields.done();
        if (!authorityId.startsWith(`${country}-`)) {
            throw invalidArgument('authorityId', `must start with the country code: ${country}-`);
        }
        const existing = await readRecord<AuthorityRecord>(ctx, authorityKey(ctx, authorityId));
        if (existing) {
            if (sameContent([existing.country, existing.name, existing.contact], [country, name, contact])) {
                return existing;
            }
            throw conflict('authorityId', `${authorityId} is already on file with other particulars: change them with Update`);
        }
        return this.save(ctx, { authorityId, country, name, contact, signers: [] }, 1, 'REGISTERED', by);
    }

    /** Changes an authority's name or contact, at the version the caller read. */
    @Transaction()
    async Update(ctx: Context, request: string): Promise<AuthorityRecord> {
        const by = requireRegistrar(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const expectedVersion = fields.integer('expectedVersion', { min: 1, max: 999_998 });
        const name = fields.optionalString('name', NAME_RULE);
        const contact = fields.optionalString('contact', CONTACT_RULE);
        fields.done();
        const current = await getAuthority(ctx, authorityId);
        const wanted = { name: name ?? current.name, contact: contact ?? current.contact };
        if (current.version === expectedVersion + 1 && current.change === 'UPDATED' && sameContent([current.name, current.contact], [wanted.name, wanted.contact])) {
            return current; // this update was already applied: a retry
        }
        if (current.version !== expectedVersion) {
            throw conflict('expectedVersion', `${authorityId} is at version ${current.version}, not ${expectedVersion}`);
        }
        return this.save(ctx, { ...current, ...wanted }, current.version + 1, 'UPDATED', by);
    }

    /**
     * Puts a signing certificate on file for an authority, accepted for signatures made from
     * `validFrom` until `validTo` (by default, the certificate's own validity, which they must
     * fall within). Adding the same certificate with the same window again changes nothing.
     */
    @Transaction()
    async AddSigner(ctx: Context, request: string): Promise<AuthorityRecord> {
        const by = requireRegistrar(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const { identity, der } = readCertificate(fields, 'certificate');
        const validFrom = fields.has('validFrom') ? fields.timestamp('validFrom') : (fields.optionalString('validFrom'), identity.notBefore);
        const validTo = fields.has('validTo') ? fields.timestamp('validTo') : (fields.optionalString('validTo'), identity.notAfter);
        fields.done();
        if (validFrom < identity.notBefore || validTo > identity.notAfter) {
            throw invalidArgument('validFrom', `the window must fall within the certificate's own validity, ${identity.notBefore} to ${identity.notAfter}`);
        }
        if (validFrom >= validTo) {
            throw invalidArgument('validTo', 'must be later than validFrom');
        }
        const current = await getAuthority(ctx, authorityId);
        const existing = current.signers.find((signer) => signer.fingerprint === identity.fingerprint);
        if (existing) {
            if (existing.validFrom === validFrom && existing.validTo === validTo) {
                return current;
            }
            throw conflict('certificate', `${identity.subject} is already on file for ${authorityId} from ${existing.validFrom} until ${existing.validTo}`);
        }
        const signer: SignerRecord = { ...identity, validFrom, validTo, certificate: der, addedAt: transactionTime(ctx), addedBy: by };
        return this.save(ctx, { ...current, signers: [...current.signers, signer] }, current.version + 1, 'SIGNER_ADDED', by);
    }

    /**
     * Retires a signing certificate: signatures it makes from `retiredAt` on (by default, now) are
     * not accepted. It stays on file, so that what it signed before stays verifiable.
     */
    @Transaction()
    async RetireSigner(ctx: Context, request: string): Promise<AuthorityRecord> {
        const by = requireRegistrar(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const fingerprint = fields.hash('fingerprint');
        const retiredAt = fields.has('retiredAt') ? fields.timestamp('retiredAt') : (fields.optionalString('retiredAt'), transactionTime(ctx));
        const reason = fields.string('reason', CODE_RULE);
        fields.done();
        const current = await getAuthority(ctx, authorityId);
        const signer = current.signers.find((candidate) => candidate.fingerprint === fingerprint);
        if (!signer) {
            throw notFound('fingerprint', `no signing certificate with that SHA-256 is on file for ${authorityId}`);
        }
        if (signer.retiredAt !== undefined) {
            if (signer.retiredReason === reason) {
                return current;
            }
            throw failedPrecondition('fingerprint', `${signer.subject} was retired at ${signer.retiredAt} (${signer.retiredReason ?? ''})`);
        }
        const retired: SignerRecord = { ...signer, retiredAt, retiredReason: reason };
        const signers = current.signers.map((candidate) => (candidate === signer ? retired : candidate));
        return this.save(ctx, { ...current, signers }, current.version + 1, 'SIGNER_RETIRED', by);
    }

    /** An authority as it stands (any caller: the registry is public). */
    @Transaction(false)
    async Get(ctx: Context, request: string): Promise<AuthorityRecord> {
        callerOf(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        fields.done();
        return getAuthority(ctx, authorityId);
    }

    /** Every authority on file, by id. */
    @Transaction(false)
    async List(ctx: Context, request: string): Promise<Page<AuthorityRecord>> {
        callerOf(ctx);
        const fields = Fields.parse(request);
        const page = readPageRequest(fields);
        fields.done();
        return pageOfIndex(ctx, AUTHORITY, [], page, ([authorityId]) => readRecord<AuthorityRecord>(ctx, authorityKey(ctx, authorityId ?? '')));
    }

    /** An authority's versions, oldest first: who changed what, when. */
    @Transaction(false)
    async History(ctx: Context, request: string): Promise<Page<AuthorityRecord>> {
        callerOf(ctx);
        const fields = Fields.parse(request);
        const authorityId = fields.string('authorityId', AUTHORITY_ID_RULE);
        const page = readPageRequest(fields);
        fields.done();
        await getAuthority(ctx, authorityId);
        return pageOfIndex(ctx, AUTHORITY_VERSION, [authorityId], page, ([id, version]) =>
            readRecord<AuthorityRecord>(ctx, ctx.stub.createCompositeKey(AUTHORITY_VERSION, [id ?? '', version ?? ''])));
    }

    private async save(
        ctx: Context, particulars: Pick<AuthorityRecord, 'authorityId' | 'country' | 'name' | 'contact' | 'signers'>, version: number, change: string, by: string,
    ): Promise<AuthorityRecord> {
        const record: AuthorityRecord = {
            ...particulars, version, change, updatedAt: transactionTime(ctx), updatedBy: by, transactionId: ctx.stub.getTxID(),
        };
        await writeRecord(ctx, authorityKey(ctx, record.authorityId), record);
        await writeRecord(ctx, versionKey(ctx, record.authorityId, version), record);
        emit(ctx, 'AuthorityChanged', record);
        return record;
    }
}
