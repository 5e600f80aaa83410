/**
 * Reads a large result a page at a time in key order (keyset paging): `page` fetches up to `size`
 * rows after the given one (from the start when none), ordered by the key it compares. Stops after
 * a short page.
 */
export async function* keysetPages<Row>(size: number, page: (after: Row | undefined) => Promise<Row[]>): AsyncGenerator<Row[]> {
    let after: Row | undefined;
    for (;;) {
        const rows = await page(after);
        yield rows;
        after = rows.at(-1);
        if (!after || rows.length < size) {
            return;
        }
    }
}
