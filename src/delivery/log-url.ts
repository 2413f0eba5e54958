// Broker URLs often carry a user and password (amqp://user:secret@host); logs must not.

// The user info: everything up to the last '@' before the path, after an optional scheme.
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i;

/** `url` without its credentials; when an '@' is left anywhere, nothing of it is logged. */
export function urlForLog(url: string): string {
  const stripped = url.replace(USER_INFO, '$1');
  return stripped.includes('@') ? '[url with credentials]' : stripped;
}
