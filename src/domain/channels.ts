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
