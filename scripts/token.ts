/**
 * `npm run token -- --org CustomsMSP --role operator --sub officer1 [--uscc …] [--hours 8]`
 * prints a bearer token signed by the hub's key (COUNTERFOIL_TOKEN_KEY_FILE, default
 * .data/token-signing-key.pem, created if missing).
 */
import './chaincode-log-level';
import { parseArgs } from 'node:util';
import { readGatewayConfig } from '../gateway/config';
import { principalProblem } from '../gateway/auth/principal';
import { TokenService } from '../gateway/auth/tokens';

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: { org: { type: 'string' }, role: { type: 'string' }, sub: { type: 'string' }, uscc: { type: 'string' }, hours: { type: 'string', default: '8' } },
        strict: true,
    });
    const claims = { sub: values.sub, org: values.org, role: values.role, ...(values.uscc ? { uscc: values.uscc } : {}) };
    const problem = principalProblem(claims);
    const hours = Number(values.hours);
    const config = readGatewayConfig(process.env);
    const most = config.tokenMaxLifetimeSeconds / 3600;
    if (problem || !Number.isFinite(hours) || hours <= 0 || hours > most) {
        console.error(problem ?? `--hours must be a number of hours up to ${most} (COUNTERFOIL_TOKEN_MAX_HOURS)`);
        console.error('usage: npm run token -- --org CustomsMSP --role operator --sub officer1 [--uscc USCC] [--hours 8]');
        process.exit(2);
    }
    const tokens = await TokenService.open(config.tokenKeyFile, Date.now, config.tokenMaxLifetimeSeconds);
    process.stdout.write(`${await tokens.issue(
        { subject: values.sub as string, org: values.org as string, role: values.role as 'operator', ...(values.uscc ? { uscc: values.uscc } : {}) },
        { expiresInSeconds: Math.round(hours * 3600) },
    )}\n`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
