// `kthena download --source URI --output-dir DIR`: the ModelBooster downloader (upstream's init-container arguments),
// for hf://, ms://, s3:// (obs://) and pvc:// model URIs. Credentials and endpoints come from the environment, as the
// controller passes them: HF_ENDPOINT, HF_TOKEN, MS_TOKEN, MS_REVISION, ENDPOINT, ACCESS_KEY, SECRET_KEY.
import type { Command } from 'commander';
import { download } from '../downloader/index.js';
import { intArg } from './args.js';

interface DownloadCliOptions {
  source: string;
  outputDir: string;
  maxWorkers: number;
  pvcRoot: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('download')
    .description('download a model (hf://, ms://, s3://, obs://, pvc://) into a cache directory, once, atomically')
    .requiredOption('--source <uri>', 'model URI, as ModelBooster spec.backend.modelURI')
    .requiredOption('--output-dir <dir>', 'where the model files go (created by an atomic rename when complete)')
    .option('--max-workers <n>', 'files fetched at once', intArg('--max-workers', 1, 64), 4)
    .option('--pvc-root <dir>', 'where pvc:// claims are mounted', '/')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (o: DownloadCliOptions) => {
      const r = await download({
        source: o.source,
        outputDir: o.outputDir,
        maxWorkers: o.maxWorkers,
        pvcRoot: o.pvcRoot,
        log: o.quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
      });
      const what = `${r.files} file${r.files === 1 ? '' : 's'}, ${r.bytes} bytes`;
      process.stdout.write(
        r.status === 'already-complete'
          ? `${o.outputDir} already holds ${o.source} (${what}): nothing to do\n`
          : `downloaded ${o.source} to ${o.outputDir} (${what})\n`,
      );
    });
}
