/**
 * The console shows Slack's shortcodes as emoji: every shortcode meshops writes into a message (its
 * text lives in src/slack and src/handlers) has its emoji in the console's table, and the page carries it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emoji } from '../../src/console/emoji.js';
import { consolePage } from '../../src/console/page.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('console: emoji shortcodes', () => {
  const written = new Set(
    ['src/slack', 'src/handlers']
      .flatMap(sources)
      .flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/:([a-z][a-z0-9_]*):/g)].map((m) => m[1] ?? ''),
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
