// Every console page, registered in this order under /console.
import type { ConsolePage } from '../index.ts';
import { dashboardPage } from './dashboard.ts';

export const CONSOLE_PAGES: ConsolePage[] = [dashboardPage];
