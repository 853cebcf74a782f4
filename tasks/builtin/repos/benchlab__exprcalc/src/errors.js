// Error types the library throws; both carry enough context to show the user.

export class ParseError extends Error {
  constructor(message, position) {
    super(`${message} at position ${position}`);
    this.name = 'ParseError';
    this.position = position;
  }
}

export class EvaluationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EvaluationError';
  }
}
