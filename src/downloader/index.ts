// The model downloader behind `kthena download` (the ModelBooster's init container): hf://, ms://, s3:// (obs://)
// and pvc:// sources into a cache directory, once, atomically, under a lock shared by the pods on that cache.
export { type DownloadOptions, type DownloadResult, download, MARKER } from './download.js';
export type { Env } from './driver.js';
export { DownloadError, type DownloadErrorCode } from './errors.js';
export { type ModelSource, parseSource, SCHEMES } from './source.js';
