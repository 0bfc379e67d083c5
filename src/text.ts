/** The first `max` items and a count of the rest: lists that must stay within a message. */
export function listed(items: string[], max = 20): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
