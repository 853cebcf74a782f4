/** The characters bash gives no meaning to outside quotes, as a regular expression's class body. */
export const PLAIN_CHARACTERS = 'A-Za-z0-9_./:=@%+,-';
const PLAIN_WORD = new RegExp(`^[${PLAIN_CHARACTERS}]+$`);

/** Single-quoted for a POSIX shell: read back as exactly `text`. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A word bash reads back unchanged: as it is when it needs no quotes, single-quoted otherwise. */
export function shellWord(text: string): string {
  return PLAIN_WORD.test(text) ? text : shellQuote(text);
}
