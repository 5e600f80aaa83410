import type { Pool } from 'pg';
import type { AdapterConfig } from '../config';
import { SimulatedAgencySystem } from './agency-system';
import { ExportFlow } from './scenario';

/** The simulated agencies' adapters are named `sim-<agency>`. */
export const SIMULATOR_PREFIX = 'sim-';

const AGENCIES = [
    // Occasional faults, as real systems have them: lost and damaged deliveries, duplicated records, rejections.
    { name: 'commerce', organisation: 'CommerceMSP', faults: { duplicatePercent: 1 }, sends: ['LICENCE'], receives: [] },
    { name: 'inspection', organisation: 'InspectionMSP', faults: { duplicatePercent: 1 }, sends: ['ORIGIN_CERT'], receives: [] },
    { name: 'customs', organisation: 'CustomsMSP', faults: { duplicatePercent: 2 }, sends: ['EXPORT_DECLARATION'], receives: ['LICENCE', 'ORIGIN_CERT'] },
    { name: 'tax', organisation: 'TaxMSP', faults: { corruptPercent: 3, rejectPercent: 5 }, sends: [], receives: ['EXPORT_DECLARATION'] },
    { name: 'forex', organisation: 'ForexMSP', faults: { dropPercent: 5, rejectPercent: 2 }, sends: [], receives: ['EXPORT_DECLARATION'] },
] as const;

/** Deadlines the simulated flow runs under, short enough that overdue transfers show within minutes. */
export const SIMULATED_DEADLINES = [
    { documentType: 'LICENCE', sender: 'CommerceMSP', recipient: 'CustomsMSP' },
    { documentType: 'ORIGIN_CERT', sender: 'InspectionMSP', recipient: 'CustomsMSP' },
    { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'TaxMSP' },
    { documentType: 'EXPORT_DECLARATION', sender: 'CustomsMSP', recipient: 'ForexMSP' },
].map((pair) => ({ ...pair, receiptSeconds: 60, acknowledgementSeconds: 180 }));

/**
 * Five simulated agency systems producing a steady, realistic export flow — a declaration every
 * few seconds, with occasional faults — and the adapters that connect them to the hub. Their
 * systems keep nothing across restarts, so their adapters start their feeds afresh each time
 * (`resetCursors`), and numbering continues from the clock so nothing repeats an earlier run's.
 */
export class SimulatedAgencies {
    private timer?: NodeJS.Timeout;

    private constructor(readonly systems: Readonly<Record<string, SimulatedAgencySystem>>, readonly adapters: readonly AdapterConfig[], private readonly flow: ExportFlow) {}

    static async start(options: Readonly<{ seed?: number }> = {}): Promise<SimulatedAgencies> {
        const seed = options.seed ?? Math.floor(Date.now() / 1000);
        const systems: Record<string, SimulatedAgencySystem> = {};
        const adapters: AdapterConfig[] = [];
        for (const agency of AGENCIES) {
            const system = new SimulatedAgencySystem(agency.organisation, seed, agency.faults);
            systems[agency.name] = system;
            adapters.push({
                name: `${SIMULATOR_PREFIX}${agency.name}`, organisation: agency.organisation, transport: 'http-feed', system: await system.start(),
                schedule: '*/2 * * * * *', mode: 'relay', sends: [...agency.sends], receives: [...agency.receives],
                maxDeliveryAttempts: 3, maxRetransmissions: 2, concurrency: 8,
            });
        }
        // Serials from the clock (seconds since 2026), well apart from any earlier run's.
        const firstSerial = Math.floor((Date.now() - Date.UTC(2026, 0, 1)) / 1000);
        const flow = new ExportFlow({ commerce: systems.commerce as SimulatedAgencySystem, inspection: systems.inspection as SimulatedAgencySystem, customs: systems.customs as SimulatedAgencySystem },
            { seed, enterprises: 12, firstSerial });
        return new SimulatedAgencies(systems, adapters, flow);
    }

    /** Forgets where the simulators' adapters were in feeds that no longer exist. */
    static async resetCursors(pool: Pool): Promise<void> {
        await pool.query('DELETE FROM adapter_cursors WHERE adapter LIKE $1::text', [`${SIMULATOR_PREFIX}%`]);
    }

    /** A declaration every `everyMs`, customs lodging it a few seconds after its licence. */
    run(everyMs = 3000): void {
        const next = (): void => {
            const now = Date.now();
            this.flow.next(now, now + 4000);
        };
        next();
        this.timer = setInterval(next, everyMs);
    }

    /** The exporter of the flow's first declaration (the one with most to trace from the start). */
    get exporter(): { uscc: string; name: string } {
        return this.flow.firstExporter ?? this.flow.enterprises[0] as { uscc: string; name: string };
    }

    get declarations(): number {
        return this.flow.declarations;
    }

    async stop(): Promise<void> {
        clearInterval(this.timer);
        await Promise.all(Object.values(this.systems).map((system) => system.stop()));
    }
}
