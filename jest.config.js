/** Tests are ESM TypeScript; `npm test` type-checks everything with tsc first, so ts-jest only transpiles. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // test/browser needs Chromium, which a fresh machine lacks: `npm run test:browser` (and .ci/run) runs it.
  testMatch: ['<rootDir>/test/{unit,integration,e2e,sim,security,reliability}/**/*.test.ts'],
  // The crash trials take minutes: `npm run test:reliability`.
  testPathIgnorePatterns: ['/node_modules/', '\\.slow\\.test\\.ts$'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  testTimeout: 60000,
};
