/**
 * `npm start [-- --no-simulators] [-- --ledger embedded|fabric]`: the whole hub on one machine —
 * PostgreSQL, the embedded ledger, the gateway and its console, the adapters, and five simulated
 * agency systems producing a steady export flow (unless --no-simulators, for real agency systems
 * declared in COUNTERFOIL_ADAPTERS_FILE).
 */
import './chaincode-log-level';
import { parseArgs } from 'node:util';
import { runHub } from './hub';

const { values } = parseArgs({ options: { 'no-simulators': { type: 'boolean', default: false }, ledger: { type: 'string', default: 'embedded' } }, strict: true });
if (values.ledger !== 'embedded') {
    console.error(values.ledger === 'fabric'
        ? '--ledger fabric: the Fabric network cannot be built on this machine (see the README\'s Fabric section); the embedded ledger is what runs here'
        : '--ledger must be embedded or fabric');
    process.exit(2);
}
runHub({ welcome: true, simulators: !values['no-simulators'] }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
