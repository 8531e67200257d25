// Exact sums of PostgreSQL numeric values carried as text (aggregate_state.sum), so an archive's figures can
// be compared with the database's to the last digit.

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

export class DecimalSum {
  #units = 0n;
  #scale = 0;

  /** Adds a plain decimal such as "-12.500" (numeric's text form; no exponent). */
  add(text: string): void {
    const m = DECIMAL.exec(text);
    if (!m) throw new RangeError(`"${text}" is not a plain decimal number`);
    const fraction = m[3] ?? '';
    let units = BigInt(`${m[2]}${fraction}`);
    if (m[1]) units = -units;
    if (fraction.length > this.#scale) {
      this.#units *= 10n ** BigInt(fraction.length - this.#scale);
      this.#scale = fraction.length;
    } else {
      units *= 10n ** BigInt(this.#scale - fraction.length);
    }
    this.#units += units;
  }

  toString(): string {
    return normalizeDecimal(scaled(this.#units, this.#scale));
  }
}

function scaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** The shortest text of a decimal: no trailing fraction zeros, no "-0". */
export function normalizeDecimal(text: string): string {
  let out = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  if (/^-0*$/.test(out) || out === '') out = '0';
  return out;
}
