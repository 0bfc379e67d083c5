import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON logs; anything that looks like a credential is redacted wherever it appears. */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'meshops' },
    redact: {
      paths: [
        'token',
        '*.token',
        '*.accessToken',
        '*.botToken',
        '*.signingSecret',
        '*.appToken',
        'headers.authorization',
        '*.headers.authorization',
        'config.slack',
        'config.google.accessToken',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
