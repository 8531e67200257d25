// ObjectStore on a local folder (the embedded default). A put writes a temporary file in the target's
// folder, syncs it, and renames it into place, so a reader never sees half an object and a crash leaves
// at most a `.tmp-*` file that list() ignores. Checksums are computed from the bytes on disk. A folder that
// cannot be written (a deployed function's read-only root, no permission, a file in its path) is
// ARCHIVE_NOT_WRITABLE, whose message says what to set instead; assertWritable() finds it before any work.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { BatchError } from '../errors/index.ts';
import { checkedKey, checkedPrefix } from './keys.ts';
import type { ObjectStore, StoredObject } from './object-store.ts';

const TEMP_MARK = '.tmp-';

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** errno codes of a folder that cannot be written: read-only file system, no permission, a file in the way. */
const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST']);

/** ARCHIVE_NOT_WRITABLE for `err` when it says the folder cannot be written, else `err` itself. */
function notWritable(root: string, err: unknown): unknown {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (errno === undefined || !NOT_WRITABLE.has(errno)) return err;
  return new BatchError(
    'ARCHIVE_NOT_WRITABLE',
    `the local archive folder ${root} cannot be written (${errno}): without S3_BUCKET reports and archives ` +
      "are stored there, and a deployed function's root file system is read-only. Set S3_BUCKET (with " +
      'S3_ENDPOINT, S3_REGION, … and the secrets s3-access-key-id / s3-secret-access-key) to store them in a ' +
      'bucket, or mount a writable volume at BATCH_PROCESSING_ARCHIVAL_PATH that every function reading the ' +
      'archive shares',
    { context: { path: root, errno }, cause: err },
  );
}

export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly location: string;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  #path(key: string): string {
    return join(this.root, ...checkedKey(key).split('/'));
  }

  #notFound(key: string): BatchError {
    return new BatchError('NOT_FOUND', `no object ${key} in ${this.location}`, { context: { key } });
  }

  /**
   * Creates the folder and writes and removes a probe file (a `.tmp-*` name, which list() ignores):
   * ARCHIVE_NOT_WRITABLE now rather than at the first report or archive.
   */
  async assertWritable(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      const probe = join(this.root, `${TEMP_MARK}probe-${randomBytes(6).toString('hex')}`);
      await (await open(probe, 'w')).close();
      await rm(probe, { force: true });
    } catch (err) {
      throw notWritable(this.root, err);
    }
  }

  async put(key: string, body: Uint8Array) {
    const target = this.#path(key);
    const temp = `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    const file = await mkdir(dirname(target), { recursive: true })
      .then(() => open(temp, 'w'))
      .catch((err: unknown) => {
        throw notWritable(this.root, err);
      });
    try {
      await file.writeFile(body);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
    return { key, size: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') };
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.#path(key));
    } catch (err) {
      if (isMissing(err)) throw this.#notFound(key);
      throw err;
    }
  }

  async stream(key: string): Promise<Readable> {
    // open first, so a missing file is NOT_FOUND here rather than an 'error' event mid-response;
    // the stream closes the handle when it ends or is destroyed
    const handle = await open(this.#path(key), 'r').catch((err: unknown) => {
      throw isMissing(err) ? this.#notFound(key) : err;
    });
    return handle.createReadStream();
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const path = this.#path(key);
    try {
      const info = await stat(path);
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      return { key, size: info.size, sha256: hash.digest('hex'), lastModified: info.mtime };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    checkedPrefix(prefix);
    // walk from the deepest whole folder of the prefix, then filter by the full prefix
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = folder === '' ? this.root : join(this.root, ...folder.split('/'));
    const found: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.includes(TEMP_MARK)) {
          const key = relative(this.root, path).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const info = await stat(path);
          found.push({ key, size: info.size, lastModified: info.mtime });
        }
      }
    };
    await walk(start);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await rm(this.#path(key), { force: true }).catch((err: unknown) => {
        throw notWritable(this.root, err);
      });
    }
  }

  /** A local folder has no URL a mail reader could fetch; callers link the download route instead. */
  async presign(): Promise<undefined> {
    return undefined;
  }
}
