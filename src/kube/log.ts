// The logging surface src/kube needs; a pino Logger satisfies it. The default is silent so library users decide.

export interface KubeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: KubeLogger = { debug: noop, info: noop, warn: noop, error: noop };
