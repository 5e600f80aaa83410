import { createRequire } from 'node:module';
import { join } from 'node:path';
import express, { type Express, type Request } from 'express';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Whether a request comes from this machine and names this machine: its peer is a loopback
 * address, and its Host (and Origin, when a page sent it) is a loopback name with the hub's own
 * port. A page from elsewhere that rebinds its name to 127.0.0.1 reaches the hub from this
 * machine, but under its own name: it is turned away.
 */
function fromThisMachine(request: Request): boolean {
    if (!LOOPBACK.has(request.socket.remoteAddress ?? '')) {
        return false;
    }
    const hosts = new Set(LOOPBACK_NAMES.map((name) => `${name}:${request.socket.localPort ?? ''}`));
    const origin = request.get('origin');
    let originHost: string | undefined;
    try {
        originHost = origin === undefined ? undefined : new URL(origin).host;
    } catch {
        return false;
    }
    return hosts.has(request.get('host') ?? '') && (originHost === undefined || hosts.has(originHost));
}

/** A persona the console offers to sign in as (only while simulated agencies run). */
export interface ConsolePersona {
    readonly label: string;
    readonly token: string;
}

/**
 * Serves the web console at `/console/`: its page and stylesheet from the source folder, its
 * compiled modules from `dist/console`. Nothing is fetched from elsewhere at run time.
 */
export function mountConsole(app: Express, personas?: () => Promise<ConsolePersona[]>): void {
    const root = join(__dirname, '..', '..', '..');
    const files = { maxAge: 0, index: 'index.html', fallthrough: true } as const;
    app.get('/', (_request, response) => response.redirect(302, '/console/'));
    if (personas) {
        // Ready-made tokens are a convenience of the demonstration on one's own machine: they are
        // handed only to callers on this machine, whatever address the hub listens on.
        app.get('/console/personas.json', (request, response, next) => {
            if (!fromThisMachine(request)) {
                next();
                return;
            }
            personas().then((list) => response.setHeader('Cache-Control', 'no-store').json(list), next);
        });
    }
    const font = createRequire(__filename).resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');
    app.get('/console/fonts/NotoSansSC.ttf', (_request, response) => response.setHeader('Cache-Control', 'public, max-age=86400').sendFile(font));
    // Apache ECharts draws the console's charts: served from the npm package, never fetched from elsewhere.
    const charts = createRequire(__filename).resolve('echarts/dist/echarts.min.js');
    app.get('/console/vendor/echarts.min.js', (_request, response) => response.setHeader('Cache-Control', 'public, max-age=86400').type('text/javascript').sendFile(charts));
    app.use('/console', express.static(join(root, 'gateway', 'console', 'static'), files), express.static(join(root, 'dist', 'console'), files));
}
