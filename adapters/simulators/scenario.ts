import type { AdapterConfig } from '../config';
import type { DocumentItem, HandoffItem, VerificationItem } from '../feed-contract';
import type { SimulatedAgencySystem } from './agency-system';
import { type Enterprise, GOODS, PORTS, TradeData } from './trade-data';

export interface ScenarioTotals {
    readonly licences: number;
    readonly declarations: number;
    readonly certificates: number;
    readonly handoffs: number;
    /** Declared quantity per licence number, what a valid verification draws. */
    readonly drawn: ReadonlyMap<string, number>;
    /** Every handoff the scenario has an agency send. */
    readonly transfers: readonly Transfer[];
}

export interface Transfer {
    readonly sender: string;
    readonly messageId: string;
    readonly recipient: string;
}

/** When each declaration's records appear in the agencies' feeds (epoch milliseconds). */
export interface ScenarioPace {
    /** The first licence. */
    readonly start: number;
    /** Between one declaration's licence and the next's. */
    readonly everyMs: number;
    /** From a licence to the declaration quoting it, at customs. */
    readonly customsLagMs: number;
}

type Systems = Readonly<Record<'commerce' | 'inspection' | 'customs', SimulatedAgencySystem>>;

/** The five agencies of the export flow: what each one's system sends and receives. */
export const EXPORT_FLOW_AGENCIES = [
    { name: 'commerce', organisation: 'CommerceMSP', sends: ['LICENCE'], receives: [] },
    { name: 'inspection', organisation: 'InspectionMSP', sends: ['ORIGIN_CERT'], receives: [] },
    { name: 'customs', organisation: 'CustomsMSP', sends: ['EXPORT_DECLARATION'], receives: ['LICENCE', 'ORIGIN_CERT'] },
    { name: 'tax', organisation: 'TaxMSP', sends: [], receives: ['EXPORT_DECLARATION'] },
    { name: 'forex', organisation: 'ForexMSP', sends: [], receives: ['EXPORT_DECLARATION'] },
] as const;
export type FlowAgency = (typeof EXPORT_FLOW_AGENCIES)[number]['name'];

/**
 * Starts the five agencies' systems and answers a relay adapter's configuration for each (named
 * `<prefix><agency>`), in the order the flow runs.
 */
export async function exportFlowAdapters(
    systems: Readonly<Record<FlowAgency, SimulatedAgencySystem>>,
    settings: Readonly<{ schedule: string; maxDeliveryAttempts: number; maxRetransmissions: number; concurrency?: number; prefix?: string }>,
): Promise<AdapterConfig[]> {
    const configs: AdapterConfig[] = [];
    for (const agency of EXPORT_FLOW_AGENCIES) {
        configs.push({
            name: `${settings.prefix ?? ''}${agency.name}`, organisation: agency.organisation, transport: 'http-feed', system: await systems[agency.name].start(),
            schedule: settings.schedule, mode: 'relay', sends: [...agency.sends], receives: [...agency.receives],
            maxDeliveryAttempts: settings.maxDeliveryAttempts, maxRetransmissions: settings.maxRetransmissions, concurrency: settings.concurrency ?? 8,
        });
    }
    return configs;
}

/**
 * A coherent export flow across five agency systems, one declaration at a time, deterministic from
 * a seed: commerce issues an export licence and hands customs a copy; inspection, for about half,
 * issues a certificate of origin and hands it to customs; customs records the declaration,
 * verifies the licence it quotes and sends the declaration data to tax and forex.
 */
export class ExportFlow {
    private readonly data: TradeData;
    /** The exporters the flow trades for. */
    readonly enterprises: readonly Enterprise[];
    readonly drawn = new Map<string, number>();
    readonly transfers: Transfer[] = [];
    declarations = 0;
    certificates = 0;
    /** The exporter of the first declaration. */
    firstExporter?: Enterprise;

    /** `firstSerial` starts declaration and licence numbers further on (a flow that continues another). */
    constructor(private readonly systems: Systems, options: Readonly<{ seed: number; enterprises: number; firstSerial?: number }>) {
        this.data = new TradeData(options.seed, options.firstSerial);
        this.enterprises = Array.from({ length: Math.max(2, options.enterprises) }, () => this.data.enterprise());
    }

    get totals(): ScenarioTotals {
        return { licences: this.declarations, declarations: this.declarations, certificates: this.certificates, handoffs: this.transfers.length, drawn: this.drawn, transfers: this.transfers };
    }

    /** One declaration's records: the licence and certificate from `issuedAt`, customs' records from `declaredAt` (0: at once). */
    next(issuedAt = 0, declaredAt = 0): void {
        const { data, systems } = this;
        const now = Date.now();
        const day = 86_400_000;
        const handOff = (system: SimulatedAgencySystem, handoff: HandoffItem, at: number): void => {
            system.send(handoff, at);
            this.transfers.push({ sender: system.organisation, messageId: handoff.messageId, recipient: handoff.recipient });
        };
        this.declarations++;
        const enterprise = data.random.pick(this.enterprises);
        this.firstExporter ??= enterprise;
        const goods = data.random.pick(GOODS);
        const quantity = data.random.integer(goods.lot[0], goods.lot[1]);
        const licence = data.licenceNumber();
        const port = data.random.pick(PORTS);
        const licenceItem: DocumentItem = {
            kind: 'document', type: 'LICENCE', number: licence, holder: enterprise.uscc,
            validFrom: new Date(now - 30 * day).toISOString(), validTo: new Date(now + 150 * day).toISOString(),
            summary: { holderName: enterprise.name, goods: goods.name },
            permit: { direction: 'EXPORT', goods: [{ hsCode: goods.hsCode, quantity: quantity * 2, unit: goods.unit }], useLimit: 12, bulk: 'bulk' in goods },
            content: Buffer.from(`出口许可证 ${licence} ${enterprise.name} ${goods.name} ${quantity * 2} ${goods.unit}`).toString('base64'),
        };
        systems.commerce.send(licenceItem, issuedAt);
        handOff(systems.commerce, {
            kind: 'handoff', messageId: `LIC-${licence}`, recipient: 'CustomsMSP', subject: enterprise.uscc,
            document: { type: 'LICENCE', number: licence }, payload: licenceItem.content,
        }, issuedAt);
        if (data.random.next() < 0.5) {
            this.certificates++;
            const certificate: DocumentItem = {
                kind: 'document', type: 'ORIGIN_CERT', number: `CO${licence.replace(/-/g, '')}`, holder: enterprise.uscc,
                validFrom: new Date(now - day).toISOString(), validTo: new Date(now + 90 * day).toISOString(), summary: { holderName: enterprise.name },
                permit: { direction: 'EXPORT', goods: [{ hsCode: goods.hsCode, quantity, unit: goods.unit }], useLimit: 1 },
                content: Buffer.from(`原产地证书 ${enterprise.name} ${goods.name}`).toString('base64'),
            };
            systems.inspection.send(certificate, issuedAt);
            handOff(systems.inspection, {
                kind: 'handoff', messageId: `COO-${certificate.number}`, recipient: 'CustomsMSP', subject: enterprise.uscc,
                document: { type: 'ORIGIN_CERT', number: certificate.number }, payload: certificate.content,
            }, issuedAt);
        }
        const declaration = data.declarationNumber(port.code);
        systems.customs.send({
            kind: 'document', type: 'EXPORT_DECLARATION', number: declaration, holder: enterprise.uscc,
            validFrom: new Date(now - day).toISOString(), validTo: new Date(now + 365 * day).toISOString(),
            summary: { exporter: enterprise.name, port: port.name }, content: Buffer.from(`报关单 ${declaration}`).toString('base64'),
        }, declaredAt);
        const verification: VerificationItem = {
            kind: 'verification', declarationNumber: declaration, permit: { type: 'LICENCE', number: licence }, holder: enterprise.uscc,
            direction: 'EXPORT', goods: [{ hsCode: goods.hsCode, quantity, unit: goods.unit }], declaredAt: new Date(now - 60_000).toISOString(), port: port.code,
        };
        systems.customs.send(verification, declaredAt);
        this.drawn.set(licence, quantity);
        for (const recipient of ['TaxMSP', 'ForexMSP']) {
            const payload = `<报关单 编号="${declaration}" 经营单位="${enterprise.name}" 商品编码="${goods.hsCode}" 数量="${quantity}" 单位="${goods.unit}"/>`;
            handOff(systems.customs, {
                kind: 'handoff', messageId: `EXP-${declaration}-${recipient}`, recipient, subject: enterprise.uscc,
                document: { type: 'EXPORT_DECLARATION', number: declaration }, payload: Buffer.from(payload).toString('base64'),
            }, declaredAt);
        }
    }
}

/**
 * Fills five agency systems' outboxes with the export flow, `declarations` of them, at once or
 * paced (customs lodging each declaration a set time after its licence).
 */
export function exportScenario(systems: Systems, options: Readonly<{ seed: number; declarations: number; pace?: ScenarioPace }>): ScenarioTotals {
    const flow = new ExportFlow(systems, { seed: options.seed, enterprises: Math.ceil(options.declarations / 3) });
    for (let index = 0; index < options.declarations; index++) {
        const issuedAt = options.pace ? options.pace.start + index * options.pace.everyMs : 0;
        flow.next(issuedAt, options.pace ? issuedAt + options.pace.customsLagMs : 0);
    }
    return flow.totals;
}
