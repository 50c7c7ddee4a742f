// The object the realistic routes serialise: 50 records like a list endpoint returns,
// about 10 KB of JSON. Built once; each request serialises it afresh, as an app would.
export const items = Array.from({ length: 50 }, (_, i) => ({
  id: 1000 + i,
  name: `item ${i}`,
  email: `user${i}@example.com`,
  active: i % 3 !== 0,
  score: Math.round(((i * 7919) % 1000) / 10) / 10,
  tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
  createdAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))).toISOString(),
  address: { city: 'Springfield', zip: String(10000 + i) },
}));

/** The 5 ms a request waits, as for a database or an upstream API. */
export const WAIT_MS = 5;
