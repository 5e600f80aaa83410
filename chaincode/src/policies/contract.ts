import { Context, Info, Transaction } from 'fabric-contract-api';
import { CounterfoilContract } from '../common/contract';
import { callerOf, requireAgency, requireRole, requireWriter } from '../common/caller';
import { forbidden, invalidArgument } from '../common/errors';
import { emit } from '../common/events';
import { Fields } from '../common/fields';
import { type Page, pageOfIndex, readPageRequest, readRecord, transactionTime, writeRecord } from '../common/state';
import { AGENCIES, type Agency, DOCUMENT_TYPES } from '../common/vocabulary';
import { ANY, DEADLINE_POLICY, type DeadlinePolicy, type Deadlines, deadlinesFor, policyKey } from './deadlines';

const MIN_SECONDS = 1;
const MAX_SECONDS = 90 * 24 * 3600;
const WITH_ANY = <T extends string>(values: readonly T[]): readonly (T | typeof ANY)[] => [...values, ANY];

@Info({ title: 'Policies', description: 'Deadlines for receipt and acknowledgement per document type and agency pair' })
export class PolicyContract extends CounterfoilContract {
    constructor() {
        super('policies');
    }

    /**
     * Sets the deadlines for one document type and agency pair (`*` matches any). An agency's
     * admin may set policies for transfers it sends or receives; the customs admin, who runs
     * the hub, may set any, wildcards included.
     */
    @Transaction()
    async SetDeadlines(ctx: Context, request: string): Promise<DeadlinePolicy> {
        const caller = callerOf(ctx);
        requireWriter(caller);
        const agency = requireAgency(caller, 'set deadline policies');
        requireRole(caller, ['admin'], 'set deadline policies');
        const fields = Fields.parse(request);
        const documentType = fields.oneOf('documentType', WITH_ANY(DOCUMENT_TYPES));
        const sender = fields.oneOf('sender', WITH_ANY(AGENCIES));
        const recipient = fields.oneOf('recipient', WITH_ANY(AGENCIES));
        const receiptSeconds = fields.integer('receiptSeconds', { min: MIN_SECONDS, max: MAX_SECONDS });
        const acknowledgementSeconds = fields.integer('acknowledgementSeconds', { min: MIN_SECONDS, max: MAX_SECONDS });
        fields.done();
        if (acknowledgementSeconds < receiptSeconds) {
            throw invalidArgument('acknowledgementSeconds', 'must not be shorter than receiptSeconds');
        }
        if (sender !== ANY && sender === recipient) {
            throw invalidArgument('recipient', 'must differ from sender');
        }
        if (agency.mspId !== 'CustomsMSP' && sender !== agency.mspId && recipient !== agency.mspId) {
            throw forbidden('caller', `${agency.mspId} may set policies only for transfers it sends or receives`);
        }
        const policy: DeadlinePolicy = {
            documentType, sender: sender as Agency | typeof ANY, recipient: recipient as Agency | typeof ANY,
            receiptSeconds, acknowledgementSeconds, setBy: agency.mspId, setAt: transactionTime(ctx), transactionId: ctx.stub.getTxID(),
        };
        await writeRecord(ctx, policyKey(ctx, documentType, sender, recipient), policy);
        emit(ctx, 'DeadlinePolicySet', policy);
        return policy;
    }

    /** The deadlines that apply to one document type sent from one agency to another. */
    @Transaction(false)
    async GetDeadlines(ctx: Context, request: string): Promise<Deadlines> {
        callerOf(ctx);
        const fields = Fields.parse(request);
        const documentType = fields.oneOf('documentType', DOCUMENT_TYPES);
        const sender = fields.oneOf('sender', AGENCIES);
        const recipient = fields.oneOf('recipient', AGENCIES);
        fields.done();
        return deadlinesFor(ctx, documentType, sender, recipient);
    }

    @Transaction(false)
    async ListDeadlines(ctx: Context, request: string): Promise<Page<DeadlinePolicy>> {
        callerOf(ctx);
        const fields = Fields.parse(request);
        const page = readPageRequest(fields);
        fields.done();
        return pageOfIndex(ctx, DEADLINE_POLICY, [], page, ([type, sender, recipient]) =>
            readRecord<DeadlinePolicy>(ctx, policyKey(ctx, type ?? '', sender ?? '', recipient ?? '')));
    }
}
