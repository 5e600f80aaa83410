import type { Migration } from '../../../network/postgres';

/** Each principal's pinned console pages and filters (收藏夹), in its own order. */
export const favourites: Migration = {
    id: 7,
    name: 'favourites',
    sql: `
CREATE TABLE favourites (
    owner      text PRIMARY KEY,
    items      jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
`,
};
