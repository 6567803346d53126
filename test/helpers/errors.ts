// Assertion for assert.throws/rejects: a one-line StyleloomError with the given code and message pattern.
import assert from 'node:assert/strict';
import { StyleloomError } from '../../src/errors.js';

export function isErr(code: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StyleloomError, `expected StyleloomError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'));
    return true;
  };
}
