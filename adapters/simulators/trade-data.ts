import { usccCheckCharacter } from '@counterfoil/chaincode';

/** A small seeded generator (mulberry32): the same seed gives the same trade, run after run. */
export class Random {
    private state: number;

    constructor(seed: number) {
        this.state = seed >>> 0;
    }

    next(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0;
        let value = this.state;
        value = Math.imul(value ^ (value >>> 15), value | 1);
        value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
        return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
    }

    integer(min: number, max: number): number {
        return min + Math.floor(this.next() * (max - min + 1));
    }

    pick<T>(list: readonly T[]): T {
        return list[Math.floor(this.next() * list.length)] as T;
    }
}

/** Customs districts (关区) with their 4-digit codes and the administrative division of the city. */
export const PORTS = [
    { code: '2201', name: '上海海关', division: '310000' },
    { code: '5300', name: '广州海关', division: '440100' },
    { code: '4200', name: '天津海关', division: '120000' },
    { code: '3501', name: '福州海关', division: '350100' },
    { code: '5100', name: '深圳海关', division: '440300' },
    { code: '0100', name: '北京海关', division: '110000' },
] as const;

/** Goods an export licence typically covers: 10-digit tariff codes, units, usual lot sizes. */
export const GOODS = [
    { hsCode: '7208510000', name: '热轧钢板', unit: 'TNE', lot: [50, 800] },
    { hsCode: '2603000010', name: '铜矿砂', unit: 'TNE', lot: [100, 2000], bulk: true },
    { hsCode: '1201900000', name: '大豆', unit: 'TNE', lot: [200, 3000], bulk: true },
    { hsCode: '2818200000', name: '氧化铝', unit: 'TNE', lot: [20, 500] },
    { hsCode: '8112921000', name: '未锻轧锑', unit: 'KGM', lot: [500, 20_000] },
    { hsCode: '2805301100', name: '稀土金属', unit: 'KGM', lot: [100, 5_000] },
] as const;

const CITY = ['上海', '广州', '天津', '福建', '深圳', '北京', '宁波', '青岛'];
const WORD = ['远洋', '恒通', '华信', '金桥', '瑞丰', '东方', '联合', '新海'];
const TRADE = ['贸易', '进出口', '实业', '国际物流', '矿产'];

export interface Enterprise {
    readonly uscc: string;
    readonly name: string;
}

/** Realistic, valid identifiers and names, deterministic from the seed. */
export class TradeData {
    readonly random: Random;
    private serial = 0;
    private licences = 0;

    /** `firstSerial`: declaration and licence serials start after it (a generator continuing another's numbering). */
    constructor(seed: number, firstSerial = 0) {
        this.random = new Random(seed);
        this.serial = firstSerial;
        this.licences = firstSerial;
    }

    enterprise(): Enterprise {
        const port = this.random.pick(PORTS);
        const organisation = String(this.random.integer(10_000_000, 99_999_999));
        const body = `91${port.division}${organisation}${this.random.pick(['X', 'A', 'M', '1', '5'])}`;
        return {
            uscc: body + usccCheckCharacter(body),
            name: `${this.random.pick(CITY)}${this.random.pick(WORD)}${this.random.pick(TRADE)}有限公司`,
        };
    }

    /** 18 digits: the customs district, the year, then a serial. */
    declarationNumber(port: string): string {
        return `${port}2026${String(++this.serial).padStart(10, '0')}`;
    }

    /** `26-AA-123456`: a series, then six digits that never repeat within one generator (up to 900,000 licences). */
    licenceNumber(): string {
        // 7919 is prime to 900,000, so stepping by it visits every six-digit number once.
        const digits = 100_000 + ((++this.licences * 7919) % 900_000);
        return `26-${this.random.pick(['AA', 'AB', 'CC', 'JL'])}-${digits}`;
    }
}
