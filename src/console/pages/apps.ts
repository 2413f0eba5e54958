// Placeholder until the page is written.
import type { ConsolePage } from '../index.ts';

export const appsPage: ConsolePage = () => {};
