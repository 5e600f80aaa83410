/** `npm run gateway`: the gateway with its ledger and database, for running behind other tooling. */
import './chaincode-log-level';
import { runHub } from './hub';

runHub({ welcome: false }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
