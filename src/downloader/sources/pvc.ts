// pvc://CLAIM/PATH: the claim is mounted into the pod at /CLAIM (the ModelBooster controller mounts the cache claim
// there), so the model is a directory tree to copy. `root` stands in for `/` where the mount lives elsewhere.
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RemoteFile, SourceDriver } from '../driver.js';
import { DownloadError } from '../errors.js';

export function pvcDriver(uri: string, path: string, root: string): SourceDriver {
  const base = join(root, path);
  return {
    async list(): Promise<RemoteFile[]> {
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(base);
      } catch {
        throw new DownloadError(
          'NotFound',
          `${uri}: ${base} does not exist (is the claim mounted at ${join(root, path.split('/')[1])}?)`,
        );
      }
      if (st.isFile()) return [{ path: path.split('/').pop() ?? 'model', size: st.size }];
      const out: RemoteFile[] = [];
      const walk = async (rel: string) => {
        for (const e of await readdir(join(base, rel), { withFileTypes: true })) {
          const r = rel ? `${rel}/${e.name}` : e.name;
          if (e.isDirectory()) await walk(r);
          else if (e.isFile()) out.push({ path: r, size: (await stat(join(base, r))).size });
        }
      };
      await walk('');
      return out;
    },
    async save(file, dest) {
      const src = (await stat(base)).isFile() ? base : join(base, file.path);
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(src, dest);
      return (await stat(dest)).size;
    },
  };
}
