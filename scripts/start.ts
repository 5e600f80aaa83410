/**
 * `npm start [-- --no-simulators] [-- --ledger embedded|network]`: the whole hub on one machine —
 * PostgreSQL, the embedded ledger (or a CometBFT network's customs node, brought up by `npm run network -- up`), the gateway and its console, the adapters, and five simulated
 * agency systems producing a steady export flow (unless --no-simulators, for real agency systems
 * declared in COUNTERFOIL_ADAPTERS_FILE).
 */
import './chaincode-log-level';
import { parseArgs } from 'node:util';
import { runHub } from './hub';

const { values } = parseArgs({ options: { 'no-simulators': { type: 'boolean', default: false }, ledger: { type: 'string' } }, strict: true });
if (values.ledger !== undefined && values.ledger !== 'embedded' && values.ledger !== 'network') {
    console.error(values.ledger === 'fabric'
        ? '--ledger fabric: the Fabric network cannot be built on this machine (see the README); run --ledger network for a CometBFT network'
        : '--ledger must be embedded or network');
    process.exit(2);
}
if (values.ledger !== undefined) {
    process.env.LEDGER = values.ledger;
}
runHub({ welcome: true, simulators: !values['no-simulators'] }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
