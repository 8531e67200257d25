// PostgreSQL's float8 → numeric conversion, and exact sums of its results, in Node.
//
// PostgreSQL converts a float8 to numeric by printing it with 15 significant digits (`%.*g` with DBL_DIG)
// and reading that text back: 0.1 → 0.1, 1e-05 → 0.00001 (display scale 5), 1.5e20 → 150000000000000000000.
// PostgreSQL 15 and PGlite give the same digits, and an exact tie (a value whose exact binary expansion ends
// in a 5 at the 16th digit) is rounded half to even — 1234567890123445 → 1234567890123440 — where
// Number#toPrecision rounds half away from zero. float8Decimal() gives the same digits as PostgreSQL, ExactSum
// adds them exactly with the display scale PostgreSQL's numeric sum would have (the largest scale of the
// values added; a product's scale is the sum of its factors' scales), and Float8Sums keeps both sums of a
// metric (test/integration/aggregate-range-node.test.ts holds them to PostgreSQL's, value by value).

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MIN_NORMAL = 2.2250738585072014e-308;
const POW10: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * The smallest k in 1..15 such that x is the float8 nearest to round(x·10^k)·10^−k, a decimal of at most 15
 * significant digits; 0 when there is none. Such a decimal is what %.15g prints for x: 15-digit decimals
 * round-trip through float8, and x is normal here. m / 10^k is correctly rounded, so it equals x exactly when
 * m·10^−k reads back as x; with k the smallest, m has no trailing zero (m/10 would have done at k − 1).
 * Found by scaling, without printing x.
 */
function shortScale(x: number): number {
  const magnitude = x < 0 ? -x : x;
  if (magnitude < 1e-15 || magnitude >= 1e14) return 0;
  for (let k = 1; k <= 15; k++) {
    const scale = POW10[k] as number;
    const m = Math.round(x * scale);
    if (m >= 1e15 || m <= -1e15) return 0;
    if (m / scale === x) return k;
  }
  return 0;
}

/**
 * `x::numeric` as [mantissa, exponent]: value = mantissa × 10^exponent, the mantissa an integer of at most 15
 * digits with no trailing zero (for non-integers), so max(0, −exponent) is the numeric's display scale.
 * `x` must be finite.
 */
export function float8Decimal(x: number): [number, number] {
  // Integers below 10^15 print exactly, without exponent: display scale 0.
  if (Number.isInteger(x) && x < 1e15 && x > -1e15) return [x === 0 ? 0 : x, 0];
  const k = shortScale(x);
  if (k > 0) return [Math.round(x * (POW10[k] as number)), -k];
  // The shortest decimal that reads back as a normal x (String(x)), when it has at most 15 significant digits,
  // is what %.15g prints: x lies within half an ulp of it, and 15-digit decimals are further apart than that
  // (not so for subnormals, whose ulp is coarser).
  if ((x >= MIN_NORMAL || x <= -MIN_NORMAL) && shortDecimal(String(x))) {
    return [x < 0 ? -shortMantissa : shortMantissa, shortExponent];
  }
  const rounded = x.toPrecision(15);
  const parsed = parseDigits(rounded);
  const t16 = x.toPrecision(16);
  const e = t16.indexOf('e');
  if ((e < 0 ? t16.charCodeAt(t16.length - 1) : t16.charCodeAt(e - 1)) !== 0x35) return stripped(parsed);
  // Possibly a tie: only if x is exactly the 16-digit decimal, whose last digit is 5.
  const [digits16, exp16] = parseDigitString(t16);
  if (!exactlyEquals(x, digits16, exp16)) return stripped(parsed);
  const head = digits16.slice(0, -1);
  const lastHead = head.charCodeAt(head.length - 1) - 0x30;
  if (lastHead % 2 !== 0) return stripped(parsed); // half to even rounds up here, as toPrecision did
  const sign = x < 0 ? -1 : 1;
  return stripped([sign * Number(head), exp16 + 1]);
}

let shortMantissa = 0;
let shortExponent = 0;

/**
 * Reads a String(x) text (digits, an optional point, an optional e±exponent; its sign ignored) into
 * shortMantissa × 10^shortExponent without allocating, trailing zeros dropped; false when it has more than 15
 * significant digits. Called for every metric value of every stored row.
 */
function shortDecimal(text: string): boolean {
  let mantissa = 0;
  let digits = 0;
  let zeros = 0; // significant zeros not yet added: dropped if nothing follows them
  let exponent = 0;
  let afterPoint = false;
  let i = text.charCodeAt(0) === 0x2d ? 1 : 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      afterPoint = true;
      continue;
    }
    if (c === 0x65) {
      exponent += Number(text.slice(i + 1));
      break;
    }
    const d = c - 0x30;
    if (afterPoint) exponent -= 1;
    if (d === 0) {
      if (digits > 0) zeros += 1;
      continue;
    }
    digits += zeros + 1;
    if (digits > 15) return false;
    mantissa = mantissa * POW10[zeros + 1]! + d;
    zeros = 0;
  }
  shortMantissa = mantissa;
  shortExponent = exponent + zeros;
  return true;
}

/** Digits (no sign, no dot, leading zeros dropped) and exponent of a toPrecision() string. */
function parseDigitString(text: string): [string, number] {
  const body = text.charCodeAt(0) === 0x2d ? text.slice(1) : text;
  const e = body.indexOf('e');
  const mantissa = e < 0 ? body : body.slice(0, e);
  let exponent = e < 0 ? 0 : Number(body.slice(e + 1));
  const dot = mantissa.indexOf('.');
  let digits = mantissa;
  if (dot >= 0) {
    digits = mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    exponent -= mantissa.length - dot - 1;
  }
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 0x30) start++;
  return [digits.slice(start), exponent];
}

function parseDigits(text: string): [number, number] {
  const [digits, exponent] = parseDigitString(text);
  const m = Number(digits);
  return [text.charCodeAt(0) === 0x2d ? -m : m, exponent];
}

function stripped([m, e]: [number, number]): [number, number] {
  if (m === 0) return [0, 0];
  while (m % 10 === 0) {
    m /= 10;
    e += 1;
  }
  return [m, e];
}

/** True when the finite double x is exactly ±digits × 10^exponent. */
function exactlyEquals(x: number, digits: string, exponent: number): boolean {
  // x = n / 2^k exactly (doubling is exact for a non-integer double, which is below 2^53).
  let y = Math.abs(x);
  let k = 0;
  while (!Number.isInteger(y)) {
    y *= 2;
    k += 1;
  }
  const n = BigInt(y);
  const d = BigInt(digits);
  // n / 2^k == d · 10^exponent
  return exponent >= 0
    ? n === d * 10n ** BigInt(exponent) * 2n ** BigInt(k)
    : n * 10n ** BigInt(-exponent) === d * 2n ** BigInt(k);
}

/** An exact decimal sum: (small + big) / 10^scale, `small` kept a safe integer, `big` taking what would not fit. */
export class ExactSum {
  private scale = 0;
  private small = 0;
  private big = 0n;

  /** Adds mantissa × 10^exponent (mantissa a safe integer). */
  add(mantissa: number, exponent: number): void {
    if (exponent < -this.scale) this.rescale(-exponent);
    const k = exponent + this.scale;
    if (k < POW10.length) {
      const term = k === 0 ? mantissa : mantissa * (POW10[k] as number);
      if (Number.isSafeInteger(term) && Math.abs(this.small) + Math.abs(term) <= MAX_SAFE) {
        this.small += term;
        return;
      }
    }
    this.big += BigInt(mantissa) * 10n ** BigInt(k);
  }

  /** Adds (mantissa × 10^exponent)², exactly. */
  addSquare(mantissa: number, exponent: number): void {
    const square = mantissa * mantissa;
    if (Number.isSafeInteger(square)) {
      this.add(square, 2 * exponent);
      return;
    }
    if (2 * exponent < -this.scale) this.rescale(-2 * exponent);
    const m = BigInt(mantissa);
    this.big += m * m * 10n ** BigInt(2 * exponent + this.scale);
  }

  /** Back to an empty sum (for reuse). */
  reset(): void {
    this.scale = 0;
    this.small = 0;
    this.big = 0n;
  }

  /** Adds another sum: its value, exactly, and its display scale (the larger of the two is kept). */
  merge(other: ExactSum): void {
    if (other.scale > this.scale) this.rescale(other.scale);
    const by = this.scale - other.scale;
    if (other.small !== 0) this.add(other.small, -other.scale);
    if (other.big !== 0n) this.big += other.big * 10n ** BigInt(by);
  }

  private rescale(scale: number): void {
    const by = scale - this.scale;
    if (this.big === 0n && by < POW10.length && Number.isSafeInteger(this.small * (POW10[by] as number))) {
      this.small *= POW10[by] as number;
    } else {
      this.big = (this.big + BigInt(this.small)) * 10n ** BigInt(by);
      this.small = 0;
    }
    this.scale = scale;
  }

  /** The sum as numeric text, with the display scale PostgreSQL's sum() of the same numerics has. */
  toString(): string {
    if (this.big === 0n && this.scale === 0) return String(this.small === 0 ? 0 : this.small);
    let negative: boolean;
    let digits: string;
    if (this.big === 0n) {
      // the common case: no BigInt
      negative = this.small < 0;
      digits = String(negative ? -this.small : this.small);
    } else {
      const total = this.big + BigInt(this.small);
      negative = total < 0n;
      digits = (negative ? -total : total).toString();
    }
    if (this.scale === 0) return (negative ? '-' : '') + digits;
    if (digits.length <= this.scale) digits = '0'.repeat(this.scale - digits.length + 1) + digits;
    const point = digits.length - this.scale;
    return (negative ? '-' : '') + digits.slice(0, point) + '.' + digits.slice(point);
  }
}

/**
 * The exact sum of value::numeric and of its square over float8 values, as PostgreSQL's sum(x::numeric) and
 * sum(x::numeric * x::numeric) compute them (values must be finite). Whole numbers and short decimals, what
 * metrics mostly are, are split without allocating.
 */
export class Float8Sums {
  readonly sum = new ExactSum();
  readonly squares = new ExactSum();

  add(x: number): void {
    let mantissa: number;
    let exponent = 0;
    if (Number.isInteger(x) && x < 1e15 && x > -1e15) {
      mantissa = x === 0 ? 0 : x;
    } else {
      const k = shortScale(x);
      if (k > 0) {
        mantissa = Math.round(x * (POW10[k] as number));
        exponent = -k;
      } else {
        [mantissa, exponent] = float8Decimal(x);
      }
    }
    this.sum.add(mantissa, exponent);
    this.squares.addSquare(mantissa, exponent);
  }

  merge(other: Float8Sums): void {
    this.sum.merge(other.sum);
    this.squares.merge(other.squares);
  }
}
