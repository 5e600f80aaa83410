import type { Principal } from '../../gateway/auth/principal';
import { makeUscc } from '../conformance/fixtures';

export const EXPORTER_USCC = makeUscc(310115);
export const OTHER_USCC = makeUscc(440300);

export const PERSONAS = {
    commerce: { subject: 'licensing-officer', org: 'CommerceMSP', role: 'operator' },
    customs: { subject: 'officer-2201', org: 'CustomsMSP', role: 'operator' },
    customsAdmin: { subject: 'hub-admin', org: 'CustomsMSP', role: 'admin' },
    tax: { subject: 'refund-desk', org: 'TaxMSP', role: 'operator' },
    forex: { subject: 'receipts-desk', org: 'ForexMSP', role: 'operator' },
    inspection: { subject: 'certifier', org: 'InspectionMSP', role: 'operator' },
    auditor: { subject: 'auditor', org: 'CustomsMSP', role: 'auditor' },
    exporter: { subject: 'exporter', org: 'EnterprisesMSP', role: 'enterprise', uscc: EXPORTER_USCC },
    other: { subject: 'other', org: 'EnterprisesMSP', role: 'enterprise', uscc: OTHER_USCC },
} as const satisfies Record<string, Principal>;

export type Persona = keyof typeof PERSONAS;
