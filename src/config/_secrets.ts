import { isSecretKey } from './_schema.ts';

/** `sk-...abcd`: enough to tell two keys apart, not enough to use one. */
export function maskSecret(value: string): string {
  if (value.length < 12) return '***';
  const prefix = /^[a-z]{2,4}-/i.exec(value)?.[0] ?? value.slice(0, 3);
  return `${prefix}...${value.slice(-4)}`;
}

/** A copy with every secret key removed, for anything that is stored or exported. */
export function withoutSecrets<T extends Record<string, unknown>>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([key]) => !isSecretKey(key))) as Partial<T>;
}

/** A copy with every secret key masked, for anything that is printed. */
export function withMaskedSecrets<T extends Record<string, unknown>>(settings: T): T {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, isSecretKey(key) && typeof value === 'string' ? maskSecret(value) : value]),
  ) as T;
}

/** Replaces every known secret value inside free text (error messages from providers, logs). */
export function redact(text: string, secrets: Iterable<string>): string {
  let result = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) result = result.split(secret).join(maskSecret(secret));
  }
  return result;
}
