import { expect } from 'chai';
import { WebhookAddressPolicy } from '../../gateway/push';

describe('where webhooks may be delivered', () => {
    it('refuses loopback, private, link-local and metadata addresses, and allows public ones', () => {
        const policy = new WebhookAddressPolicy();
        for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.0.10', '169.254.169.254', '100.64.0.1', '::1', 'fd00:ec2::254', 'fe80::1', '::ffff:7f00:1']) {
            expect(policy.problemWith(address), address).to.be.a('string');
        }
        for (const address of ['8.8.8.8', '101.6.6.6', '2001:4860:4860::8888']) {
            expect(policy.problemWith(address), address).to.equal(undefined);
        }
    });

    it('allows the private ranges an administrator names, and only those', () => {
        const policy = new WebhookAddressPolicy(['10.20.0.0/16', 'fd12:3456::/32']);
        expect(policy.problemWith('10.20.7.1')).to.equal(undefined);
        expect(policy.problemWith('fd12:3456::1')).to.equal(undefined);
        expect(policy.problemWith('10.21.0.1')).to.match(/private address/);
        expect(() => new WebhookAddressPolicy(['10.20.0.0'])).to.throw(/not a CIDR range/);
    });

    it('fails a connection whose host name resolves to a refused address, however it resolved when subscribed', async () => {
        const policy = new WebhookAddressPolicy();
        const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
            policy.lookup('localhost', {}, (error) => resolve(error));
        });
        expect(failure?.code).to.equal('EADDRNOTALLOWED');
        expect(failure?.message).to.match(/loopback/);
    });
});
