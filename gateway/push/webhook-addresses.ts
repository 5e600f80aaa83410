import { lookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses a webhook may not reach unless an administrator allows their range: the hub's own
 * machine, its private networks and cloud metadata services would otherwise be scanned or called
 * by anyone who may subscribe.
 */
const DENIED: readonly (readonly [cidr: string, what: string])[] = [
    ['0.0.0.0/8', 'a "this network" address'],
    ['127.0.0.0/8', 'a loopback address'],
    ['10.0.0.0/8', 'a private address'],
    ['172.16.0.0/12', 'a private address'],
    ['192.168.0.0/16', 'a private address'],
    ['100.64.0.0/10', 'a carrier-grade NAT address'],
    ['169.254.0.0/16', 'a link-local address (cloud metadata services live here)'],
    ['192.0.0.0/24', 'an IETF protocol address'],
    ['198.18.0.0/15', 'a benchmarking address'],
    ['224.0.0.0/4', 'a multicast address'],
    ['240.0.0.0/4', 'a reserved address'],
    ['::/128', 'the unspecified address'],
    ['::1/128', 'a loopback address'],
    ['::ffff:0:0/96', 'an IPv4-mapped address'],
    ['64:ff9b::/96', 'a NAT64 address'],
    ['100::/64', 'a discard address'],
    ['fc00::/7', 'a private (unique local) address'],
    ['fe80::/10', 'a link-local address'],
    ['ff00::/8', 'a multicast address'],
];

/** Parses `a.b.c.d/n` or `x::/n`; undefined when it is not a CIDR range. */
export function parseRange(text: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
    const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
    const family = match ? isIP(match[1] as string) : 0;
    const prefix = Number(match?.[2]);
    if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
        return undefined;
    }
    return { address: match[1] as string, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

function blockListOf(ranges: readonly string[]): BlockList {
    const list = new BlockList();
    for (const range of ranges) {
        const parsed = parseRange(range);
        if (!parsed) {
            throw new Error(`${range} is not a CIDR range`);
        }
        list.addSubnet(parsed.address, parsed.prefix, parsed.type);
    }
    return list;
}

/** Which addresses webhooks may be delivered to: public ones, and the ranges an administrator allows. */
export class WebhookAddressPolicy {
    private readonly denied = DENIED.map(([cidr, what]) => ({ list: blockListOf([cidr]), type: parseRange(cidr)?.type, what }));
    private readonly allowed: BlockList;

    /** `allowedRanges`: CIDR ranges webhooks may reach although they are private (agency receivers). */
    constructor(readonly allowedRanges: readonly string[] = []) {
        this.allowed = blockListOf(allowedRanges);
    }

    /** Why deliveries may not go to this IP address, or undefined when they may. */
    problemWith(address: string): string | undefined {
        const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
        if (this.allowed.check(address, type)) {
            return undefined;
        }
        // Each range is checked against addresses of its own family: a BlockList matches IPv4
        // addresses against IPv4-mapped IPv6 ranges too.
        const denied = this.denied.find((entry) => entry.type === type && entry.list.check(address, type));
        return denied ? `${address} is ${denied.what}; an administrator may allow its range (COUNTERFOIL_WEBHOOK_ALLOWED_RANGES)` : undefined;
    }

    /**
     * Why deliveries may not go to this host, or undefined: an IP address is judged as it is, a
     * name by every address it resolves to now. A name that does not resolve passes here; each
     * delivery resolves it again and connects only to addresses this policy allows.
     */
    async problemWithHost(host: string): Promise<string | undefined> {
        const bare = host.replace(/^\[(.*)\]$/, '$1');
        if (isIP(bare)) {
            return this.problemWith(bare);
        }
        const addresses = await new Promise<{ address: string }[]>((resolve) => {
            lookup(bare, { all: true }, (error, found) => resolve(error ? [] : found));
        });
        const refused = this.problemWithAny(addresses);
        return refused ? `${host} resolves to ${refused}` : undefined;
    }

    /** Why one of the addresses a name resolves to may not be reached, or undefined when none is refused. */
    private problemWithAny(addresses: readonly { address: string }[]): string | undefined {
        return addresses.map(({ address }) => this.problemWith(address)).find((problem) => problem !== undefined);
    }

    /**
     * A DNS lookup for outgoing connections that fails when a name resolves to an address this
     * policy refuses, so that a name changed after subscribing (DNS rebinding) reaches nothing it
     * may not.
     */
    readonly lookup: LookupFunction = (hostname, options, callback) => {
        lookup(hostname, { ...options, all: true }, (error, addresses) => {
            if (error) {
                (callback as (error: NodeJS.ErrnoException) => void)(error);
                return;
            }
            const refused = this.problemWithAny(addresses);
            if (refused) {
                (callback as (error: NodeJS.ErrnoException) => void)(Object.assign(new Error(`${hostname} resolves to ${refused}`), { code: 'EADDRNOTALLOWED' }));
                return;
            }
            if (options.all) {
                (callback as (error: null, addresses: { address: string; family: number }[]) => void)(null, addresses);
            } else {
                const [first] = addresses;
                (callback as (error: NodeJS.ErrnoException | null, address: string, family: number) => void)(
                    first ? null : Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), first?.address ?? '', first?.family ?? 4);
            }
        });
    };
}
