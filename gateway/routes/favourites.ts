import { ownerOf } from '../auth/principal';
import type { RouteSpec } from '../openapi/api';
import type { Services } from '../services';

export const MAX_FAVOURITES = 30;


/** 收藏夹: each principal pins the console pages and filters it uses often, wherever it signs in. */
export function favouriteRoutes(services: Services): RouteSpec[] {
    return [
        {
            method: 'get', path: '/v1/favourites', tag: 'Console', summary: 'The caller\'s pinned pages and filters, in its order',
            responses: { 200: { description: 'The favourites', schema: 'Favourites' } },
            handler: async ({ principal }) => {
                const { rows: [row] } = await services.pool.query<{ items: unknown[] }>('SELECT items FROM favourites WHERE owner = $1::text', [ownerOf(principal)]);
                return { status: 200, body: { items: row?.items ?? [] } };
            },
        },
        {
            method: 'put', path: '/v1/favourites', tag: 'Console', body: 'Favourites', summary: `Replace the caller's pinned pages and filters (at most ${MAX_FAVOURITES})`,
            responses: { 200: { description: 'The favourites', schema: 'Favourites' } },
            handler: async ({ principal, body }) => {
                const { items } = body as { items: { label: string; target: string }[] };
                await services.pool.query(
                    `INSERT INTO favourites (owner, items, updated_at) VALUES ($1::text, $2::jsonb, now())
                     ON CONFLICT (owner) DO UPDATE SET items = EXCLUDED.items, updated_at = now()`, [ownerOf(principal), JSON.stringify(items)]);
                return { status: 200, body: { items } };
            },
        },
    ];
}
