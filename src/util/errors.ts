/**
 * An error whose message is written for the person running Tollgate (bad configuration, an unreachable database,
 * a taken slug): the CLI prints the message alone, never a stack trace.
 */
export class UserFacingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
