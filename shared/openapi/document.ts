// The OpenAPI 3.1 document of the port-9101 API and the functions, generated from the route modules' zod
// schemas with zod's own JSON Schema output (draft 2020-12, which is OpenAPI 3.1's dialect): request
// schemas as they are sent (io: input), answers as they are produced (io: output).
import { z } from 'zod';
import type { ApiOperation, ApiResponse } from './operation.ts';

export interface DocumentOptions {
  /** Base URL of the batch-processing API (api.port). */
  apiUrl: string;
  /** Base URL of the OpenFaaS gateway (openfaas.gatewayUrl). */
  gatewayUrl: string;
  version: string;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(op: ApiOperation): object[] {
  const list: object[] = [];
  for (const [where, schema] of [
    ['path', op.params],
    ['query', op.query],
    ['header', op.headers],
  ] as const) {
    if (!schema) continue;
    const object = jsonSchema(schema, 'input');
    const properties = (object.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((object.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...rest } = property;
      list.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(description === undefined ? {} : { description }),
        schema: rest,
      });
    }
  }
  return list;
}

function response(r: ApiResponse): object {
  const out: Record<string, unknown> = { description: r.description };
  const content: Record<string, object> = {};
  if (r.schema) content[r.contentType ?? 'application/json'] = { schema: jsonSchema(r.schema, 'output') };
  else if (r.contentType) content[r.contentType] = { schema: { type: 'string' } };
  for (const type of r.alternatives ?? []) content[type] = { schema: { type: 'string' } };
  if (Object.keys(content).length > 0) out.content = content;
  if (r.headers) {
    out.headers = Object.fromEntries(
      Object.entries(r.headers).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
  }
  return out;
}

/** Where an operation is on the wire: its API path, or its gateway path for gateway-only functions. */
export function wirePath(op: ApiOperation): string {
  if (op.served === 'api') return op.path;
  return `/function/${op.function}${op.path === '/' ? '' : op.path}`;
}

export function buildOpenApiDocument(operations: readonly ApiOperation[], options: DocumentOptions): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = wirePath(op);
    const item = (paths[path] ??= {});
    if (op.served === 'gateway') {
      item.servers = [{ url: options.gatewayUrl, description: 'the OpenFaaS gateway (functions)' }];
    }
    if (item[op.method]) throw new Error(`OpenAPI: ${op.method.toUpperCase()} ${path} is described twice`);
    item[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      'x-openfaas-function': op.function,
      ...(parameters(op).length > 0 ? { parameters: parameters(op) } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: op.body.required ?? true,
              ...(op.body.description ? { description: op.body.description } : {}),
              content: {
                [op.body.contentType ?? 'application/json']: { schema: jsonSchema(op.body.schema, 'input') },
              },
            },
          }
        : {}),
      ...(op.auth ? { security: [{ apiToken: [] }, {}] } : {}),
      responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, response(r)])),
    };
  }
  const tags = [...new Set(operations.flatMap((o) => o.tags))].sort().map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'hxp-batch',
      version: options.version,
      description:
        'The batch-processing API (port 9101) and the OpenFaaS functions behind it. Every API path is also ' +
        'served by its function on the gateway at /function/<function><path> (x-openfaas-function names it); ' +
        'paths under /function/ are only there. Generated from the zod schemas of the routes.',
    },
    servers: [{ url: options.apiUrl, description: 'the batch-processing API' }],
    tags,
    paths,
    components: {
      securitySchemes: {
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'api.token (BATCH_PROCESSING_API_TOKEN); only required when one is configured',
        },
      },
    },
  };
}
