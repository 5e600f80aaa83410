export { AuthorityEnrolment, issuedBy, type Member, MembershipAuthority, signedBy, signingIdentity, verifySignature, validityProblem, FABRIC_ATTRIBUTES_OID, type AuthorityRecord, type IdentityRequest, type IssuedIdentity } from './authorities';
export { KeySealer } from './key-sealer';
export { readOrCreateSecretFile } from './secret-file';
