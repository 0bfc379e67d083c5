/** The slow reliability suites (`npm run test:reliability`, which .ci/run also runs): crash trials of a run and of a batch, a Slack outage. */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/reliability/**/*.slow.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 1_800_000,
};
