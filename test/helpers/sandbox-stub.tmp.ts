// TEMPORARY stand-in for src/sandbox/index.ts while it is being written. Delete when it lands.
import type pg from 'pg';
export async function migrateSandbox(_pool: pg.Pool): Promise<void> {}
