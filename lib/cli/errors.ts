// An error the CLI reports as one line (its message) with exit status 1; any other error is
// reported the same way, by its first line, since a stack trace tells a user nothing.
export class CliError extends Error {
  override name = 'CliError';
}

export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}
