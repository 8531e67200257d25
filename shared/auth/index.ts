export { hasApiToken, requireApiToken } from './api-token.ts';
export { sameSecret } from './constant-time.ts';
