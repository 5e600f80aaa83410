import type { Pool } from 'pg';
import type { AdapterConfig } from '../config';
import { type Faults, SimulatedAgencySystem } from './agency-system';
import { EXPORT_FLOW_AGENCIES, ExportFlow, exportFlowAdapters, type FlowAgency } from './scenario';

/** The simulated agencies' adapters are named `sim-<agency>`. */
export const SIMULATOR_PREFIX = 'sim-';

/** Occasional faults, as real systems have them: lost and damaged deliveries, duplicated records, rejections. */
const FAULTS: Readonly<Record<FlowAgency, Faults>> = {
    commerce: { duplicatePercent: 1 }, inspection: { duplicatePercent: 1 }, customs: { duplicatePercent: 2 },
    tax: { corruptPercent: 3, rejectPercent: 5 }, forex: { dropPercent: 5, rejectPercent: 2 },
};

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
        const systems = Object.fromEntries(EXPORT_FLOW_AGENCIES.map((agency) => [agency.name, new SimulatedAgencySystem(agency.organisation, seed, FAULTS[agency.name])])) as Record<FlowAgency, SimulatedAgencySystem>;
        const adapters = await exportFlowAdapters(systems, { schedule: '*/2 * * * * *', maxDeliveryAttempts: 3, maxRetransmissions: 2, prefix: SIMULATOR_PREFIX });
        // Serials from the clock (seconds since 2026), well apart from any earlier run's.
        const firstSerial = Math.floor((Date.now() - Date.UTC(2026, 0, 1)) / 1000);
        const flow = new ExportFlow(systems, { seed, enterprises: 12, firstSerial });
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

    async stop(): Promise<void> {
        clearInterval(this.timer);
        await Promise.all(Object.values(this.systems).map((system) => system.stop()));
    }
}
