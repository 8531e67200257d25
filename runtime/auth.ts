// Basic auth on /system/* as the OpenFaaS gateway does it: credentials from BASIC_AUTH_USER /
// BASIC_AUTH_PASSWORD, or from the files basic-auth-user / basic-auth-password in SECRET_MOUNT_PATH.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sameSecret } from '../shared/auth/index.ts';

export interface BasicCredentials {
  user: string;
  password: string;
}

export function basicAuthFromEnv(env: NodeJS.ProcessEnv = process.env): BasicCredentials | undefined {
  if (env.BASIC_AUTH_USER && env.BASIC_AUTH_PASSWORD) {
    return { user: env.BASIC_AUTH_USER, password: env.BASIC_AUTH_PASSWORD };
  }
  const dir = env.SECRET_MOUNT_PATH;
  if (dir && existsSync(join(dir, 'basic-auth-user')) && existsSync(join(dir, 'basic-auth-password'))) {
    return {
      user: readFileSync(join(dir, 'basic-auth-user'), 'utf8').trim(),
      password: readFileSync(join(dir, 'basic-auth-password'), 'utf8').trim(),
    };
  }
  return undefined;
}

/** true when no credentials are configured or the Authorization header carries the right ones. */
export function authorized(header: string | undefined, creds: BasicCredentials | undefined): boolean {
  if (!creds) return true;
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return (
    sameSecret(decoded.slice(0, colon), creds.user) && sameSecret(decoded.slice(colon + 1), creds.password)
  );
}
