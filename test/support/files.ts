import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file under `dir` whose name ends with `suffix`, leaving out folders named in `skip`. */
export function filesUnder(dir: string, suffix: string, skip: readonly string[] = []): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return skip.includes(entry.name) ? [] : filesUnder(path, suffix, skip);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}
