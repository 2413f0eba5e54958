// Channels Paycenter speaks and the payment methods each supports; the first is the default.
// The API schema and the pay use case both read this one table.
export const CHANNEL_METHODS = {
  wechatpay: ['native'],
  alipay: ['qr', 'page'],
  unionpay: ['gateway'],
} as const satisfies Record<string, readonly string[]>;

export type ChannelName = keyof typeof CHANNEL_METHODS;
export const CHANNEL_NAMES = Object.keys(CHANNEL_METHODS) as ChannelName[];
export const PAYMENT_METHODS = [...new Set(Object.values(CHANNEL_METHODS).flat())];

export function methodsOf(channel: string): readonly string[] {
  return (CHANNEL_METHODS as Record<string, readonly string[]>)[channel] ?? [];
}

/** Methods whose cashier sends the buyer's browser back (Alipay `return_url`, UnionPay `frontUrl`). */
const REDIRECT_METHODS: readonly string[] = ['alipay:page', 'unionpay:gateway'];

export function takesReturnUrl(channel: string, method: string): boolean {
  return REDIRECT_METHODS.includes(`${channel}:${method}`);
}

/** UnionPay's frontUrl field holds at most 256 characters; Alipay's return_url allows more. */
export const RETURN_URL_CHARS_MAX = 256;

/** Why a return URL is refused, or null: an absolute http(s) URL the channels can carry. */
export function returnUrlProblem(url: string): string | null {
  if (url.length > RETURN_URL_CHARS_MAX) return `returnUrl must be at most ${RETURN_URL_CHARS_MAX} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'returnUrl must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'returnUrl must be an http or https URL';
  if (parsed.username || parsed.password) return 'returnUrl must not carry a user name or password';
  return null;
}
