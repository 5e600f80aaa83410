export { verifyChain, replayDivergences, stateDivergences, type ChainReport, type ChainProblem, type StateDivergence, type StoredDivergence } from './chain';
export { replayLedger, type Finding, type KeyChange, type ReplayOptions, type ReplayProgress, type ReplayResult } from './replay';
