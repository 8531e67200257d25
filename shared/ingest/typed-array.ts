// Typed arrays that grow with what they index (CopyBuffer's row bounds, KeptRows' columns).

/** A copy of `from` with room for `size` entries. */
export function widened<T extends Float64Array | Int32Array | Uint8Array>(from: T, size: number): T {
  const to = new (from.constructor as new (size: number) => T)(size);
  to.set(from);
  return to;
}
