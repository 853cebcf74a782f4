// The single error type for anything the user typed wrong on the command line.

export class ArgError extends Error {
  constructor(message, option) {
    super(message);
    this.name = 'ArgError';
    this.option = option;
  }
}
