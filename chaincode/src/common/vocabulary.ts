/** Organisations, roles and document types: the words every contract shares. */

export const AGENCIES = ['CustomsMSP', 'CommerceMSP', 'TaxMSP', 'ForexMSP', 'InspectionMSP'] as const;
export type Agency = (typeof AGENCIES)[number];

export const ENTERPRISES_MSP = 'EnterprisesMSP';

export const ROLES = ['operator', 'admin', 'auditor', 'reconciler', 'enterprise'] as const;
export type Role = (typeof ROLES)[number];

export const DOCUMENT_TYPES = ['LICENCE', 'ORIGIN_CERT', 'INSPECTION_CERT', 'EXPORT_DECLARATION'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** Documents that customs verifies when a declaration quotes them. */
export const PERMIT_TYPES = ['LICENCE', 'ORIGIN_CERT', 'INSPECTION_CERT'] as const;
export type PermitType = (typeof PERMIT_TYPES)[number];

export const DIRECTIONS = ['IMPORT', 'EXPORT'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The only agency that may issue each document type. */
export const ISSUER_OF: Readonly<Record<DocumentType, Agency>> = {
    LICENCE: 'CommerceMSP',
    ORIGIN_CERT: 'InspectionMSP',
    INSPECTION_CERT: 'InspectionMSP',
    EXPORT_DECLARATION: 'CustomsMSP',
};

/**
 * The private data collection that holds each type's confidential content, and the agencies
 * that are members of it (the issuer and the agencies the document is meant for). The Fabric
 * network's collection configuration must declare the same names and members.
 */
export const CONTENT_COLLECTIONS = {
    licenceContent: ['CommerceMSP', 'CustomsMSP'],
    certificateContent: ['InspectionMSP', 'CustomsMSP'],
    declarationContent: ['CustomsMSP', 'TaxMSP', 'ForexMSP'],
} as const satisfies Record<string, readonly Agency[]>;
export type ContentCollection = keyof typeof CONTENT_COLLECTIONS;

export const COLLECTION_OF: Readonly<Record<DocumentType, ContentCollection>> = {
    LICENCE: 'licenceContent',
    ORIGIN_CERT: 'certificateContent',
    INSPECTION_CERT: 'certificateContent',
    EXPORT_DECLARATION: 'declarationContent',
};

export function isAgency(mspId: string): mspId is Agency {
    return (AGENCIES as readonly string[]).includes(mspId);
}

/** Document numbers: letters, digits and a few separators, as agencies print them. */
export const DOCUMENT_NUMBER = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/;
/** Customs declaration numbers (报关单号) are 18 digits. */
export const DECLARATION_NUMBER = /^[0-9]{18}$/;
/** Chinese customs tariff codes: 10 digits. */
export const HS_CODE = /^[0-9]{10}$/;
/** Units of measure as customs codes them (e.g. KGM, PCE, TNE, 035). */
export const UNIT = /^[A-Z0-9]{1,8}$/;
/** Identifiers supplied by callers: message ids, case ids, reason and resolution codes. */
export const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const CODE = /^[A-Z][A-Z0-9_]{0,47}$/;
/** Customs port (关区) codes: 4 digits. */
export const PORT = /^[0-9]{4}$/;

/** The same patterns with the rule an error states, for the request field reader. */
export const DOCUMENT_NUMBER_RULE = { pattern: DOCUMENT_NUMBER, patternRule: 'must be 1 to 40 letters, digits or . _ / -, starting with a letter or digit', maxLength: 40 };
export const DECLARATION_NUMBER_RULE = { pattern: DECLARATION_NUMBER, patternRule: 'must be an 18-digit customs declaration number' };
export const HS_CODE_RULE = { pattern: HS_CODE, patternRule: 'must be a 10-digit HS code' };
export const UNIT_RULE = { pattern: UNIT, patternRule: 'must be a unit code of 1 to 8 capitals or digits, e.g. KGM' };
export const IDENTIFIER_RULE = { pattern: IDENTIFIER, patternRule: 'must be 1 to 128 letters, digits or . _ : -, starting with a letter or digit', maxLength: 128 };
export const CODE_RULE = { pattern: CODE, patternRule: 'must be 1 to 48 capitals, digits or _, starting with a capital', maxLength: 48 };
