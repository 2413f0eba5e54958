// Every console page, registered in this order under /console.
import type { ConsolePage } from '../index.ts';
import { dashboardPage } from './dashboard.ts';
import { ordersPage } from './orders.ts';
import { orderPage } from './order.ts';
import { eventsPage } from './events.ts';
import { notificationsPage } from './notifications.ts';
import { reconciliationsPage } from './reconciliations.ts';
import { appsPage } from './apps.ts';
import { operatorsPage } from './operators.ts';
import { settingsPage } from './settings.ts';

export const CONSOLE_PAGES: ConsolePage[] = [
  dashboardPage,
  ordersPage,
  orderPage,
  eventsPage,
  notificationsPage,
  reconciliationsPage,
  appsPage,
  operatorsPage,
  settingsPage,
];
