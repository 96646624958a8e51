/**
 * Checks on an archive before and after it is unpacked into the NM's cache: entry names that escape
 * the directory, hard links and special files (refused), symlinks whose target leaves the unpacked tree
 * (refused), and the unpacked size (declared in the listing, then measured) over a cap — a 2 MB
 * archive must not become 2 GiB on every node. After the walk every file and directory is readable by
 * others and writable by no one but the NM. Pure checks over listings plus one walk; no processes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';

export interface ListedEntry {
  /** the mode's first character: - file, d dir, l symlink, h hard link (tar), anything else special */
  type: string;
  size: number;
  name: string;
}

export interface ArchiveWhat {
  link: string;
  maxBytes: number;
}

const MODE = /^([-dlhbcpsD?])[-rwxsStT]{9}\s/;

/** `tar -tvzf --numeric-owner` lines: MODE UID/GID SIZE DATE TIME NAME. */
export function parseTarListing(text: string): ListedEntry[] {
  return text
    .split('\n')
    .filter((l) => MODE.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      return { type: l[0]!, size: Number(f[2]), name: f.slice(5).join(' ') };
    });
}

/** `unzip -Z -l` lines: MODE VERSION OS SIZE TX CSIZE METHOD DATE TIME NAME. */
export function parseZipListing(text: string): ListedEntry[] {
  return text
    .split('\n')
    .filter((l) => MODE.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      return { type: l[0]!, size: Number(f[3]), name: f.slice(9).join(' ') };
    });
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function tooLarge(what: ArchiveWhat, bytes: number): CinderError {
  return new CinderError(
    'ARCHIVE_TOO_LARGE',
    `archive ${what.link} unpacks to ${mib(bytes)} or more, over the NodeManager's limit of ${mib(what.maxBytes)} (maxUnpackedBytes)`,
    'ship a smaller archive, or ask the operator to raise maxUnpackedBytes',
  );
}

function linkError(what: ArchiveWhat, entry: string, detail: string): CinderError {
  return new CinderError(
    'ARCHIVE_LINK',
    `archive ${what.link} has ${detail}: ${JSON.stringify(entry)}`,
    'rebuild the archive without links that point outside it (use `tar --dereference` / `zip` without -y)',
  );
}

/** Refuses entry names (from the name-only listing) that escape the directory. */
export function checkNames(names: string[], what: ArchiveWhat): void {
  for (const e of names) {
    const n = path.posix.normalize(e);
    if (e.startsWith('/') || n === '..' || n.startsWith('../'))
      throw new CinderError(
        'ARCHIVE_ESCAPE',
        `archive ${what.link} has an entry escaping its directory: ${JSON.stringify(e)}`,
        'rebuild the archive with relative paths only',
      );
  }
}

/** Refuses hard links, special files and a declared size over the cap (from the verbose listing). */
export function checkListing(entries: ListedEntry[], what: ArchiveWhat): void {
  let total = 0;
  for (const e of entries) {
    if (e.type === 'h') throw linkError(what, e.name, 'a hard link entry (hard links are not allowed)');
    if (e.type !== '-' && e.type !== 'd' && e.type !== 'l')
      throw linkError(what, e.name, 'a special file entry (device, fifo or socket)');
    if (Number.isFinite(e.size)) total += e.size;
    if (total > what.maxBytes) throw tooLarge(what, total);
  }
}

/**
 * Walks an unpacked tree: symlinks must be relative and resolve inside it, special files and extra hard
 * links are refused, the total size must stay under the cap; modes become go-w, a+r (a+x for dirs).
 */
export function checkUnpacked(root: string, what: ArchiveWhat): void {
  let total = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir)) {
      const p = path.join(dir, e);
      const rel = path.relative(root, p);
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink()) {
        const target = fs.readlinkSync(p);
        const resolved = path.resolve(path.dirname(p), target);
        if (path.isAbsolute(target) || (resolved !== root && !resolved.startsWith(root + path.sep)))
          throw linkError(what, `${rel} -> ${target}`, 'a symbolic link pointing outside it');
      } else if (st.isDirectory()) {
        fs.chmodSync(p, 0o755);
        walk(p);
      } else if (st.isFile()) {
        if (st.nlink > 1) throw linkError(what, rel, 'a hard link (hard links are not allowed)');
        total += st.size;
        if (total > what.maxBytes) throw tooLarge(what, total);
        fs.chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
      } else throw linkError(what, rel, 'a special file (device, fifo or socket)');
    }
  };
  fs.chmodSync(root, 0o755);
  walk(root);
}
