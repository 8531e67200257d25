// Dropping a throwaway database (a test's, a benchmark size's). DROP … WITH (FORCE) terminates the sessions
// still on it, but a role without superuser may not terminate an autovacuum worker that has just started
// on a freshly written database ("must be a member of the role whose process is being terminated",
// 42501). Such a worker ends within moments, so the drop is tried again for up to ten seconds.
import { errorCode } from './errors.ts';

const RETRY_MS = 200;
const ATTEMPTS = 50;

/** `run` sends one statement on a connection to another database of the same server. */
export async function dropDatabaseForce(run: (sql: string) => Promise<unknown>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (err) {
      if (errorCode(err) !== '42501' || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}
