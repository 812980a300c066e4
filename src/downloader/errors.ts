// The downloader's error catalogue: a stable code per failure, and a message that names the source, the URL or the
// file, so a pod's init-container log says what to fix.
export type DownloadErrorCode =
  | 'BadSource'
  | 'BadOutputDir'
  | 'MissingCredentials'
  | 'Unauthorized'
  | 'NotFound'
  | 'RemoteError'
  | 'Unreachable'
  | 'BadListing'
  | 'UnsafePath'
  | 'Truncated';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
  ) {
    super(message);
  }
}
