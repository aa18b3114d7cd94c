// Marker/MaxItems paging over a list held in memory: the marker is the opaque (base64url) id of the
// last item of the previous page, as AWS's markers are opaque strings.
import { errors } from '../shared/errors.js';

export interface Page<T> {
  readonly items: T[];
  /** Present when more items follow. */
  readonly nextMarker: string | undefined;
}

export function pageOf<T>(all: readonly T[], marker: string | undefined, maxItems: number, idOf: (item: T) => string): Page<T> {
  let start = 0;
  if (marker !== undefined) {
    const after = Buffer.from(marker, 'base64url').toString('utf8');
    const i = all.findIndex((item) => idOf(item) === after);
    if (i < 0) throw errors.invalidParameter(`Invalid marker: ${marker}`);
    start = i + 1;
  }
  const items = all.slice(start, start + maxItems);
  const last = items[items.length - 1];
  const more = start + maxItems < all.length;
  return { items, nextMarker: more && last !== undefined ? Buffer.from(idOf(last)).toString('base64url') : undefined };
}
