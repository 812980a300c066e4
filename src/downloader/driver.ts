// One interface for every source: list the files of the model, then save each one to a path.
export interface RemoteFile {
  /** Relative path inside the model (forward slashes). */
  path: string;
  /** Size in bytes when the listing says it; the saved file must match. */
  size?: number;
}

export interface SourceDriver {
  list(): Promise<RemoteFile[]>;
  save(file: RemoteFile, dest: string): Promise<number>;
}

export type Env = Record<string, string | undefined>;
