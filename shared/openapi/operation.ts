// What a route module says about each of its routes so that the OpenAPI document can be generated from
// its zod schemas: the module that serves a route also describes it (its `*Operations` list), and
// shared/openapi/operations.ts only gathers the lists.
import { z } from 'zod';

export type ApiMethod = 'get' | 'post' | 'put' | 'delete';

export interface ApiResponse {
  description: string;
  /** The body's schema (JSON, unless contentType says otherwise); absent = no body described. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** Other media types of the same answer, as text (e.g. text/csv beside the JSON). */
  alternatives?: string[];
  /** Response header name → description. */
  headers?: Record<string, string>;
}

export interface ApiExample {
  /** Values of the path's `{name}` parameters. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** The status this example answers with (default: the lowest 2xx documented). */
  status?: number;
}

export interface ApiOperation {
  method: ApiMethod;
  /** OpenAPI path template, e.g. `/aggregates` or `/reports/{id}/download`. */
  path: string;
  /** The OpenFaaS function that serves it; also reachable at `/function/<function><path>` on the gateway. */
  function: string;
  /**
   * `api`: served on the batch-processing API port (9101) at `path`, mapped to the function by the runtime.
   * `gateway`: only at `/function/<function><path>` on the OpenFaaS gateway (ingest, the aggregation jobs).
   */
  served: 'api' | 'gateway';
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  query?: z.ZodObject;
  /** Path parameters: one string schema per `{name}` of the path. */
  params?: z.ZodObject;
  /** Request headers the operation reads (beyond Authorization and Content-Type), by their name. */
  headers?: z.ZodObject;
  body?: { schema: z.ZodType; contentType?: string; required?: boolean; description?: string };
  /**
   * Some call of the operation requires `Authorization: Bearer <api.token>` when a token is configured (and
   * documents the 401); when not every call does, the description says which.
   */
  auth?: boolean;
  responses: Record<number, ApiResponse>;
  /** Requests the contract test (test/e2e/openapi-contract.test.ts) sends; none = it only checks the route exists. */
  examples?: ApiExample[];
}

/** The body of every error answer (templates/node20-ts/errors.ts). */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'a code of docs/errors.md, e.g. REQUEST_INVALID' }),
      message: z.string().meta({ description: 'what was wrong, the value, and the fix' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ title: 'Error' });

export const errorResponse = (description: string): ApiResponse => ({ description, schema: ErrorBodySchema });

/** The 400 every route with a query or a body can answer. */
export const BAD_REQUEST = errorResponse(
  'the query or body failed validation (REQUEST_INVALID); the message says which field',
);
export const UNAUTHORIZED = errorResponse(
  'a token is configured and the request has no valid Authorization: Bearer header',
);
