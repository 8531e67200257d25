// prom-client metrics made from catalogue entries, so a metric's name, HELP, labels and buckets are written
// once. Asking twice for the same metric on one registry gives the same object (modules that are imported
// twice, or two handles on one registry, never register a name twice).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricDefinition } from './catalogue.ts';

type Def<L extends string> = MetricDefinition & { readonly labelNames: readonly L[] };

function existing<T>(registry: Registry, def: MetricDefinition, type: string): T | undefined {
  const found = registry.getSingleMetric(def.name);
  if (found === undefined) return undefined;
  const kind = (found as unknown as { type: string }).type;
  if (kind !== type) {
    throw new Error(`metric ${def.name} is already registered as a ${kind}, not a ${type}`);
  }
  return found as T;
}

function assertType(def: MetricDefinition, type: MetricDefinition['type']): void {
  if (def.type !== type)
    throw new Error(`metric ${def.name} is a ${def.type} in the catalogue, not a ${type}`);
}

export function counterOf<L extends string>(def: Def<L>, registry: Registry): Counter<L> {
  assertType(def, 'counter');
  return (
    existing<Counter<L>>(registry, def, 'counter') ??
    new Counter<L>({ name: def.name, help: def.help, labelNames: def.labelNames, registers: [registry] })
  );
}

export function gaugeOf<L extends string>(def: Def<L>, registry: Registry): Gauge<L> {
  assertType(def, 'gauge');
  return (
    existing<Gauge<L>>(registry, def, 'gauge') ??
    new Gauge<L>({ name: def.name, help: def.help, labelNames: def.labelNames, registers: [registry] })
  );
}

export function histogramOf<L extends string>(def: Def<L>, registry: Registry): Histogram<L> {
  assertType(def, 'histogram');
  return (
    existing<Histogram<L>>(registry, def, 'histogram') ??
    new Histogram<L>({
      name: def.name,
      help: def.help,
      labelNames: def.labelNames,
      buckets: [...(def.buckets ?? [])],
      registers: [registry],
    })
  );
}
