// parseRetryAfter: the two forms RFC 9110 allows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRetryAfter } from "../src/index.js";

test("Retry-After in whole seconds", () => {
  assert.equal(parseRetryAfter("1"), 1);
  assert.equal(parseRetryAfter(" 120 "), 120);
  assert.equal(parseRetryAfter("0"), 0);
});

test("Retry-After as an HTTP date counts from now, never below 0", () => {
  const now = Date.parse("Wed, 02 Dec 2026 16:00:00 GMT");
  assert.equal(parseRetryAfter("Wed, 02 Dec 2026 16:00:07 GMT", now), 7);
  assert.equal(parseRetryAfter("Wed, 02 Dec 2026 15:59:00 GMT", now), 0);
});

test("no, an empty or an unreadable Retry-After is null", () => {
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter(""), null);
  assert.equal(parseRetryAfter("soon"), null);
  assert.equal(parseRetryAfter("-1"), null);
});
