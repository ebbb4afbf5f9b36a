import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  context?: string;
  message: string;
}

/**
 * Collects what the Nest `Logger`s write instead of printing it: give it to
 * `Test.createTestingModule(…).setLogger(logs)`. Lines are kept in order; `of(context)` picks one
 * logger's.
 */
export class NestLogs implements LoggerService {
  readonly lines: LogLine[] = [];

  of(context: string, level?: LogLine['level']): LogLine[] {
    return this.lines.filter((l) => l.context === context && (level === undefined || l.level === level));
  }

  log(message: unknown, context?: string): void { this.add('log', message, context); }
  error(message: unknown, _trace?: string, context?: string): void { this.add('error', message, context); }
  warn(message: unknown, context?: string): void { this.add('warn', message, context); }
  debug(message: unknown, context?: string): void { this.add('debug', message, context); }
  verbose(message: unknown, context?: string): void { this.add('verbose', message, context); }
  fatal(message: unknown, context?: string): void { this.add('fatal', message, context); }

  private add(level: LogLine['level'], message: unknown, context?: string): void {
    this.lines.push({ level, context, message: String(message) });
  }
}
