// The process-log flags every long-running subcommand takes, and the one logger they build from them.
// stdout stays the command's own output (banners, the access log); process logs go to stderr, as JSON lines for
// machines or pretty lines for people (the default on a terminal).
import { type Command, InvalidArgumentError, Option } from 'commander';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogOptions {
  logFormat?: LogFormat;
  logLevel?: LogLevel;
}

function oneOf<T extends string>(flag: string, allowed: readonly T[], aliases: Record<string, T> = {}) {
  return (v: string): T => {
    const lower = v.toLowerCase();
    const x = (aliases[lower] ?? lower) as T;
    if (!allowed.includes(x)) throw new InvalidArgumentError(`${flag} must be one of ${allowed.join(', ')}`);
    return x;
  };
}

export const parseLogFormat = oneOf('--log-format', LOG_FORMATS);
// Python's names too: SGLang's command lines (run through engine-sim) say `--log-level warning`.
export const parseLogLevel = oneOf('--log-level', LOG_LEVELS, { warning: 'warn', critical: 'fatal' });

/** Adds --log-format and --log-level (env LOG_FORMAT / LOG_LEVEL when the flag is absent). */
export function addLogOptions(cmd: Command, defaultLevel: LogLevel = 'info'): Command {
  return cmd
    .addOption(
      new Option(
        '--log-format <format>',
        'process logs on stderr: json or pretty (default: pretty on a terminal, else json)',
      )
        .env('LOG_FORMAT')
        .argParser(parseLogFormat),
    )
    .addOption(
      new Option('--log-level <level>', `least severe process log written: ${LOG_LEVELS.join('|')}`)
        .env('LOG_LEVEL')
        .argParser(parseLogLevel)
        .default(defaultLevel),
    );
}

/** The format when none was asked for: people read a terminal, everything else reads JSON. */
export function defaultLogFormat(stderrIsTTY: boolean | undefined): LogFormat {
  return stderrIsTTY ? 'pretty' : 'json';
}

/** The logger of one process, writing synchronously to stderr so nothing is lost on exit. */
export function createLogger(o: LogOptions, name?: string): Logger {
  const format = o.logFormat ?? defaultLogFormat(process.stderr.isTTY);
  const base = { level: o.logLevel ?? 'info', ...(name ? { name } : {}) };
  if (format === 'json') return pino(base, pino.destination({ fd: 2, sync: true }));
  return pino(
    base,
    pretty({
      destination: 2,
      sync: true,
      colorize: Boolean(process.stderr.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    }),
  );
}
