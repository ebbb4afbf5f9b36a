/**
 * Removes credentials from text that may reach a log or an error message: userinfo in URLs
 * (`smtp://user:pass@host` → `smtp://user:***@host`), and `key=value` pairs whose name says secret.
 */
export function redact(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(:[^\s/@]*)?@/gi, (_m, scheme: string, user: string, pass?: string) =>
      pass ? `${scheme}${user}:***@` : `${scheme}***@`)
    .replace(/\b(pass(?:word)?|secret|token|api[_-]?key|key|accessToken|refreshToken|clientSecret)(["']?\s*[=:]\s*["']?)([^\s&"',}]+)/gi,
      (_m, name: string, sep: string) => `${name}${sep}***`);
}
