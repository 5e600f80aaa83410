import type { Migration } from '../../postgres';

/**
 * A network node's place in CometBFT's chain: the last height it committed and the app hash it
 * answered, written with each block's state (Info reports them after a restart). CometBFT
 * heights without transactions make no Counterfoil block, so the two numberings differ.
 */
export const consensusSchema: Migration = {
    id: 2,
    name: 'consensus',
    sql: `
CREATE TABLE consensus_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    height    bigint NOT NULL,
    app_hash  bytea NOT NULL
);
`,
};
