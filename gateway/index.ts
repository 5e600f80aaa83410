export { startGateway, type GatewayOptions, type RunningGateway } from './server';
export { readGatewayConfig, ConfigError, type GatewayConfig } from './config';
export { TokenService, TOKEN_AUDIENCE, TOKEN_ISSUER } from './auth/tokens';
export { type Principal, principalProblem, API_ROLES, type ApiRole } from './auth/principal';
export { Problem, type ProblemCode } from './http/problem';
