/**
 * Header names as clients write them (`Host`, `host`, `HOST`): compared without a lower-cased
 * copy, since these checks run on every request. For the raw header list node:http keeps
 * (`req.rawHeaders`: name, value, name, …), which it turns into `req.headers` only when that
 * is first read.
 */

/**
 * Whether `name` is `lower` (a lower-case header name) in any case. ASCII only: setting bit
 * 0x20 folds a letter to lower case and leaves `-` and digits as they are; the other bytes
 * it could fold onto them are not allowed in a header name (llhttp refuses them).
 */
export function isHeader(name: string, lower: string): boolean {
  const n = lower.length;
  if (name.length !== n) return false;
  if (name === lower) return true;
  for (let i = 0; i < n; i++) {
    if ((name.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The first value of header `lower` in a raw header list, or undefined. */
export function rawHeader(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (isHeader(raw[i] as string, lower)) return raw[i + 1];
  }
  return undefined;
}
