import type { DocumentItem, HandoffItem, VerificationItem } from '../feed-contract';
import type { SimulatedAgencySystem } from './agency-system';
import { GOODS, PORTS, TradeData } from './trade-data';

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

/**
 * Fills five agency systems' outboxes with a coherent flow, deterministic from a seed: commerce
 * issues export licences and sends customs a copy; inspection issues certificates of origin and
 * sends them to customs; customs records each declaration, verifies the licence it quotes and
 * sends the declaration data to tax and forex. Without a pace everything is in the feeds at once.
 */
export function exportScenario(
    systems: Readonly<Record<'commerce' | 'inspection' | 'customs', SimulatedAgencySystem>>,
    options: Readonly<{ seed: number; declarations: number; pace?: ScenarioPace }>,
): ScenarioTotals {
    const data = new TradeData(options.seed);
    const now = Date.now();
    const day = 86_400_000;
    const drawn = new Map<string, number>();
    const transfers: Transfer[] = [];
    const handOff = (system: SimulatedAgencySystem, handoff: HandoffItem, at: number): void => {
        system.send(handoff, at);
        transfers.push({ sender: system.organisation, messageId: handoff.messageId, recipient: handoff.recipient });
    };
    let certificates = 0;
    const enterprises = Array.from({ length: Math.max(2, Math.ceil(options.declarations / 3)) }, () => data.enterprise());
    for (let index = 0; index < options.declarations; index++) {
        const issuedAt = options.pace ? options.pace.start + index * options.pace.everyMs : 0;
        const declaredAt = options.pace ? issuedAt + options.pace.customsLagMs : 0;
        const enterprise = data.random.pick(enterprises);
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
            certificates++;
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
        drawn.set(licence, quantity);
        for (const recipient of ['TaxMSP', 'ForexMSP']) {
            const payload = `<报关单 编号="${declaration}" 经营单位="${enterprise.name}" 商品编码="${goods.hsCode}" 数量="${quantity}" 单位="${goods.unit}"/>`;
            const handoff: HandoffItem = {
                kind: 'handoff', messageId: `EXP-${declaration}-${recipient}`, recipient, subject: enterprise.uscc,
                document: { type: 'EXPORT_DECLARATION', number: declaration }, payload: Buffer.from(payload).toString('base64'),
            };
            handOff(systems.customs, handoff, declaredAt);
        }
    }
    return { licences: options.declarations, declarations: options.declarations, certificates, handoffs: transfers.length, drawn, transfers };
}
