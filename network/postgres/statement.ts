import type { PoolClient } from 'pg';

/**
 * One SQL statement built from many data-modifying parts (each a WITH query), with its
 * parameters: the parts are atomic together without a transaction of their own, and cost a single
 * round trip. Every part sees the database as it was before the statement.
 */
export class Statement {
    private readonly parts: string[] = [];
    private readonly values: unknown[] = [];

    /** A parameter placeholder with its explicit cast. */
    value(value: unknown, type: string): string {
        this.values.push(value);
        return `$${this.values.length}::${type}`;
    }

    /** Adds a part; returns its name, for a later part to read what it RETURNs. */
    part(sql: string): string {
        const name = `change${this.parts.length}`;
        this.parts.push(`${name} AS (${sql})`);
        return name;
    }

    /** `unnest(...)` of the given columns, each an array parameter of its type (`text` for `text[]`). */
    unnest(columns: readonly unknown[][], types: readonly string[]): string {
        return `unnest(${types.map((type, index) => this.value(columns[index] ?? [], `${type}[]`)).join(', ')})`;
    }

    get empty(): boolean {
        return this.parts.length === 0;
    }

    async run(queryable: Pick<PoolClient, 'query'>, last = 'SELECT 1'): Promise<void> {
        await queryable.query(`WITH ${this.parts.join(',\n')}\n${last}`, this.values);
    }
}
