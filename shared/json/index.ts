export { JSON_LIMITS, jsonBreach } from './limits.ts';
export type { JsonBreach, JsonLimitName, JsonLimits } from './limits.ts';
export { describeBreach, parseJsonText, withinJsonLimits } from './parse.ts';
export { fieldPath } from './path.ts';
