/** `npm start`: the whole hub on one machine, with a word on how to sign in. */
import './chaincode-log-level';
import { runHub } from './hub';

runHub({ welcome: true }).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
