// Adds `"stream_options":{"include_usage":true}` to a raw JSON object body without parsing and re-serialising it.
// Re-serialising costs time proportional to the prompt (≈40 µs for a 16 KB body) on the path before the request
// reaches the engine, and rewrites the client's bytes (number forms such as 1.0, integers beyond 2^53, escapes).
// Splicing before the closing brace keeps every byte the client sent and the key order JSON.stringify would give.

const CLOSE = 0x7d; // }
const OPEN = 0x7b; // {
const SPLICE = Buffer.from('"stream_options":{"include_usage":true}');
const COMMA = Buffer.from(',');

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * `raw` must be the bytes of a JSON object already parsed successfully, with no top-level `stream_options` key.
 * Returns the spliced body, or undefined when the bytes do not end the way a parsed object must (the caller then
 * falls back to re-serialising).
 */
export function spliceIncludeUsage(raw: Buffer, objectHasKeys: boolean): Buffer | undefined {
  let end = raw.length - 1;
  while (end >= 0 && isJsonSpace(raw[end])) end--;
  if (end < 0 || raw[end] !== CLOSE) return undefined;
  if (!objectHasKeys) {
    // `{ }`: no comma; the byte before the brace (after spaces) must be the opening brace.
    let k = end - 1;
    while (k >= 0 && isJsonSpace(raw[k])) k--;
    if (k < 0 || raw[k] !== OPEN) return undefined;
    return Buffer.concat([raw.subarray(0, end), SPLICE, raw.subarray(end)]);
  }
  return Buffer.concat([raw.subarray(0, end), COMMA, SPLICE, raw.subarray(end)]);
}
