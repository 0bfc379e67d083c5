/** Seed 000's runbook with the real gcloud and kubectl against the sim (`npm run test:clients`, run by .ci/run). */
import base from './jest.config.js';

export default { ...base, testMatch: ['<rootDir>/test/clients/**/*.test.ts'], testTimeout: 300_000 };
