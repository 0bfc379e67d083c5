/**
 * The console shows Slack's shortcodes as emoji: every shortcode meshops writes into a message (its
 * text lives in src/slack and src/handlers) has its emoji in the console's table, and the page carries it.
 */
import { readFileSync } from 'node:fs';
import { emoji } from '../../src/console/emoji.js';
import { consolePage } from '../../src/console/page.js';
import { filesUnder } from '../support/files.js';

describe('console: emoji shortcodes', () => {
  const written = new Set(
    ['src/slack', 'src/handlers']
      .flatMap((dir) => filesUnder(dir, '.ts'))
      .flatMap((file) =>
        // A shortcode stands apart: `approval:renewed:HASH` is a key, not an emoji.
        [...readFileSync(file, 'utf8').matchAll(/(?<!\w):([a-z][a-z0-9_]*):/g)].map((m) => m[1] ?? ''),
      ),
  );

  it('finds the shortcodes meshops writes', () => {
    expect(written).toContain('white_check_mark');
    expect(written).toContain('satellite_antenna');
    expect(written.size).toBeGreaterThan(30);
  });

  it('has an emoji for every one of them, and the page carries the table', () => {
    expect([...written].filter((name) => !emoji[name])).toEqual([]);
    for (const [name, glyph] of Object.entries(emoji)) expect(consolePage).toContain(`"${name}":"${glyph}"`);
  });
});
