import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Picks the PostgreSQL server and builds the migrated template (test/helpers/global-setup.ts).
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Separate processes: a test that starts or kills postgres children cannot upset its neighbours.
    pool: 'forks',
    testTimeout: 30_000,
    // beforeAll may start a server or clone a database.
    hookTimeout: 60_000,
    // The default reporter ends with the "Tests  N passed | N skipped (N)" line that .ci/run reads.
    reporters: ['default'],
  },
});
