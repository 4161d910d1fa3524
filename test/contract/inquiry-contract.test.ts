import { describe, test } from 'node:test';
import * as inquiry from '../../src/contract/inquiry.ts';
import { seededApp } from '../support/app.ts';
import { assertRegistered, openApi, type JsonOperation } from '../support/openapi.ts';
import { STORES } from '../support/stores.ts';

/** Every route of src/api/inquiry-routes.ts, with the contract it declares (the record views: record-views.test.ts). */
const OPERATIONS: readonly JsonOperation[] = [
  ['post', '/api/inquiries', 201, inquiry.ask],
  ['post', '/api/inquiries/batch', 200, inquiry.batch],
  ['post', '/api/inquiries/batch.csv', 200, inquiry.batchCsv],
  ['get', '/api/inquiries', 200, inquiry.list],
  ['get', '/api/inquiries/equal-treatment', 200, inquiry.equalTreatment],
  ['post', '/api/inquiries/direct', 201, inquiry.direct],
  ['get', '/api/inquiries/{id}', 200, inquiry.get],
  ['get', '/api/inquiries/{id}/answer', 200, inquiry.answer],
  ['post', '/api/inquiries/{id}/release', 200, inquiry.release],
  ['post', '/api/inquiries/{id}/ask-back', 200, inquiry.askBack],
  ['post', '/api/inquiries/{id}/refuse', 200, inquiry.refuse],
  ['post', '/api/inquiries/{id}/reply', 200, inquiry.reply],
  ['post', '/api/inquiries/{id}/withdraw', 200, inquiry.withdraw],
  ['get', '/api/notifications', 200, inquiry.notifications],
  ['post', '/api/notifications/read', 204, inquiry.notificationsRead],
];

for (const store of STORES) {
  describe(`the inquiry routes as the application registers them, on ${store.name}`, () => {
    const w = seededApp(store);
    test('/api/openapi.json shows the contract of every inquiry route: its body, query and response fields', async () => {
      assertRegistered(await openApi(w.app), new Set(['inquiries']), OPERATIONS);
    });
  });
}
