import base from './jest.config.js';

/** The web console in headless Chromium (/usr/bin/chromium, Debian's package). */
export default { ...base, testMatch: ['<rootDir>/test/browser/**/*.test.ts'] };
