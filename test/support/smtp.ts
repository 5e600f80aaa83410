import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a local port: it keeps every mail it takes, or refuses them all while `refusing`. */
export class Inbox {
    readonly mails: ParsedMail[] = [];
    refusing = false;
    private readonly server = new SMTPServer({
        authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
        onData: (stream, _session, done) => {
            if (this.refusing) {
                stream.resume();
                stream.on('end', () => done(Object.assign(new Error('mailbox busy, try later'), { responseCode: 451 })));
                return;
            }
            simpleParser(stream).then((mail) => {
                this.mails.push(mail);
                done();
            }, done);
        },
    });

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
        return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
    }

    to(address: string): ParsedMail[] {
        return this.mails.filter((mail) => JSON.stringify(mail.to).includes(address));
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

