export { EmbeddedStub, endorsementProblem, hashedNamespace, type Simulation, type StateView, type StubOptions } from './stub';
export { loadChaincode } from './chaincode-runtime';
export { compareKeys, createCompositeKey, splitCompositeKey } from './composite-keys';
