import { isSecretKey } from './_schema.ts';

/** `sk-...abcd`: enough to tell two keys apart, not enough to use one. */
export function maskSecret(value: string): string {
  if (value.length < 12) return '***';
  const prefix = /^[a-z]{2,4}-/i.exec(value)?.[0] ?? value.slice(0, 3);
  return `${prefix}...${value.slice(-4)}`;
}

const MASK = '***';

/**
 * Query parameters whose values are credentials: `key`, `api_key`, `apiKey`, `access_token`,
 * `sig`, `X-Amz-Signature`, `password`, `auth`, `code`... (matched on the name's words).
 */
const CREDENTIAL_PARAM = /(^|[-_.]|(?<=[a-z])(?=[A-Z]))(key|apikey|token|secret|password|passwd|pwd|pass|sig|signature|auth|authorization|credential|credentials|session|code|jwt|bearer)s?($|[-_.A-Z])/i;

function isCredentialParam(name: string): boolean {
  return CREDENTIAL_PARAM.test(name) || /key$|token$|secret$/i.test(name);
}

/** Any scheme://authority URL inside text, up to whitespace, quotes or brackets. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`()[\]{}]+/gi;

/**
 * A URL with its user info and credential-looking query values replaced by `***`:
 * `https://bob:pw@host/v1?api-key=abc&x=1` → `https://***:***@host/v1?api-key=***&x=1`.
 * Text that is not a URL is masked the same way by pattern, never returned with a secret in it.
 */
export function maskUrl(url: string): string {
  const schemeEnd = url.indexOf('://');
  let result = url;
  // User info ends at the last `@` before the query; a password holding `/` still counts as one.
  const authorityStart = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  const beforeQuery = url.slice(authorityStart).search(/[?#]/);
  const head = beforeQuery < 0 ? url.slice(authorityStart) : url.slice(authorityStart, authorityStart + beforeQuery);
  const at = head.lastIndexOf('@');
  if (at >= 0 && (schemeEnd >= 0 || !head.slice(0, at).includes('/'))) {
    const masked = head.slice(0, at).includes(':') ? `${MASK}:${MASK}` : MASK;
    result = `${url.slice(0, authorityStart)}${masked}${url.slice(authorityStart + at)}`;
  }
  return result.replace(/([?&;])([^=&#;\s]+)=([^&#;\s]*)/g, (whole, sep: string, name: string, value: string) =>
    isCredentialParam(safeDecode(name)) && value !== '' ? `${sep}${name}=${MASK}` : whole);
}

/** Every URL inside free text (an error message, a log line) with its credentials masked. */
export function maskUrlsIn(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => maskUrl(url));
}

/** The credentials a URL carries (user, password, credential query values), for redacting free text. */
export function urlSecrets(url: string): string[] {
  const secrets: string[] = [];
  try {
    const parsed = new URL(url);
    for (const part of [parsed.username, parsed.password]) {
      if (part) secrets.push(part, safeDecode(part));
    }
    for (const [name, value] of parsed.searchParams) if (value && isCredentialParam(name)) secrets.push(value, encodeURIComponent(value));
  } catch {
    // Not a URL: nothing it could carry.
  }
  return [...new Set(secrets)].filter((s) => s.length >= 4);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A string value that is a URL (`base_url`, `embedding_base_url`, ...) and must not carry credentials out. */
function looksLikeUrl(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim());
}

/** A copy with every secret key removed and every URL's credentials masked, for anything that is stored or exported. */
export function withoutSecrets<T extends Record<string, unknown>>(settings: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(settings).filter(([key]) => !isSecretKey(key)).map(([key, value]) => [key, looksLikeUrl(value) ? maskUrl(value) : value]),
  ) as Partial<T>;
}

/** A copy with every secret key and every URL's credentials masked, for anything that is printed. */
export function withMaskedSecrets<T extends Record<string, unknown>>(settings: T): T {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [
      key,
      isSecretKey(key) && typeof value === 'string' ? maskSecret(value) : looksLikeUrl(value) ? maskUrl(value) : value,
    ]),
  ) as T;
}

/** The secret values of a config's settings: its keys and whatever its URLs carry. */
export function secretValues(settings: Record<string, unknown>): string[] {
  const secrets: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value !== 'string') continue;
    if (isSecretKey(key)) secrets.push(value);
    else if (looksLikeUrl(value)) secrets.push(...urlSecrets(value));
  }
  return secrets;
}

/**
 * Replaces every known secret value inside free text (error messages from providers, logs), and
 * masks the credentials of any URL the text quotes.
 */
export function redact(text: string, secrets: Iterable<string>): string {
  let result = maskUrlsIn(text);
  for (const secret of secrets) {
    if (secret && secret.length >= 4) result = result.split(secret).join(maskSecret(secret));
  }
  return result;
}
