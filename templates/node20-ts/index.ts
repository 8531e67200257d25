// node20-ts template entry, run from source:
//
//   HANDLER_PATH=/abs/path/functions/ingest/handler.ts PORT=3000 HXP_FUNCTION_NAME=ingest \
//     node --import tsx templates/node20-ts/index.ts
//
// Env: HANDLER_PATH  absolute path (or path relative to this file) of the handler module;
//                    default ./function/handler.js (the layout of a faas-cli build context)
//      PORT          port on 127.0.0.1 (default 3000 = of-watchdog's upstream_url; 0 picks a free one)
//      HXP_FUNCTION_NAME  the function's name, bound to every log line as `fn`
//      MAX_REQUEST_BODY   body limit in bytes (default 1048576); larger answers 413 JSON
//      DRAIN_TIMEOUT_MS   how long SIGTERM waits for in-flight requests (default write_timeout, else 30 s)
//      fprocess/function_process + mode=http  set by of-watchdog's image: SIGTERM first keeps serving for
//                    healthcheck_interval (else write_timeout, else 30 s), the time the watchdog still routes here
//      LOG_LEVEL     pino level (default info), or logging.level of CONFIG_FILE: the configuration's log.level
// Ready signal: one JSON line on stdout with "msg":"listening" and "port":<n> (pino, so it also carries
// level/time/pid/hostname/fn). SIGTERM: stops accepting (under of-watchdog: after its grace), drains, runs
// the module's `close()`, exits 0.
//
// Handler: export default async (event, context) => value. event = {body, rawBody, headers, method, query,
// path}: body is parsed JSON when the content-type is JSON, else the UTF-8 text; rawBody is the Buffer.
// Returned objects are sent as JSON; strings as text/plain; Buffers as octet-stream. A throw answers
// {error:{code,message}} with the error's mapped status (500 unless a catalogued 4xx), never a stack.
// Built images do not use this file: scripts/build.ts and build.mjs bundle main.ts + the handler into index.js.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFunction } from './main.ts';
import type { HandlerModule } from './types.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const handlerPath = process.env.HANDLER_PATH || './function/handler.js';
const absolute = isAbsolute(handlerPath) ? handlerPath : resolve(here, handlerPath);

try {
  const module = (await import(pathToFileURL(absolute).href)) as HandlerModule;
  await startFunction(module);
} catch (err) {
  process.stderr.write(
    `${JSON.stringify({ level: 60, msg: 'failed to start', handlerPath: absolute, err: { message: (err as Error).message, stack: (err as Error).stack } })}\n`,
  );
  process.exit(1);
}
